"""The preflight over real sockets: black holes, closed ports, servers that answer badly, refused credentials.

Every ping runs at once, one attempt each, under one deadline; what a component answers is never judged here
(a 500, a plaintext port behind a TLS link), only whether it answers. Refused credentials are one ConfigError
line naming component, user and auth source, never the password.
"""
from __future__ import annotations

import http.server
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from cutover.errors import ConfigError
from cutover.model import Database, Files, ParseServer, Source, Target, Thresholds
from cutover.reach.breaker import FILE_STORE, PARSE, TARGET_DB, Breaker, components
from cutover.reach.pings import mongo_user
from cutover.reach.preflight import GRACE_S, run_preflight
from tests.stubs import BlackHole, MongoRefusingAuth

S3_REFUSAL = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>InvalidAccessKeyId</Code><Message>The AWS '
              b"Access Key Id you provided does not exist in our records.</Message></Error>")


class Answering(http.server.BaseHTTPRequestHandler):
    status, body = 500, b'{"error": "boom"}'

    def do_GET(self) -> None:  # the http.server API
        self.send_response(self.status)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def http_server() -> Iterator[Any]:
    servers: list[http.server.ThreadingHTTPServer] = []

    def start(status: int, body: bytes) -> int:
        handler = type("Handler", (Answering,), {"status": status, "body": body})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return int(server.server_address[1])

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def holes() -> Iterator[list[BlackHole]]:
    started = [BlackHole() for _ in range(4)]
    yield started
    for hole in started:
        hole.close()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def target(db: str, parse: str = "", files: Files | None = None, timeout_s: float = 1.0) -> Target:
    return Target(name="t", source=Source(kind="export", export_dir="/nonexistent"), database=Database(uri=db),
                  parse=ParseServer(server_url=parse, app_id="a") if parse else None, files=files,
                  thresholds=Thresholds(timeout_s=timeout_s))


def preflight(t: Target) -> tuple[Breaker, Any]:
    breaker = Breaker(components(t))
    return breaker, run_preflight(t, breaker)


def test_every_component_black_holed_costs_one_timeout_and_all_are_tripped(holes: list[BlackHole]) -> None:
    db, parse, public, s3 = (h.port for h in holes)
    t = target(f"mongodb://127.0.0.1:{db}/app", f"http://127.0.0.1:{parse}/parse",
               Files(adapter="s3", bucket="b", endpoint_url=f"http://127.0.0.1:{s3}", access_key_id="k",
                     secret_access_key="secret-value"), timeout_s=2.0)
    t = Target(**{**t.__dict__, "parse": ParseServer(server_url=f"http://127.0.0.1:{parse}/parse", app_id="a",
                                                     public_url=f"https://127.0.0.1:{public}/parse")})
    started = time.monotonic()
    breaker, result = preflight(t)
    took = time.monotonic() - started
    assert took < 2.0 + GRACE_S + 1.0, f"{took:.1f} s: the pings did not run at once"  # not 5 x 2 s
    assert len(result.results) == 5 and not any(r.reachable for r in result.results)  # + TLS endpoint
    causes = [r.cause for r in result.results]
    assert all("did not answer in time" in c or "no TLS answer" in c for c in causes), causes
    assert set(breaker.dead()) == {r.component for r in result.results}
    assert "secret-value" not in str(result.facts())
    assert result.summary().startswith("cutover preflight: 5 of 5 components do not answer")


def test_a_closed_port_is_unreachable_at_once() -> None:
    port = closed_port()
    started = time.monotonic()
    _, result = preflight(target("mongodb://127.0.0.1:1/app", f"http://127.0.0.1:{port}/parse", timeout_s=3))
    parse = next(r for r in result.results if r.component == PARSE)
    assert not parse.reachable and "unreachable" in parse.cause and not parse.timeout
    assert parse.seconds < 1.0 and time.monotonic() - started < 3 + GRACE_S + 1


def test_a_server_that_answers_500_or_plaintext_is_reachable(http_server: Any) -> None:
    port = http_server(500, b'{"error": "boom"}')
    t = Target(name="t", source=Source(kind="export"), database=Database(uri="mongodb://127.0.0.1:1/x"),
               parse=ParseServer(server_url=f"http://127.0.0.1:{port}/parse", app_id="a",
                                 public_url=f"https://127.0.0.1:{port}/parse"), thresholds=Thresholds(timeout_s=2))
    _, result = preflight(t)
    answered = {r.component: r for r in result.results}
    assert answered[PARSE].reachable, answered[PARSE]
    assert answered[f"TLS endpoint 127.0.0.1:{port}"].reachable  # a plaintext answer is TLS-01's finding
    assert not answered[TARGET_DB].reachable


def test_a_database_refusing_the_password_is_one_line_naming_user_and_auth_source() -> None:
    stub = MongoRefusingAuth()
    try:
        with pytest.raises(ConfigError) as refused:
            preflight(target(f"mongodb://app%40corp:Wr0ng-p%40ss@127.0.0.1:{stub.port}/appdb?authSource=admin"))
    finally:
        stub.close()
    message = str(refused.value)
    assert "\n" not in message and "Wr0ng" not in message
    assert message.startswith(f"target database mongodb://127.0.0.1:{stub.port}: authentication failed for user "
                              "'app@corp' (auth source 'admin')"), message


def test_an_s3_store_refusing_the_key_is_one_line_naming_the_key(http_server: Any) -> None:
    port = http_server(403, S3_REFUSAL)
    files = Files(adapter="s3", bucket="b", region="eu-west-1", endpoint_url=f"http://127.0.0.1:{port}",
                  access_key_id="AKIAEXAMPLE", secret_access_key="s3cr3t-value")
    with pytest.raises(ConfigError) as refused:
        preflight(target(f"mongodb://127.0.0.1:{closed_port()}/app", files=files))
    message = str(refused.value)
    assert message.startswith(f"{FILE_STORE} http://127.0.0.1:{port}: authentication failed for access key "
                              "'AKIAEXAMPLE' (InvalidAccessKeyId)"), message
    assert "s3cr3t" not in message and "\n" not in message


@pytest.mark.parametrize(("uri", "expected"), [
    ("mongodb://u:p@h/db", ("u", "db")),
    ("mongodb://u:p@h/db?authSource=admin", ("u", "admin")),
    ("mongodb://u:p@h/?AUTHSOURCE=ops", ("u", "ops")),
    ("mongodb+srv://u%3Ax:p@cluster.example.net", ("u:x", "admin")),
    ("mongodb://h1,h2/db?replicaSet=rs", ("(none)", "db")),
])
def test_user_and_auth_source_as_the_driver_reads_them(uri: str, expected: tuple[str, str]) -> None:
    assert mongo_user(uri) == expected
