"""The TLS front: real proxy processes before a real HTTP server, real handshakes from ``ssl`` clients."""
from __future__ import annotations

import hashlib
import os
import socket
import ssl
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from cutover.sandbox.certs import CertPair, Pki, make_pki
from cutover.sandbox.process import Service, free_port, port_open, start_all, stop_all
from cutover.sandbox.tls_proxy import parse_args, server_context, tls_front_service, tls_version

pytestmark = pytest.mark.sandbox
BIG_SIZE = 1_500_000
Cert = dict[str, Any]


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def www(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("www")
    (root / "hello.txt").write_bytes(b"hello through TLS\n")
    (root / "big.bin").write_bytes(os.urandom(BIG_SIZE))
    return root


def http_service(port: int, root: Path, log: Path) -> Service:
    argv = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(root)]
    return Service("http upstream", argv, log, ready=lambda: port_open("127.0.0.1", port))


class Sandbox:
    """The upstream and one front per certificate (plus the old-protocol front), by name."""

    def __init__(self, pki: Pki, www: Path, logs: Path) -> None:
        self.upstream_port = free_port()
        self.ports: dict[str, int] = {}
        self.services = [http_service(self.upstream_port, www, logs / "http.log")]
        for name in ("good", "expired", "expiring", "wrong_host", "untrusted"):
            self.add(name, getattr(pki, name), logs)
        self.add("old", pki.good, logs, min_version="TLSv1", max_version="TLSv1.1")
        self.add("no_upstream", pki.good, logs, upstream_port=free_port())

    def add(self, name: str, pair: CertPair, logs: Path, upstream_port: int = 0, **versions: str) -> None:
        self.ports[name] = free_port()
        self.services.append(tls_front_service(
            name, self.ports[name], upstream_port or self.upstream_port,
            pair.cert_file, pair.key_file, logs / f"{name}.log", **versions,
        ))

    def log(self, name: str) -> str:
        return next(s for s in self.services if s.name == name).log_path.read_text()


@pytest.fixture(scope="module")
def sandbox(pki: Pki, www: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    box = Sandbox(pki, www, tmp_path_factory.mktemp("logs"))
    start_all(box.services)
    try:
        yield box
    finally:
        stop_all(box.services)
    listening = [p for p in [box.upstream_port, *box.ports.values()] if port_open("127.0.0.1", p)]
    assert not listening, f"still listening after stop: {listening}"


def client(pki: Pki, permissive: bool = False) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(pki.ca_file))
    if permissive:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    return ctx


def handshake(port: int, ctx: ssl.SSLContext, hostname: str = "localhost") -> tuple[str | None, Cert]:
    """Protocol version and verified peer certificate of one handshake with the front on ``port``."""
    with socket.create_connection(("127.0.0.1", port), timeout=2) as raw, \
            ctx.wrap_socket(raw, server_hostname=hostname) as tls:
        return tls.version(), dict(tls.getpeercert() or {})


def http_get(port: int, ctx: ssl.SSLContext, path: str) -> bytes:
    """Body of an HTTP/1.0 GET sent through the front; HTTP/1.0 makes the upstream close after it."""
    with socket.create_connection(("127.0.0.1", port), timeout=2) as raw, \
            ctx.wrap_socket(raw, server_hostname="localhost") as tls:
        tls.sendall(f"GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n".encode())
        answer = b"".join(iter(lambda: tls.recv(65536), b""))
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 200"), head[:80]
    return body


def wait_for(predicate: Callable[[], bool], timeout: float = 2.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_good_certificate_verifies_with_modern_tls(sandbox: Sandbox, pki: Pki) -> None:
    version, cert = handshake(sandbox.ports["good"], client(pki))
    assert version in ("TLSv1.3", "TLSv1.2")
    assert ("DNS", "localhost") in cert["subjectAltName"]


def test_good_certificate_verifies_by_ip_address(sandbox: Sandbox, pki: Pki) -> None:
    version, _ = handshake(sandbox.ports["good"], client(pki), hostname="127.0.0.1")
    assert version in ("TLSv1.3", "TLSv1.2")


def test_bytes_pass_through_both_ways(sandbox: Sandbox, pki: Pki) -> None:
    assert http_get(sandbox.ports["good"], client(pki), "/hello.txt") == b"hello through TLS\n"


def test_large_body_arrives_intact(sandbox: Sandbox, pki: Pki, www: Path) -> None:
    body = http_get(sandbox.ports["good"], client(pki), "/big.bin")
    assert len(body) == BIG_SIZE
    assert hashlib.sha256(body).digest() == hashlib.sha256((www / "big.bin").read_bytes()).digest()


@pytest.mark.parametrize(
    ("front", "message"),
    [
        ("expired", "certificate has expired"),
        ("wrong_host", "Hostname mismatch"),
        ("untrusted", "unable to get local issuer certificate"),
    ],
)
def test_bad_certificates_fail_verification(sandbox: Sandbox, pki: Pki, front: str, message: str) -> None:
    with pytest.raises(ssl.SSLCertVerificationError, match=message):
        handshake(sandbox.ports[front], client(pki))


def test_expiring_certificate_verifies_and_shows_its_end(sandbox: Sandbox, pki: Pki) -> None:
    _, cert = handshake(sandbox.ports["expiring"], client(pki))
    seconds_left = ssl.cert_time_to_seconds(str(cert["notAfter"])) - time.time()
    assert 4 * 86400 < seconds_left <= 5 * 86400


def test_old_protocol_front_refuses_a_default_client(sandbox: Sandbox, pki: Pki) -> None:
    with pytest.raises(ssl.SSLError):
        handshake(sandbox.ports["old"], client(pki))


def test_old_protocol_front_speaks_tls1_1_to_a_permissive_client(sandbox: Sandbox, pki: Pki) -> None:
    permissive = client(pki, permissive=True)
    version, _ = handshake(sandbox.ports["old"], permissive)
    assert version in ("TLSv1", "TLSv1.1")
    assert http_get(sandbox.ports["old"], permissive, "/hello.txt") == b"hello through TLS\n"


def test_modern_front_refuses_a_client_capped_at_tls1_1(sandbox: Sandbox, pki: Pki) -> None:
    old_only = client(pki, permissive=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        old_only.maximum_version = ssl.TLSVersion.TLSv1_1
    with pytest.raises(ssl.SSLError):
        handshake(sandbox.ports["good"], old_only)


def test_a_failed_handshake_logs_one_line(sandbox: Sandbox, pki: Pki) -> None:
    before = sandbox.log("old").count("failed")
    with pytest.raises(ssl.SSLError):
        handshake(sandbox.ports["old"], client(pki))
    assert wait_for(lambda: sandbox.log("old").count("failed") == before + 1), sandbox.log("old")
    time.sleep(0.1)
    assert sandbox.log("old").count("failed") == before + 1
    assert "Traceback" not in sandbox.log("old")


def test_unreachable_upstream_closes_the_client_and_logs_it(sandbox: Sandbox, pki: Pki) -> None:
    with socket.create_connection(("127.0.0.1", sandbox.ports["no_upstream"]), timeout=2) as raw, \
            client(pki).wrap_socket(raw, server_hostname="localhost") as tls:
        tls.sendall(b"GET / HTTP/1.0\r\n\r\n")
        assert tls.recv(100) == b""
    assert wait_for(lambda: "upstream 127.0.0.1" in sandbox.log("no_upstream")), sandbox.log("no_upstream")


def test_sigterm_stops_the_front_with_open_connections(pki: Pki, www: Path, tmp_path: Path) -> None:
    upstream_port, front_port = free_port(), free_port()
    services = [
        http_service(upstream_port, www, tmp_path / "http.log"),
        tls_front_service("front", front_port, upstream_port, pki.good.cert_file, pki.good.key_file,
                          tmp_path / "front.log"),
    ]
    start_all(services)
    front = services[1].proc
    with socket.create_connection(("127.0.0.1", front_port), timeout=2) as idle:
        started = time.monotonic()
        stop_all(services)
        assert time.monotonic() - started < 1.5
        assert idle.recv(10) == b""  # the half-open connection was closed by the proxy, not left hanging
    assert front is not None and front.returncode == 0
    assert not port_open("127.0.0.1", front_port) and not port_open("127.0.0.1", upstream_port)
    assert "stopped" in (tmp_path / "front.log").read_text()


def test_version_names(pki: Pki, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown TLS version"):
        tls_front_service("f", 1, 2, pki.good.cert_file, pki.good.key_file, tmp_path / "f.log", "TLSv2")
    assert tls_version("TLSv1_2") is ssl.TLSVersion.TLSv1_2
    assert tls_version("TLSv1.3") is ssl.TLSVersion.TLSv1_3
    with pytest.raises(ValueError, match="unknown TLS version"):
        tls_version("SSLv3")
    with pytest.raises(SystemExit):
        parse_args(["--listen-port", "1", "--upstream-port", "2", "--cert", "c", "--key", "k",
                    "--min-version", "TLSv1.9"])


def test_server_context_range(pki: Pki) -> None:
    modern = server_context(pki.good.cert_file, pki.good.key_file)
    assert modern.minimum_version is ssl.TLSVersion.TLSv1_2
    old = server_context(pki.good.cert_file, pki.good.key_file, "TLSv1", "TLSv1_1")
    assert (old.minimum_version, old.maximum_version) == (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1)
    # OpenSSL 3 cannot sign a TLS 1.0/1.1 handshake above level 0 ("no suitable signature algorithm")
    assert (modern.security_level, old.security_level) == (2, 0)
