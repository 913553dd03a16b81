"""Live TLS facts against real in-process TLS listeners (sandbox PKI), and MongoDB URI TLS options."""
from __future__ import annotations

import datetime as dt
import socket
import ssl
from collections.abc import Callable, Iterator

import pytest
import trustme
from cryptography import x509

from cutover.errors import TargetTimeout, TargetUnreachable
from cutover.sandbox.certs import Pki, make_pki
from cutover.sandbox.process import free_port
from cutover.sandbox.tls_proxy import server_context
from cutover.transport.tls import (
    Handshake,
    handshake,
    handshake_problems,
    hostname_matches,
    mongo_tls_options,
    tcp_connect,
    version_rank,
)
from tests.threaded import SocketThread


class Listener(SocketThread):
    """Accepts connections on 127.0.0.1 in a thread: TLS handshake with ``ctx`` (or a plaintext line), close."""

    def __init__(self, ctx: ssl.SSLContext | None) -> None:
        self.ctx = ctx
        super().__init__(socket.create_server(("127.0.0.1", 0)))

    def serve_one(self) -> None:
        conn, _ = self.sock.accept()
        conn.settimeout(5)
        try:
            if self.ctx is None:
                conn.recv(1024)
                conn.sendall(b"HTTP/1.0 400 plaintext here\r\n\r\n")
            else:
                with self.ctx.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(1)
        except (OSError, ssl.SSLError):
            pass
        finally:
            conn.close()


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def listen(pki: Pki) -> Iterator[Callable[..., int]]:
    listeners: list[Listener] = []

    def start(pair: str | None, min_version: str = "TLSv1_2", max_version: str | None = None) -> int:
        ctx = None
        if pair is not None:
            chosen = getattr(pki, pair)
            ctx = server_context(chosen.cert_file, chosen.key_file, min_version, max_version)
        listeners.append(Listener(ctx))
        return listeners[-1].port

    yield start
    for listener in listeners:
        listener.close()


def test_good_certificate_is_sound_and_fully_described(listen: Callable[..., int], pki: Pki) -> None:
    shake = handshake("localhost", listen("good"), 5, str(pki.ca_file))
    assert shake.established and shake.verified and shake.hostname_matches
    assert shake.version == "TLSv1.3" and shake.cipher
    assert "trustme" in shake.issuer
    assert shake.not_after == pki.good.not_after.replace(tzinfo=dt.UTC) and 360 <= (shake.days_left or 0) <= 365
    assert handshake_problems(shake, 30) == []


def test_ip_address_is_matched_against_ip_sans(listen: Callable[..., int], pki: Pki) -> None:
    shake = handshake("127.0.0.1", listen("good"), 5, str(pki.ca_file))
    assert shake.verified and shake.hostname_matches


def test_expired_certificate_names_openssl_reason(listen: Callable[..., int], pki: Pki) -> None:
    shake = handshake("localhost", listen("expired"), 5, str(pki.ca_file))
    assert shake.established and not shake.verified
    assert shake.verify_error == "certificate has expired"
    assert handshake_problems(shake, 30) == ["certificate does not verify: certificate has expired"]


def test_expiring_certificate_verifies_but_is_too_short(listen: Callable[..., int], pki: Pki) -> None:
    shake = handshake("localhost", listen("expiring"), 5, str(pki.ca_file))
    assert shake.verified
    problems = handshake_problems(shake, 30)
    assert shake.days_left in (4, 5)
    assert problems == [f"certificate valid {shake.days_left} more days (until {shake.not_after:%Y-%m-%d}), "
                        "expected >= 30"]
    assert handshake_problems(shake, 3) == []


def test_wrong_host_is_a_mismatch(listen: Callable[..., int], pki: Pki) -> None:
    shake = handshake("localhost", listen("wrong_host"), 5, str(pki.ca_file))
    assert not shake.hostname_matches and "Hostname mismatch" in shake.verify_error
    assert len(handshake_problems(shake, 30)) == 1


def test_certificate_from_a_ca_not_in_the_file_does_not_verify(listen: Callable[..., int], pki: Pki) -> None:
    shake = handshake("localhost", listen("untrusted"), 5, str(pki.ca_file))
    assert shake.hostname_matches and not shake.verified
    assert shake.verify_error == "unable to get local issuer certificate"


def test_sandbox_ca_is_not_in_the_system_store(listen: Callable[..., int]) -> None:
    shake = handshake("localhost", listen("good"), 5)
    assert not shake.verified and "local issuer" in shake.verify_error


def test_old_protocol_is_observed_and_refused_by_policy(listen: Callable[..., int], pki: Pki) -> None:
    shake = handshake("localhost", listen("good", "TLSv1", "TLSv1_1"), 5, str(pki.ca_file))
    assert shake.established and shake.version == "TLSv1.1" and shake.verified
    assert handshake_problems(shake, 30) == ["negotiated TLSv1.1, expected TLSv1.2 or newer"]


def test_plaintext_port_is_a_failed_handshake_not_an_error(listen: Callable[..., int]) -> None:
    shake = handshake("127.0.0.1", listen(None), 5)
    assert not shake.established and shake.error
    assert handshake_problems(shake, 30) == [f"no TLS handshake: {shake.error}"]


def test_refused_port_is_unreachable() -> None:
    port = free_port()
    with pytest.raises(TargetUnreachable, match=f"127.0.0.1:{port}"):
        handshake("127.0.0.1", port, 2)
    with pytest.raises(TargetUnreachable):
        tcp_connect("127.0.0.1", port, 2)


def test_silent_peer_times_out() -> None:
    server = socket.create_server(("127.0.0.1", 0))  # accepts (backlog) but never answers the ClientHello
    try:
        with pytest.raises(TargetTimeout, match=r"no TLS answer within 0\.5 s"):
            handshake("127.0.0.1", server.getsockname()[1], 0.5)
    finally:
        server.close()


def test_tcp_connect_is_measured(listen: Callable[..., int]) -> None:
    assert 0 <= tcp_connect("127.0.0.1", listen(None), 2) < 2


@pytest.mark.parametrize(("uri", "enabled", "weak"), [
    ("mongodb://h1,h2/app", False, ()),
    ("mongodb://h/app?tls=true", True, ()),
    ("mongodb://h/app?ssl=TRUE&replicaSet=rs0", True, ()),
    ("mongodb+srv://c.example.net/app", True, ()),
    ("mongodb+srv://c.example.net/app?tls=false", False, ()),
    ("mongodb://h/app?tls=true&tlsAllowInvalidCertificates=true", True, ("tlsAllowInvalidCertificates",)),
    ("mongodb://h/app?TLS=true&tlsallowinvalidhostnames=true", True, ("tlsAllowInvalidHostnames",)),
    ("mongodb://h/app?tls=true&tlsInsecure=true", True, ("tlsInsecure",)),
    ("mongodb://h/app?ssl=true&ssl_cert_reqs=CERT_NONE", True, ("tlsAllowInvalidCertificates",)),
])
def test_uri_tls_options(uri: str, enabled: bool, weak: tuple[str, ...]) -> None:
    opts = mongo_tls_options(uri)
    assert (opts.enabled, opts.weakening()) == (enabled, weak)


def test_uri_ca_file_keeps_its_case() -> None:
    assert mongo_tls_options("mongodb://h/a?tls=true&tlsCAFile=/etc/Certs/CA.pem").ca_file == "/etc/Certs/CA.pem"


@pytest.fixture(scope="module")
def wildcard_cert() -> x509.Certificate:
    leaf = trustme.CA().issue_cert("*.example.net", "db.example.org", "10.0.0.5")
    return x509.load_pem_x509_certificate(leaf.cert_chain_pems[0].bytes())


@pytest.mark.parametrize(("host", "ok"), [
    ("a.example.net", True), ("A.Example.NET.", True), ("example.net", False), ("a.b.example.net", False),
    ("db.example.org", True), ("10.0.0.5", True), ("10.0.0.6", False), ("db.example.org.evil", False),
])
def test_hostname_matching(wildcard_cert: x509.Certificate, host: str, ok: bool) -> None:
    assert hostname_matches(wildcard_cert, host) is ok


def test_version_rank_orders_protocols() -> None:
    assert version_rank("TLSv1.1") < version_rank("TLSv1.2") < version_rank("TLSv1.3")
    assert version_rank("") == -1


def test_facts_are_json_friendly() -> None:
    facts = Handshake("h", 1, True, version="TLSv1.3", not_after=dt.datetime(2030, 1, 1, tzinfo=dt.UTC)).facts()
    assert facts["host"] == "h:1" and facts["not_after"] == "2030-01-01T00:00:00+00:00"


def test_ipv6_endpoint_label() -> None:
    assert Handshake("::1", 443, False).endpoint == "[::1]:443"
