"""Transport: cross-region links encrypted, handshakes sound, public URL https (TLS-01, TLS-02, TLS-03)."""
from __future__ import annotations

from collections.abc import Callable

import pytest

from cutover.model import Target
from cutover.session import Session
from cutover.transport import Link, TlsHost, public_url_is_https, url_host
from cutover_pytest.params import NOT_APPLICABLE, not_applicable, parametrize


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    parametrize(metafunc, "link", lambda s: [(link.name, link) for link in s.transport.links()],
                not_applicable("no link between the declared components"))
    parametrize(metafunc, "tls_host", lambda s: [(h.label, h) for h in s.transport.tls_hosts()],
                not_applicable("no link uses TLS: no handshake to judge (TLS-01 says whether one should)"))


@pytest.mark.criterion("TLS-01")
def test_cross_region_link_encrypted(session: Session, link: Link, record_facts: Callable[..., None]) -> None:
    """A link whose ends are in different regions is configured for TLS (tls/ssl options, mongodb+srv or an
    https URL) and a live TLS handshake succeeds with each of its hosts; same-region plaintext is reported."""
    facts = session.transport.link_encryption(link)
    record_facts(**facts.facts())
    assert not facts.problems, f"{link.name}: " + "; ".join(facts.problems)


@pytest.mark.criterion("TLS-01")
def test_file_store_region_agrees(session: Session, record_facts: Callable[..., None]) -> None:
    """The file store's declared region is the bucket's region as S3 reports it (GetBucketLocation)."""
    agreement = session.transport.file_store_region()
    if agreement is None:
        pytest.skip(NOT_APPLICABLE + "no S3 file store with a declared region")
    record_facts(bucket=agreement.bucket, declared=agreement.declared, actual=agreement.actual)
    assert agreement.agrees, (f"file store {agreement.bucket}: declared {agreement.declared}, "
                              f"S3 reports {agreement.actual or 'no such bucket'}")


@pytest.mark.criterion("TLS-02")
def test_tls_handshake_sound(session: Session, tls_host: TlsHost, record_facts: Callable[..., None]) -> None:
    """The handshake is sound: TLS 1.2 or newer, the chain verifies against the system store or the
    target's CA file, the host name matches, the certificate is valid for [30] more days; a production
    target's URI never sets tlsAllowInvalidCertificates, tlsAllowInvalidHostnames or tlsInsecure."""
    sound = session.transport.soundness(tls_host)
    record_facts(link=tls_host.link, weakening_options=list(tls_host.weakening), trust_anchors=sound.trust_anchors,
                 **sound.handshake.facts(), min_days=session.target.thresholds.cert_min_days,
                 problems=list(sound.problems))
    assert not sound.problems, f"{tls_host.label}: " + "; ".join(sound.problems)


@pytest.mark.criterion("TLS-03")
def test_public_url_https(session: Session, target: Target, record_facts: Callable[..., None]) -> None:
    """A production target's public server URL is https (other targets: reported)."""
    url = session.transport.public_url()
    if not url:
        pytest.skip("the target declares no [parse] server: add [targets.NAME.parse] to check its public URL")
    https = public_url_is_https(url)
    record_facts(public_url_scheme=url.split("://")[0], production=target.production, https=https)
    assert https or not target.production, (f"public server URL {url_host(url)} is "
                                            f"{url.split('://')[0]}, expected https on a production target")
