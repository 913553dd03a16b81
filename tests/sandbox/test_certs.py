"""The sandbox PKI: what each certificate holds, and what a verifying TLS client makes of it.

Handshakes here run in memory (two ``ssl.MemoryBIO`` pairs), so they test the certificates alone;
tests/sandbox/test_tls_proxy.py repeats the verdicts over real sockets through the proxy.
"""
from __future__ import annotations

import datetime as dt
import ssl
from pathlib import Path

import pytest
from cryptography import x509

from cutover.sandbox.certs import EXPIRING_DAYS, SERVER_HOSTS, WRONG_HOST, CertPair, Pki, make_pki


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def load(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def san_names(pair: CertPair) -> set[str]:
    san = load(pair.cert_file).extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    ips = {str(ip) for ip in san.get_values_for_type(x509.IPAddress)}
    return set(san.get_values_for_type(x509.DNSName)) | ips


def pairs(pki: Pki) -> list[CertPair]:
    return [pki.good, pki.expired, pki.expiring, pki.wrong_host, pki.untrusted]


def test_every_file_is_written_and_keys_are_private(pki: Pki) -> None:
    for pair in pairs(pki):
        for path in (pair.cert_file, pair.key_file, pair.combined_file):
            assert path.parent == pki.directory and path.stat().st_size > 0, path
        assert pair.key_file.stat().st_mode & 0o077 == 0, pair.key_file
    assert pki.ca_file.read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")


def test_certificate_matches_its_key_and_combined_file_loads(pki: Pki) -> None:
    for pair in pairs(pki):
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(pair.cert_file, pair.key_file)
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(pair.combined_file)
    with pytest.raises(ssl.SSLError):
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(pki.good.cert_file, pki.expired.key_file)


def test_subject_alternative_names(pki: Pki) -> None:
    expected = {"localhost", "127.0.0.1", "::1"}
    assert set(SERVER_HOSTS) == expected
    for pair in (pki.good, pki.expired, pki.expiring, pki.untrusted):
        assert san_names(pair) == expected, pair.name
    assert san_names(pki.wrong_host) == {WRONG_HOST}


def test_validity_windows(pki: Pki) -> None:
    now = dt.datetime.now(dt.UTC)
    days_left = {p.name: (load(p.cert_file).not_valid_after_utc - now).days for p in pairs(pki)}
    assert 360 <= days_left["good"] <= 365
    assert days_left["expired"] < 0
    assert days_left["expiring"] == EXPIRING_DAYS - 1  # 4 full days and some hours remain
    for pair in pairs(pki):
        cert = load(pair.cert_file)
        assert cert.not_valid_before_utc < now, pair.name
        assert cert.not_valid_after_utc == pair.not_after, pair.name


def test_issuers(pki: Pki) -> None:
    ca, rogue = load(pki.ca_file), load(pki.untrusted_ca_file)
    assert ca.subject != rogue.subject
    for pair in (pki.good, pki.expired, pki.expiring, pki.wrong_host):
        assert load(pair.cert_file).issuer == ca.subject, pair.name
    assert load(pki.untrusted.cert_file).issuer == rogue.subject


def memory_handshake(pair: CertPair, client: ssl.SSLContext, hostname: str) -> ssl.SSLObject:
    """Run a TLS handshake between a server presenting ``pair`` and ``client``, all in memory."""
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(pair.cert_file, pair.key_file)
    c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _ in range(4))
    sides = [
        (client.wrap_bio(c_in, c_out, server_hostname=hostname), c_out, s_in),
        (server_ctx.wrap_bio(s_in, s_out, server_side=True), s_out, c_in),
    ]
    done = [False, False]
    for _ in range(10):
        for i, (obj, out, peer_in) in enumerate(sides):
            if not done[i]:
                try:
                    obj.do_handshake()
                    done[i] = True
                except ssl.SSLWantReadError:
                    pass
            peer_in.write(out.read())
        if all(done):
            return sides[0][0]
    raise AssertionError("handshake did not complete in 10 rounds")


def verifying_client(pki: Pki) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(pki.ca_file))


@pytest.mark.parametrize("hostname", ["localhost", "127.0.0.1", "::1"])
def test_good_certificate_verifies_for_each_host(pki: Pki, hostname: str) -> None:
    tls = memory_handshake(pki.good, verifying_client(pki), hostname)
    assert tls.version() in ("TLSv1.3", "TLSv1.2")
    assert (tls.getpeercert() or {}).get("subject")


def test_expiring_certificate_still_verifies(pki: Pki) -> None:
    tls = memory_handshake(pki.expiring, verifying_client(pki), "localhost")
    not_after = ssl.cert_time_to_seconds(str((tls.getpeercert() or {})["notAfter"]))
    assert 4 * 86400 < not_after - dt.datetime.now(dt.UTC).timestamp() <= 5 * 86400


@pytest.mark.parametrize(
    ("name", "hostname", "message"),
    [
        ("expired", "localhost", "certificate has expired"),
        ("wrong_host", "localhost", "Hostname mismatch"),
        ("wrong_host", "127.0.0.1", "IP address mismatch"),
        ("untrusted", "localhost", "unable to get local issuer certificate"),
    ],
)
def test_bad_certificates_fail_verification(pki: Pki, name: str, hostname: str, message: str) -> None:
    with pytest.raises(ssl.SSLCertVerificationError, match=message):
        memory_handshake(getattr(pki, name), verifying_client(pki), hostname)


def test_untrusted_certificate_verifies_against_its_own_ca(pki: Pki) -> None:
    client = ssl.create_default_context(cafile=str(pki.untrusted_ca_file))
    assert memory_handshake(pki.untrusted, client, "localhost").version() is not None
    with pytest.raises(ssl.SSLCertVerificationError):
        memory_handshake(pki.good, client, "localhost")


def test_wrong_host_certificate_is_valid_for_its_own_name(pki: Pki) -> None:
    assert memory_handshake(pki.wrong_host, verifying_client(pki), WRONG_HOST).version() is not None
