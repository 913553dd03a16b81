"""Transport: cross-region links encrypted, handshakes sound, public URL https (TLS-01, TLS-02, TLS-03)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from cutover.model import Target
from cutover.run.verification import NOT_APPLICABLE
from cutover.transport import policy as tls_policy
from cutover.transport import topology
from cutover.transport.tls import HostPort, handshake
from cutover.transport.topology import Link
from cutover_pytest.params import not_applicable, parametrize

LINKS_KEY = "transport.links"


def _links(session: Any) -> list[Link]:
    if LINKS_KEY not in session.cache:
        # S3 is asked only for a file-store region the target does not declare (a dead store blocks only that)
        s3 = None if session.target.regions.get("file_store") else session.s3
        session.cache[LINKS_KEY] = tls_policy.target_links(session.target, s3)
    links: list[Link] = session.cache[LINKS_KEY]
    return links


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    parametrize(metafunc, "link", lambda s: [(link.name, link) for link in _links(s)],
                not_applicable("no link between the declared components"))
    parametrize(metafunc, "tls_host", lambda s: [
        (h.label, h) for h in tls_policy.tls_hosts(_links(s), s.target.thresholds.timeout_s)],
        not_applicable("no link uses TLS: no handshake to judge (TLS-01 says whether one should)"))


@pytest.mark.criterion("TLS-01")
def test_cross_region_link_encrypted(target: Target, session: Any, link: Link,
                                     record_facts: Callable[..., None]) -> None:
    """A link whose ends are in different regions is configured for TLS (tls/ssl options, mongodb+srv or an
    https URL) and a live TLS handshake succeeds with each of its hosts; same-region plaintext is reported."""
    if link.tls_configured:
        session.reach.require_tls(link.hosts)
    facts = tls_policy.link_encryption(link, target.thresholds.timeout_s)
    record_facts(**facts.facts())
    assert not facts.problems, f"{link.name}: " + "; ".join(facts.problems)


@pytest.mark.criterion("TLS-01")
def test_file_store_region_agrees(target: Target, session: Any, record_facts: Callable[..., None]) -> None:
    """The file store's declared region is the bucket's region as S3 reports it (GetBucketLocation)."""
    agreement = topology.file_store_agreement(target, session.s3)
    if agreement is None:
        pytest.skip(NOT_APPLICABLE + "no S3 file store with a declared region")
    record_facts(bucket=agreement.bucket, declared=agreement.declared, actual=agreement.actual)
    assert agreement.agrees, (f"file store {agreement.bucket}: declared {agreement.declared}, "
                              f"S3 reports {agreement.actual or 'no such bucket'}")


@pytest.mark.criterion("TLS-02")
def test_tls_handshake_sound(target: Target, session: Any, tls_host: tls_policy.TlsHost,
                             record_facts: Callable[..., None]) -> None:
    """The handshake is sound: TLS 1.2 or newer, the chain verifies against the system store or the
    target's CA file, the host name matches, the certificate is valid for [30] more days; a production
    target's URI never sets tlsAllowInvalidCertificates, tlsAllowInvalidHostnames or tlsInsecure."""
    session.reach.require_tls([HostPort(tls_host.host, tls_host.port)])
    shake = handshake(tls_host.host, tls_host.port, target.thresholds.timeout_s, tls_host.ca_file)
    problems = tls_policy.host_problems(tls_host, shake, target.thresholds.cert_min_days, target.production)
    record_facts(link=tls_host.link, weakening_options=list(tls_host.weakening),
                 trust_anchors=tls_policy.trust_anchors(tls_host), **shake.facts(),
                 min_days=target.thresholds.cert_min_days, problems=list(problems))
    assert not problems, f"{tls_host.label}: " + "; ".join(problems)


@pytest.mark.criterion("TLS-03")
def test_public_url_https(target: Target, record_facts: Callable[..., None]) -> None:
    """A production target's public server URL is https (other targets: reported)."""
    url = topology.public_url(target)
    if not url:
        pytest.skip("the target declares no [parse] server: add [targets.NAME.parse] to check its public URL")
    https = tls_policy.public_url_is_https(url)
    record_facts(public_url_scheme=url.split("://")[0], production=target.production, https=https)
    assert https or not target.production, (f"public server URL {topology.url_host(url)} is "
                                            f"{url.split('://')[0]}, expected https on a production target")
