"""The whole sandbox: it starts, serves pymongo and the Node driver (through Parse Server), migrates exactly,
and stops every process it started: on stop, on Ctrl-C during the start or after it, and on a failed start.

One sandbox (small scale) is shared by the module; ``python -m cutover.sandbox`` runs beside it in a
subprocess, which also proves two sandboxes coexist. Processes and listening ports are read from /proc.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mongomock
import pytest
import requests
from bson.raw_bson import RawBSONDocument

from cutover.errors import SandboxError
from cutover.sandbox import pipeline, stack
from cutover.sandbox.__main__ import READY_LINE
from cutover.sandbox.cache_dir import default_cache_dir
from cutover.sandbox.migrate import collection_infos, normalized_indexes, raw
from cutover.sandbox.process import Service, port_open
from cutover.sandbox.stack import Sandbox
from tests.proctable import alive, descendants, listening_ports

pytestmark = pytest.mark.sandbox
REPO = Path(__file__).resolve().parents[2]
CACHE = default_cache_dir()  # $CUTOVER_CACHE_DIR, else the per-user cache
REAL_MONGO = bool(os.environ.get(stack.REAL_MONGO_ENV))
SCALE = 300
HTTP_TIMEOUT = 10


# -- processes and ports, from /proc ------------------------------------------------------------------------
def with_services(guards: set[int]) -> set[int]:
    """Each service runs under a guard (:mod:`cutover.sandbox.guard`): the guards and what runs below them."""
    return guards.union(*(descendants(pid) for pid in guards))


def assert_all_gone(pids: set[int], ports: set[int]) -> None:
    assert pids, "no child process was recorded: nothing was proven"
    left = {pid for pid in pids if alive(pid)}
    assert not left, f"processes still running after the stop: {sorted(left)}"
    listening = {port for port in ports if port_open("127.0.0.1", port)}
    assert not listening, f"ports still accepting connections after the stop: {sorted(listening)}"


def port_of(url: str) -> int:
    match = re.search(r":(\d+)(/|$)", url.split("://", 1)[1])
    assert match, url
    return int(match.group(1))


# -- the shared sandbox -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    sandbox = Sandbox(tmp_path_factory.mktemp("stack"), scale=SCALE, cache_dir=CACHE)
    with sandbox:
        pids = with_services({svc.pid for svc in sandbox.services if svc.pid})
        ports = listening_ports(pids)
        private = sandbox.pki.ca_file.parent if sandbox.pki else None
        yield sandbox
    assert_all_gone(pids, ports)
    assert private is not None and not private.exists(), "the PKI outlived the sandbox"


def parse_headers(box: Sandbox) -> dict[str, str]:
    return {"X-Parse-Application-Id": stack.APP_ID, "X-Parse-Master-Key": box.keys["master_key"]}


def rest(box: Sandbox, method: str, url: str, **kwargs: Any) -> requests.Response:
    return requests.request(method, url, headers=parse_headers(box), timeout=HTTP_TIMEOUT, **kwargs)


def test_every_component_runs_with_its_log_under_the_run_directory(box: Sandbox) -> None:
    names = " | ".join(svc.name for svc in box.services)
    expected = ["s3", "source parse-server", "target parse-server", "TLS front"]
    expected += [] if REAL_MONGO else ["mongoeco"] * 2
    assert all(names.count(part) >= expected.count(part) for part in expected), names
    for svc in box.services:
        assert svc.proc is not None and svc.proc.poll() is None, f"{svc.name} is not running"
        assert svc.log_path.is_file() and svc.log_path.parent == box.run_dir / "logs", svc.log_path


def test_the_pki_is_private_and_no_private_key_is_under_the_run_directory(box: Sandbox) -> None:
    assert box.pki is not None
    private = box.pki.good.key_file.parent
    assert box.run_dir.resolve() not in private.resolve().parents
    assert stat.S_IMODE(private.stat().st_mode) == 0o700
    assert "PRIVATE KEY" in box.pki.good.key_file.read_text()   # the scan below would see one
    held = [p for p in box.run_dir.rglob("*") if p.is_file() and "PRIVATE KEY" in p.read_text(errors="replace")]
    assert not held, held


def test_each_component_listens_on_its_own_port_chosen_at_run_time(box: Sandbox) -> None:
    urls = [box.ep.s3_url, box.ep.parse_url, box.ep.source_parse_url, box.ep.parse_public_url]
    urls += [] if REAL_MONGO else [box.ep.source_uri, box.ep.target_uri]
    ports = [port_of(url) for url in urls]
    held = listening_ports(with_services({svc.pid for svc in box.services if svc.pid}))
    assert len(set(ports)) == len(ports) and set(ports) <= held, (ports, held)
    assert not {27017, 1337} & set(ports), "a fixed default port would stop two runs from coexisting"


def test_the_target_holds_exactly_the_source_indexes_and_bytes_read_with_pymongo(box: Sandbox) -> None:
    src, dst = box.db(box.ep.source_uri), box.db(box.ep.target_uri)
    names = [str(info["name"]) for info in collection_infos(src)]
    assert names == [str(info["name"]) for info in collection_infos(dst)]
    assert {"GameScore", "_User", "_SCHEMA", "fs.chunks"} <= set(names)
    for name in names:
        assert normalized_indexes(dst[name]) == normalized_indexes(src[name]), name
        assert _documents(dst[name]) == _documents(src[name]), name


def _documents(coll: Any) -> dict[Any, bytes]:
    return {doc["_id"]: bytes(doc.raw) for doc in raw(coll).find() if isinstance(doc, RawBSONDocument)}


def test_the_seed_summary_counts_what_the_source_holds(box: Sandbox) -> None:
    assert box.seed_summary is not None
    src = box.db(box.ep.source_uri)
    assert {name: src[name].count_documents({}) for name in box.seed_summary.counts} == box.seed_summary.counts
    assert box.seed_summary.counts["GameScore"] > 0 and box.seed_summary.s3_files


def test_both_parse_servers_read_the_seeded_objects_through_the_node_driver(box: Sandbox) -> None:
    for url, uri in ((box.ep.source_parse_url, box.ep.source_uri), (box.ep.parse_url, box.ep.target_uri)):
        answer = rest(box, "GET", f"{url}/classes/GameScore", params={"count": 1, "limit": 3, "order": "score"})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        coll = box.db(uri)["GameScore"]
        assert body["count"] == coll.count_documents({})
        for obj in body["results"]:
            assert coll.find_one({"_id": obj["objectId"]})["score"] == obj["score"]


def test_every_declared_query_of_the_demo_matches_seeded_objects_through_both_servers(box: Sandbox) -> None:
    """API-08 compares the declared queries' answers: an empty answer on both sides would prove nothing."""
    target = box.target()
    for server in (target.parse.server_url, target.source_parse.server_url):
        for query in target.queries:
            resp = requests.get(f"{server}/classes/{query.cls}", params={"where": json.dumps(query.where)},
                                headers={"X-Parse-Application-Id": target.parse.app_id,
                                         "X-Parse-Master-Key": target.parse.master_key}, timeout=10)
            assert resp.status_code == 200 and resp.json()["results"], (query.label, server, resp.text[:200])


def test_an_object_created_through_rest_is_in_the_target_database_and_not_in_the_source(box: Sandbox) -> None:
    created = rest(box, "POST", f"{box.ep.parse_url}/classes/GameScore",
                   json={"playerName": "stack probe", "score": 4242})
    assert created.status_code == 201, created.text
    oid = created.json()["objectId"]
    try:
        stored = box.db(box.ep.target_uri)["GameScore"].find_one({"_id": oid})
        assert stored is not None and (stored["playerName"], stored["score"]) == ("stack probe", 4242)
        assert box.db(box.ep.source_uri)["GameScore"].find_one({"_id": oid}) is None
    finally:
        assert rest(box, "DELETE", f"{box.ep.parse_url}/classes/GameScore/{oid}").status_code == 200
    assert box.db(box.ep.target_uri)["GameScore"].find_one({"_id": oid}) is None


def test_the_tls_front_serves_the_target_parse_server_with_the_sandbox_ca(box: Sandbox) -> None:
    assert box.pki is not None
    answer = requests.get(f"{box.ep.parse_public_url}/health", verify=str(box.pki.ca_file), timeout=HTTP_TIMEOUT)
    assert answer.json() == {"status": "ok"}
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"{box.ep.parse_public_url}/health", verify=True, timeout=HTTP_TIMEOUT)


def test_the_start_is_timed_step_by_step(box: Sandbox) -> None:
    steps = ["stores", "source_parse", "seed_and_migrate", "ready"]
    assert list(box.timings) == steps
    assert box.timings["ready"] == max(box.timings.values()) > 0


# -- python -m cutover.sandbox: Ctrl-C after ready and during the start ---------------------------------------
class Launched:
    """``python -m cutover.sandbox`` in a subprocess; its output is collected by a reader thread."""

    def __init__(self, run_dir: Path, scale: int) -> None:
        argv = [sys.executable, "-m", "cutover.sandbox", "--scale", str(scale), "--run-dir", str(run_dir),
                "--cache-dir", str(CACHE)]
        self.proc = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True)
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def read_until(self, marker: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while marker not in self.output and time.monotonic() < deadline and self.proc.poll() is None:
            time.sleep(0.1)
        assert marker in self.output, f"no {marker!r} after {timeout} s (exit {self.proc.poll()}):\n{self.output}"
        return self.output

    def interrupt(self, timeout: float = 60) -> int:
        """SIGINT, as Ctrl-C sends it; the exit status once the process is gone."""
        self.proc.send_signal(signal.SIGINT)
        code = self.proc.wait(timeout=timeout)
        self.reader.join(timeout=5)
        return code


@pytest.fixture
def launched() -> Iterator[list[Launched]]:
    """Whatever a test launched is killed (group by group) if the test failed before stopping it."""
    runs: list[Launched] = []
    yield runs
    for proc in (run.proc for run in runs):
        if proc.poll() is None:
            for pid in descendants(proc.pid):
                _kill_group(pid)
            proc.kill()
            proc.wait(timeout=10)


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def test_python_m_sandbox_runs_beside_another_and_ctrl_c_stops_everything(
        box: Sandbox, tmp_path: Path, launched: list[Launched]) -> None:
    run = Launched(tmp_path / "run", 100)
    launched.append(run)
    out = run.read_until(READY_LINE, timeout=240)
    pids = descendants(run.proc.pid)
    ports = listening_ports(pids)
    url = re.search(r"target Parse Server +(\S+)", out)
    assert url and requests.get(f"{url.group(1)}/health", timeout=HTTP_TIMEOUT).json() == {"status": "ok"}
    assert rest(box, "GET", f"{box.ep.parse_url}/health").json() == {"status": "ok"}, "the first run broke"
    secrets = [line.split("=", 1)[1] for line in (tmp_path / "run" / "sandbox.env").read_text().splitlines()]
    assert secrets and not [s for s in secrets if s in out], "a secret value was printed"
    assert "${" in out and "--target sandbox" in out
    assert run.interrupt() == 0 and "sandbox stopped" in run.output, run.output
    assert_all_gone(pids, ports)


def test_ctrl_c_during_the_start_stops_every_child(tmp_path: Path, launched: list[Launched]) -> None:
    run = Launched(tmp_path / "run", 3000)
    launched.append(run)
    proc = run.proc
    started = tmp_path / "run" / "logs" / "source-parse-server.log"  # stores up, seeding under way
    deadline = time.monotonic() + 120
    while not started.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
    assert started.exists(), f"the start never reached the seeding (exit {proc.poll()})"
    pids = descendants(proc.pid)
    ports = listening_ports(pids)
    code = run.interrupt()
    assert READY_LINE not in run.output, "the interrupt came too late to test a start"
    assert code == 130 and "interrupted during the start" in run.output, run.output
    assert_all_gone(pids, ports)


# -- failed starts --------------------------------------------------------------------------------------------
@pytest.fixture
def spawned(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """name -> pid of every process a sandbox spawned, recorded before the sandbox forgets them on stop."""
    seen: dict[str, int] = {}
    original = Sandbox._spawn

    def spawn(self: Sandbox, service: Service) -> Service:
        started = original(self, service)
        seen[service.name] = started.pid or 0
        return started

    monkeypatch.setattr(Sandbox, "_spawn", spawn)
    return seen


def test_a_missing_binary_fails_the_start_naming_it_and_stops_the_rest(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spawned: dict[str, int]) -> None:
    def broken_parse(opts: Any, log_path: Path, cache_dir: Path, node: Any = None, packages: Any = None) -> Service:
        return Service(name="parse-server", argv=[str(tmp_path / "no-such-node")], log_path=log_path,
                       ready=lambda: False)

    monkeypatch.setattr(stack, "parse_service", broken_parse)
    box = Sandbox(tmp_path / "run", scale=100, cache_dir=CACHE)
    with pytest.raises(SandboxError, match=r"source parse-server .*could not be started.*"
                                           r"source-parse-server\.log"):
        box.start()
    assert_stopped(box, spawned, at_least=1 if REAL_MONGO else 3)  # S3 and both databases were up


def test_an_unsupported_node_asked_for_fails_the_start_before_any_component_starts(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spawned: dict[str, int]) -> None:
    old = tmp_path / "node"
    old.write_text("#!/bin/sh\necho v18.0.0\n")
    old.chmod(0o755)
    monkeypatch.setenv("CUTOVER_NODE", str(old))
    box = Sandbox(tmp_path / "run", scale=100, cache_dir=tmp_path / "cache")
    with pytest.raises(SandboxError, match=r"Node\.js 18\.0\.0 is not supported by parse-server"):
        box.start()
    assert not spawned and not (tmp_path / "cache").exists()


def test_a_component_that_exits_fails_the_start_naming_its_log_and_stops_the_rest(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spawned: dict[str, int]) -> None:
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    real_s3 = stack.s3_service
    monkeypatch.setattr(stack, "s3_service", lambda port, log: real_s3(busy.getsockname()[1], log))
    box = Sandbox(tmp_path / "run", scale=100, cache_dir=CACHE)
    try:
        with pytest.raises(SandboxError, match=r"s3 \(moto_server\) exited with code \d+ .*s3\.log"):
            box.start()
    finally:
        busy.close()
    assert_stopped(box, spawned, at_least=3)  # S3, the source Parse Server, the TLS front (+ databases)


def assert_stopped(box: Sandbox, spawned: dict[str, int], at_least: int) -> None:
    """At least ``at_least`` components had started before the failure; none of them still runs."""
    assert len(spawned) >= at_least, spawned
    assert not box.services
    left = {name: pid for name, pid in spawned.items() if alive(pid)}
    assert not left, f"still running after the failed start: {left}"


# -- the batch copy, in process ---------------------------------------------------------------------------------
def test_copy_batch_reads_back_by_position_or_by_id_and_refuses_a_short_read() -> None:
    client: mongomock.MongoClient[Any] = mongomock.MongoClient()
    src, dst = client["src"]["C"], client["dst"]["C"]
    src.insert_many([{"_id": f"id{i}", "n": i} for i in range(6)])
    assert pipeline.copy_batch(src, dst, 2, ["id2", "id3"]) == 2  # stored at positions 2 and 3
    assert pipeline.copy_batch(src, dst, 0, ["id5", "id4"]) == 2  # not where it says: read back by _id
    assert sorted(dst.find(), key=lambda d: d["n"]) == [{"_id": f"id{i}", "n": i} for i in (2, 3, 4, 5)]
    with pytest.raises(SandboxError, match="2 documents were loaded, 1 read back"):
        pipeline.copy_batch(src, dst, 0, ["id0", "missing"])
