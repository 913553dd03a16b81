"""Transport policy: which links must be encrypted, which problems count where (TLS-01/02/03)."""
from __future__ import annotations

from cutover.transport.policy import LinkEncryption, TlsHost, host_problems, link_encryption, public_url_is_https
from cutover.transport.tls import Handshake, HostPort
from cutover.transport.topology import Link, Region

EU, US = Region("aws", "eu-west-1"), Region("gcp", "us-central1")
SOUND = Handshake("db", 27017, True, version="TLSv1.3", verified=True, hostname_matches=True, days_left=200)


def link(dst_region: Region | None, tls: bool, how: str = "tls=true") -> Link:
    return Link("app_server", "database", EU, dst_region, tls, how, (HostPort("db", 27017),))


def test_same_region_plaintext_is_reported_not_failed() -> None:
    facts = LinkEncryption(link(EU, False, "no tls/ssl option (plaintext)"))
    assert facts.problems == []
    assert facts.note == "same region (aws:eu-west-1 -> aws:eu-west-1): plaintext (reported, not failed)"
    assert facts.facts()["crosses"] is False


def test_crossing_plaintext_fails_naming_regions_and_configuration() -> None:
    facts = link_encryption(link(US, False, "no tls/ssl option (plaintext)"), 1)   # no network: not configured
    assert facts.problems == ["crosses regions (aws:eu-west-1 -> gcp:us-central1) but is not configured for TLS: "
                              "no tls/ssl option (plaintext)"]


def test_crossing_tls_link_fails_when_a_host_has_no_handshake() -> None:
    failed = Handshake("db2", 27017, False, error="WRONG_VERSION_NUMBER (SSL)")
    facts = LinkEncryption(link(US, True), (SOUND, failed))
    assert facts.problems == ["db2:27017: no TLS handshake (WRONG_VERSION_NUMBER (SSL))"]


def test_undeclared_region_must_be_encrypted() -> None:
    assert LinkEncryption(link(None, False)).problems


def test_weakening_options_fail_on_production_only() -> None:
    host = TlsHost("app_server->database", "db", 27017, weakening=("tlsInsecure",))
    assert host_problems(host, SOUND, 30, production=False) == []
    assert host_problems(host, SOUND, 30, production=True) == ["the URI sets tlsInsecure on a production target"]


def test_unverified_chain_names_the_trust_anchors() -> None:
    untrusted = Handshake("db", 1, True, version="TLSv1.3", hostname_matches=True, days_left=99,
                          verify_error="unable to get local issuer certificate")
    host = TlsHost("app_server->database", "db", 1, ca_file="/etc/pki/ca.pem")
    assert host_problems(host, untrusted, 30, False) == [
        "certificate does not verify: unable to get local issuer certificate", "trust anchors: CA file ca.pem"]
    assert host_problems(TlsHost("x", "db", 1), untrusted, 30, False)[-1] == "trust anchors: the system store"


def test_host_label_is_readable_and_brackets_ipv6() -> None:
    assert TlsHost("clients->app_server", "::1", 443).label == "clients->app_server@[::1]:443"


def test_https_detection() -> None:
    assert public_url_is_https("HTTPS://api.example.com/parse") and not public_url_is_https("http://x/parse")
