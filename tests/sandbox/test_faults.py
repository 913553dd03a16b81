"""The fault proxy: a real proxy process before a real HTTP server, switched between modes at run time."""
from __future__ import annotations

import json
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from cutover.errors import UnexpectedAnswer
from cutover.files.storage import s3_names
from cutover.sandbox.process import Service, free_port, port_open
from cutover.sandbox.s3_server import DUMMY_ACCESS_KEY, DUMMY_SECRET_KEY, create_bucket
from cutover.session import open_s3
from cutover_testing.faults import FaultFront, Mode, start_fault_front

pytestmark = pytest.mark.sandbox


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    root = tmp_path_factory.mktemp("www")
    (root / "hello.txt").write_bytes(b"hello through faults\n")
    port = free_port()
    argv = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(root)]
    service = Service("http upstream", argv, root.parent / "http.log",
                      ready=lambda: port_open("127.0.0.1", port))
    service.start()
    service.wait_ready()
    yield port
    service.stop()


@pytest.fixture
def front(upstream: int, tmp_path: Path) -> Iterator[FaultFront]:
    started = start_fault_front("front", upstream, tmp_path)
    yield started
    started.service.stop()


def get(front: FaultFront, timeout: float = 2.0) -> requests.Response:
    return requests.get(f"http://127.0.0.1:{front.port}/hello.txt", timeout=timeout,
                        headers={"Connection": "close"})


def switch(front: FaultFront, mode: str, arg: float = 0.0) -> None:
    front.set(mode, arg)   # returns once the proxy has applied the mode


def test_pass_through(front: FaultFront) -> None:
    assert get(front).content == b"hello through faults\n"


def test_slowdown_n_times_then_recovers(front: FaultFront) -> None:
    switch(front, "slowdown", 2)
    answers = [get(front) for _ in range(3)]
    assert [a.status_code for a in answers] == [503, 503, 200]
    assert b"<Code>SlowDown</Code>" in answers[0].content
    assert front.faults_served() == 2


def test_error500_then_hangs(front: FaultFront) -> None:
    switch(front, "error500", 1)
    assert get(front).status_code == 500
    started = time.monotonic()
    with pytest.raises(requests.ReadTimeout):
        get(front, timeout=0.5)
    assert time.monotonic() - started < 2


def test_hang_accepts_and_never_answers(front: FaultFront) -> None:
    switch(front, "hang")
    with socket.create_connection(("127.0.0.1", front.port), timeout=0.5) as sock:
        sock.sendall(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        with pytest.raises(TimeoutError):
            sock.recv(10)


def test_refuse_stops_listening_and_comes_back(front: FaultFront) -> None:
    switch(front, "refuse")
    assert not port_open("127.0.0.1", front.port)
    with pytest.raises(requests.ConnectionError):
        get(front)
    switch(front, "pass")
    assert get(front).status_code == 200


def test_close_drops_open_connections(front: FaultFront) -> None:
    with requests.Session() as http:
        url = f"http://127.0.0.1:{front.port}/hello.txt"
        assert http.get(url, timeout=2).status_code == 200
        with socket.create_connection(("127.0.0.1", front.port), timeout=2) as held:
            switch(front, "close")
            assert held.recv(10) == b""          # the open connection was dropped by the switch
        with pytest.raises(requests.ConnectionError):
            http.get(url, timeout=2)


def test_delay_holds_each_reply(front: FaultFront) -> None:
    switch(front, "delay", 0.6)
    started = time.monotonic()
    assert get(front).status_code == 200
    assert 0.6 <= time.monotonic() - started < 2.5


def test_no_tunnel_refuses_a_method_tunnelled_in_a_post_body_and_passes_the_rest(front: FaultFront) -> None:
    """Like a firewall rule against method override: a POST whose JSON body carries ``_method`` (the JS SDK's
    tunnel) is answered 403 by the front; GETs and other POSTs reach the server, each request looked at, also
    on one keep-alive session."""
    switch(front, "no-tunnel")
    url = f"http://127.0.0.1:{front.port}/hello.txt"
    with requests.Session() as http:
        before = http.get(url, timeout=2)
        tunnelled = http.post(url, data=json.dumps({"_method": "GET", "_ApplicationId": "app"}), timeout=2,
                              headers={"Content-Type": "text/plain"})
        after = http.get(url, timeout=2)
        plain = http.post(url, data=b'{"name": "x"}', timeout=2)
    assert before.content == after.content == b"hello through faults\n"
    assert tunnelled.status_code == 403 and b"method override" in tunnelled.content
    assert plain.status_code == 501          # the upstream (python -m http.server) answered: it has no POST
    assert front.faults_served() == 1


def test_mode_lines() -> None:
    assert Mode.parse("slowdown 3") == Mode("slowdown", 3.0)
    assert Mode.parse("") == Mode("pass")
    assert Mode("delay", 1.5).line() == "delay 1.5"
    with pytest.raises(ValueError, match="unknown fault mode 'explode'"):
        Mode.parse("explode")


def test_s3_throttled_beyond_retries_is_could_not_verify(s3: Any, moto: str, tmp_path: Path) -> None:
    """open_s3 lets boto3 retry three times (retries.max_attempts excludes the first try); a fourth 503 must
    reach the check as CouldNotVerify, never as a botocore ClientError (reported as a plain failure)."""
    create_bucket(s3, "throttled", "us-east-1")
    front = start_fault_front("s3", int(moto.rsplit(":", 1)[1]), tmp_path, mode="slowdown 4")
    try:
        s3 = open_s3(f"http://127.0.0.1:{front.port}", "us-east-1", DUMMY_ACCESS_KEY, DUMMY_SECRET_KEY, 5.0)
        throttled = r"ListObjectsV2 throttled: S3 answered SlowDown \(HTTP 503\)"
        with pytest.raises(UnexpectedAnswer, match=throttled):
            list(s3_names(s3, "throttled"))
        assert front.faults_served() == 4
        assert list(s3_names(s3, "throttled")) == []          # recovered: the next call passes
    finally:
        front.service.stop()
