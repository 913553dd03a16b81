"""The JS SDK's driver as a process: the pinned SDK installed into the cache, every call timed, nothing left.

Real Node.js (the sandbox extra's), the real npm ``parse`` package, no Parse Server: a listener that accepts
and never answers stands for a server that hangs. A call that gets no answer in time raises TargetTimeout
and the driver (and its guard) are gone; a driver that dies is one CouldNotVerify naming its last words;
``Session.close()`` stops a driver a check left running. The SDK round-trips themselves run against the
sandbox's Parse Server in tests/scenarios/test_rest_defects.py and every demo run.
"""
from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from cutover.errors import CouldNotVerify, TargetTimeout
from cutover.model import Database, ParseServer, Source, Target
from cutover.rest.sdk_client import CACHE_NAME, SDK_PACKAGES, SDK_VERSION, SdkClient
from cutover.sandbox import default_cache_dir, node_env
from cutover.session import Session
from tests.proctable import command, descendants, wait_gone
from tests.stubs import BlackHole
from tests.threaded import serving

pytestmark = pytest.mark.sandbox
CACHE = default_cache_dir()


@pytest.fixture(scope="module")
def silent_server() -> Iterator[str]:
    """A server that accepts connections and never answers (a hung server)."""
    silent = BlackHole()
    yield f"http://127.0.0.1:{silent.port}/parse"
    silent.close()


@pytest.fixture(scope="module")
def refusing_server() -> Iterator[str]:
    """A stand-in answering every request as Parse Server answers keys it does not accept (a wrong key, or the
    master key from an address outside masterKeyIps): 403 ``{"error":"unauthorized"}`` (parse-server 9.10.0,
    lib/middlewares.js, invalidRequest)."""
    class Refuse(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = b'{"error":"unauthorized"}'
            self.send_response(403)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    with serving(Refuse) as url:
        yield f"{url}/parse"


def server(url: str) -> ParseServer:
    return ParseServer(server_url=url, app_id="app", master_key="master", javascript_key="js")


def drivers_of(pid: int) -> set[int]:
    """The driver processes (and their guards) below ``pid``."""
    return {p for p in descendants(pid) if "sdk/driver.js" in command(p)}


def test_the_pinned_sdk_is_installed_once_and_admits_the_supported_node_versions() -> None:
    installed = node_env.ensure_pinned(CACHE, SDK_PACKAGES)
    started = time.perf_counter()
    assert node_env.ensure_pinned(CACHE, SDK_PACKAGES) == installed and installed.name == CACHE_NAME
    assert time.perf_counter() - started < 1.0
    assert node_env.read_stamp(installed) == SDK_PACKAGES.digest()
    package = json.loads((installed / "node_modules" / "parse" / "package.json").read_text())
    assert package["version"] == SDK_VERSION
    # the SDK's engines ("... || >=24.1.0 <25") admit every Node.js the sandbox accepts (node_env.SUPPORTED)
    for part in package["engines"]["node"].split("||"):
        low, high = (tuple(map(int, bound.strip(">=<").split("."))) for bound in part.split())
        assert any(low <= (major, minor, 0) and (major,) < high for major, minor in node_env.SUPPORTED)


def test_a_call_without_an_answer_times_out_and_the_driver_is_gone(silent_server: str) -> None:
    client = SdkClient.installed(server(silent_server), 1.5, node_env.node_runtime(), CACHE)
    try:
        assert client.start("cutover-probe-test").ok        # initialising sends no request
        running = drivers_of(os.getpid())
        assert len(running) == 2, running                     # the guard and node
        started = time.monotonic()
        with pytest.raises(TargetTimeout, match=r"did not answer get within 1\.5 s .*the driver was stopped"):
            client.call("get", cls="Thing", objectId="abc", master=True)
        assert time.monotonic() - started < 5
        assert client.proc is None and set(wait_gone(running, within=5)) == running
    finally:
        client.close()


def test_a_driver_that_dies_is_one_could_not_verify_with_its_last_words(silent_server: str, tmp_path: Path) -> None:
    client = SdkClient.installed(server(silent_server), 5.0, node_env.node_runtime(), CACHE)
    try:
        assert client.start("cutover-probe-test").ok
        node = next(p for p in drivers_of(os.getpid()) if "guard.py" not in command(p))
        os.kill(node, signal.SIGKILL)
        with pytest.raises(CouldNotVerify, match=r"driver ended \(exit 137\) during current"):
            client.call("current")
        assert client.proc is None
    finally:
        client.close()
    broken = SdkClient(node_env.node_runtime(), tmp_path, server(silent_server), 5.0)   # no SDK installed there
    with pytest.raises(CouldNotVerify, match=r"driver ended \(exit 1\) during init: .*Cannot find module 'parse/node'"):
        broken.start("cutover-probe-test")
    assert broken.proc is None


def test_refused_keys_are_could_not_verify_naming_the_key_never_a_defect(refusing_server: str) -> None:
    client = SdkClient.installed(server(refusing_server), 5.0, node_env.node_runtime(), CACHE)
    try:
        assert client.start("cutover-probe-test").ok
        with pytest.raises(CouldNotVerify, match=r"refused the master key the JS SDK sent.*masterKeyIps"):
            client.call("save", cls="Thing", set={"a": 1}, master=True)
        with pytest.raises(CouldNotVerify, match=r"Parse.User#signUp failed .*answered 403 .*unauthorized.*"
                                                 r"refused the JavaScript key"):
            client.call("signUp", username="u", password="p", email="u@x.invalid")
    finally:
        client.close()


def test_session_close_stops_a_driver_left_running(silent_server: str) -> None:
    target = Target(name="t", source=Source(kind="mongodb", uri="mongodb://127.0.0.1:1/s"),
                    database=Database(uri="mongodb://127.0.0.1:1/t"), parse=server(silent_server))
    session = Session(target)
    client = session.rest.js_sdk()
    assert client.start("cutover-probe-test").ok
    running = drivers_of(os.getpid())
    session.close()
    assert client.proc is None and set(wait_gone(running, within=5)) == running
