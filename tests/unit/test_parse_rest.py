"""ParseClient over real HTTP against a tiny in-process stand-in: keys, answers, errors, password scan."""
from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any, ClassVar

import pytest

from cutover.errors import TargetTimeout, TargetUnreachable
from cutover.model import ParseServer
from cutover.rest.client import ParseClient, results
from cutover.sandbox.process import free_port
from tests.threaded import serving

MASTER, REST = "m-key-123456", "r-key-123456"


class _Stub(BaseHTTPRequestHandler):
    """Parse-like: /parse/* answers by keys; other paths are express' HTML 404; /parse/slow sleeps."""

    seen: ClassVar[list[dict[str, str]]] = []

    def do_GET(self) -> None:
        self.seen.append(dict(self.headers))
        path = self.path.split("?")[0]
        if not path.startswith("/parse/"):
            return self._send(404, f"<pre>Cannot GET {path}</pre>", "text/html")
        if path == "/parse/slow":
            time.sleep(1.0)
        if path == "/parse/health":
            return self._send(200, json.dumps({"status": "ok"}))
        if self.headers.get("X-Parse-Application-Id") != "app":
            return self._send(403, json.dumps({"error": "unauthorized"}))
        if self.headers.get("X-Parse-Master-Key") == MASTER or (
                path == "/parse/config" and self.headers.get("X-Parse-REST-API-Key") == REST):
            body = {"results": [{"objectId": "u1", "username": "a", "nested": [{"password": "x"}]}]}
            info = {"parseServerVersion": "8.6.94", "features": {}}
            return self._send(200, json.dumps(body if "users" in path else info if "serverInfo" in path
                                              else {"params": {}}))
        return self._send(403, json.dumps({"error": "unauthorized"}))

    do_POST = do_GET

    def _send(self, status: int, body: str, ctype: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body.encode())))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with serving(_Stub) as url:
        yield url


def client(url: str, path: str = "/parse", app: str = "app", master: str = MASTER, rest: str = REST,
           timeout: float = 5.0) -> ParseClient:
    return ParseClient(ParseServer(server_url=url + path, app_id=app, master_key=master, rest_key=rest),
                       timeout=timeout)


def test_master_and_client_keys_go_in_the_right_headers(base_url: str) -> None:
    c = client(base_url)
    c.request("GET", "/classes/X", auth="master")
    c.request("GET", "/classes/X", auth="client")
    c.request("GET", "/classes/X", auth="none")
    master, rest, none = _Stub.seen[-3:]
    assert master["X-Parse-Master-Key"] == MASTER and "X-Parse-REST-API-Key" not in master
    assert rest["X-Parse-REST-API-Key"] == REST and "X-Parse-Master-Key" not in rest
    assert none["X-Parse-Application-Id"] == "app"
    assert not {"X-Parse-Master-Key", "X-Parse-REST-API-Key"} & set(none)


def test_identify_tells_wrong_path_from_wrong_app_id_from_wrong_master_key(base_url: str) -> None:
    right = client(base_url).identify()
    wrong_path = client(base_url, path="/1").identify()
    wrong_app = client(base_url, app="other").identify()
    wrong_master = client(base_url, master="nope-nope").identify()
    assert (right.path_found, right.app_id_accepted, right.master_key_accepted) == (True, True, True)
    assert (wrong_path.path_found, wrong_path.answer.status) == (False, 404)
    assert "Cannot GET /1/serverInfo" in wrong_path.answer.describe()
    assert (wrong_app.path_found, wrong_app.app_id_accepted) == (True, False)
    assert (wrong_master.path_found, wrong_master.app_id_accepted, wrong_master.master_key_accepted) == (
        True, True, False)


def test_the_server_version_is_what_server_info_says_or_empty_when_refused(base_url: str) -> None:
    assert client(base_url).server_version() == "8.6.94"
    assert client(base_url, master="nope-nope").server_version() == ""
    assert client(base_url, path="/1").server_version() == ""


def test_answer_keeps_status_json_and_short_text(base_url: str) -> None:
    answer = client(base_url, master="bad-bad-bad").request("GET", "/classes/X?limit=1")
    assert (answer.status, answer.ok, answer.body, answer.path) == (403, False, {"error": "unauthorized"},
                                                                    "/classes/X")
    assert answer.describe() == '403 {"error": "unauthorized"}'


def test_password_fields_anywhere_in_an_answer_are_recorded(base_url: str) -> None:
    c = client(base_url)
    found = c.request("GET", "/users")
    assert results(found)[0]["objectId"] == "u1"
    assert c.leaks == ["GET /users: password"]


def test_refused_connection_is_target_unreachable() -> None:
    with pytest.raises(TargetUnreachable, match=r"unreachable .*check server_url"):
        client(f"http://127.0.0.1:{free_port()}").health()


def test_silence_is_target_timeout(base_url: str) -> None:
    with pytest.raises(TargetTimeout, match=r"did not answer GET within 0.2 s"):
        client(base_url, timeout=0.2).request("GET", "/slow")


def test_a_listener_that_never_answers_times_out() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        with pytest.raises(TargetTimeout):
            client(f"http://127.0.0.1:{listener.getsockname()[1]}", timeout=0.3).health()


def test_health_is_read_at_the_configured_path(base_url: str) -> None:
    answer = client(base_url).health()
    assert (answer.status, answer.body) == (200, {"status": "ok"})


class _KeepAlive(_Stub):
    """HTTP/1.1 with keep-alive (Node's default), remembering which client port sent each request."""

    protocol_version = "HTTP/1.1"
    ports: ClassVar[list[int]] = []

    def do_GET(self) -> None:
        self.ports.append(self.client_address[1])
        super().do_GET()

    do_POST = do_GET


def test_an_idle_client_reconnects_instead_of_reusing_a_pooled_socket() -> None:
    """Node drops keep-alive sockets idle for 5 s and a POST is never retried: after ``idle_s`` without a
    request the client opens a fresh connection, while requests in quick succession share one."""
    with serving(_KeepAlive) as url:
        c = client(url)
        c.idle_s = 0.2
        c.health()
        c.request("POST", "/classes/X")
        time.sleep(0.3)
        c.request("POST", "/classes/X")
        first, second, third = _KeepAlive.ports[-3:]
        assert first == second != third
