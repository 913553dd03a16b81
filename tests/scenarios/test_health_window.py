"""DB-06 end to end: planted deployments on a wire-protocol test server, checked through ``pytest --target``.

The server (tests/wire_fake.py) answers hello, buildInfo, ping, serverStatus, hostInfo, replSetGetStatus and
currentOp with documents of real shape (tests/server_docs.py) whose figures follow a planted timeline: a CPU
spike (by time since the first serverStatus, so every interval's CPU share is exact), a lock and admission
queue burst and a replication lag that grows (by serverStatus / replSetGetStatus call). Each defect must be
caught by DB-06 with a message naming the figure, the peak and when it happened; the clean deployment must
pass; what a server does not report must be "not applicable", never a pass; the window is sampled once
per run, also under pytest-xdist.
"""
from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pymongo
import pytest

from cutover.data.health_window import NOTHING_TO_SAMPLE
from cutover.model import Database, Source, Target, Thresholds
from tests.server_docs import hello, host_info, repl_set_status, server_status
from tests.wire_fake import FakeMongo

RunResult = Any   # tests/scenarios/conftest.py's RunResult (conftest modules are not importable by name)
ONLY = ("test_health.py",)
NARROWED: tuple[str, ...] = ()   # a run narrowed to DB-06; the coverage gate's --partial flag goes here
WINDOW = Thresholds(health_window_s=6.0, health_interval_s=0.5, timeout_s=5.0)
WHEN = r"at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \(\d+\.\d s into the window\)"
SECONDARY, STEADY = "db1.example.net:27017", "db2.example.net:27017"


@dataclass
class Planted:
    """A deployment whose health figures follow a timeline; counts the commands it answers."""

    version: str = "8.0.4"
    set_name: str = "rs0"                                        # "" is a standalone server
    cpu: tuple[tuple[float, float], ...] = ((math.inf, 0.05),)   # (until s, share of all cores) segments
    queue: Callable[[int], int] = lambda n: 0                     # lock queue at serverStatus call n
    admission: Callable[[int], int] = lambda n: 0                 # admission queue at serverStatus call n
    lags: Callable[[int], dict[str, float]] = lambda n: {SECONDARY: 1.0, STEADY: 1.0}
    bare: bool = False                                            # answers like the mongoeco stand-in
    linux: bool = True
    cores: int = 4
    calls: dict[str, int] = field(default_factory=dict)
    first: float | None = None
    port: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, name: str, command: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            n = self.calls.get(name, 0)
            self.calls[name] = n + 1
        handler = getattr(self, f"_{name.lower()}", None)
        if handler is None:
            return {"ok": 0.0, "errmsg": f"no such command: '{name}'", "code": 59, "codeName": "CommandNotFound"}
        return handler(n)   # type: ignore[no-any-return]

    def _hello(self, n: int) -> dict[str, Any]:
        me = f"127.0.0.1:{self.port}"
        doc = hello(self.version, set_name=self.set_name, me=me, hosts=(me, SECONDARY, STEADY))
        doc.pop("topologyVersion")   # no streaming monitor: the test server does not do exhaust replies
        marked = {"gitVersion": "mongoeco", "version": "7.0.0"} if self.bare else {}   # how mongoeco marks itself
        return doc | {"helloOk": True, "ismaster": True} | marked

    _ismaster = _hello

    def _buildinfo(self, n: int) -> dict[str, Any]:
        return {"version": self.version, "versionArray": [*map(int, self.version.split(".")), 0], "ok": 1.0}

    def _ping(self, n: int) -> dict[str, Any]:
        return {"ok": 1.0}

    _endsessions = _ping

    def _currentop(self, n: int) -> dict[str, Any]:
        return {"inprog": [], "ok": 1.0}

    def _hostinfo(self, n: int) -> dict[str, Any]:
        return host_info(self.version, cores=self.cores)

    def _serverstatus(self, n: int) -> dict[str, Any]:
        now = time.monotonic()
        self.first = self.first if self.first is not None else now
        elapsed = now - self.first
        if self.bare:
            return {"host": "vm", "version": "7.0.0", "process": "mongod", "uptimeMillis": int(elapsed * 1000),
                    "mongoeco": {"embedded": True, "dialectVersion": "7.0"}, "ok": 1.0}
        return server_status(self.version, cpu_us=self.cpu_us(elapsed), uptime_ms=3.6e6 + elapsed * 1000,
                             queued=(self.queue(n), 0), admission_queued=self.admission(n),
                             at=datetime.now(UTC), linux=self.linux)

    def _replsetgetstatus(self, n: int) -> dict[str, Any]:
        if not self.set_name:
            return {"ok": 0.0, "errmsg": "not running with --replSet", "code": 76, "codeName": "NoReplicationEnabled"}
        return repl_set_status(self.lags(n), at=datetime.now(UTC))

    def cpu_us(self, elapsed: float) -> float:
        """CPU microseconds used since the first serverStatus: the integral of the planted shares."""
        used, start = 1e9, 0.0
        for until, share in self.cpu:
            span = max(0.0, min(elapsed, until) - start)
            used, start = used + span * share * self.cores * 1e6, until
        return used


@pytest.fixture
def deploy() -> Iterator[Callable[..., tuple[Planted, Target]]]:
    servers: list[FakeMongo] = []

    def start(production: bool = True, thresholds: Thresholds = WINDOW, **planted: Any) -> tuple[Planted, Target]:
        deployment = Planted(**planted)
        server = FakeMongo(deployment.answer)
        servers.append(server)
        deployment.port = server.port
        uri = f"mongodb://127.0.0.1:{server.port}/app?directConnection=true"
        return deployment, Target(name="health", source=Source(kind="mongodb", uri=uri.replace("/app", "/src")),
                                  database=Database(uri=uri), thresholds=thresholds, production=production)

    yield start
    for server in servers:
        server.close()


def run_health(run_checks: Callable[..., RunResult], target: Target, *args: str) -> RunResult:
    return run_checks(target, *NARROWED, *args, only=ONLY)


def test_the_test_server_speaks_to_pymongo(deploy: Callable[..., tuple[Planted, Target]]) -> None:
    deployment, target = deploy()
    client: pymongo.MongoClient[Any] = pymongo.MongoClient(target.database.uri, serverSelectionTimeoutMS=5000)
    try:
        assert client.admin.command("ping")["ok"] == 1.0
        assert client.admin.command("hostInfo")["system"]["numCores"] == 4
        assert client.admin.command("replSetGetStatus")["set"] == "rs0"
    finally:
        client.close()
    assert deployment.calls["ping"] == 1


def test_a_clean_replica_set_passes_every_health_check(run_checks: Callable[..., RunResult],
                                                       deploy: Callable[..., tuple[Planted, Target]]) -> None:
    _, target = deploy()
    result = run_health(run_checks, target)
    assert result.exit_code == 0, result.failing() or result.output[-3000:]
    assert {label: outcome for label, outcome in result.outcomes.items()} == {
        "DB-06[writable_primary]": "passed", "DB-06[replica_set]": "passed", "DB-06[cpu]": "passed",
        "DB-06[lock_queue]": "passed", "DB-06[admission_queue]": "passed", "DB-06[replication_lag]": "passed",
        "DB-06[none]": "skipped", "DB-06[live_sync_delivers]": "skipped"}
    assert result.messages["DB-06[live_sync_delivers]"].startswith("not applicable: no live sync declared")
    cpu = entry(result, "DB-06[cpu]")
    assert 4.5 < cpu["facts"]["cpu"]["mean"] < 5.5 and len(cpu["series"][0]["points"]) == 12
    assert len(cpu["facts"]["window"]["samples"]) == 13


def test_each_planted_defect_is_caught_and_named_once_per_run_under_xdist(
    run_checks: Callable[..., RunResult], deploy: Callable[..., tuple[Planted, Target]],
) -> None:
    burst = {4, 5, 6}
    deployment, target = deploy(cpu=((1.0, 0.05), (5.0, 0.95), (math.inf, 0.05)),
                                queue=lambda n: 25 if n in burst else 0, admission=lambda n: 7 if n in burst else 0,
                                lags=lambda n: {SECONDARY: 2.0 * n, STEADY: 1.0})
    result = run_health(run_checks, target, "-n", "2")
    failing = result.failing()
    assert set(failing) == {"DB-06[cpu]", "DB-06[lock_queue]", "DB-06[admission_queue]", "DB-06[replication_lag]"}, \
        result.output[-3000:]
    assert re.search(rf"CPU time averaged \d\d\.\d% of 4 cores .* \(limit 20%\); peak 9\d\.\d% {WHEN}",
                     failing["DB-06[cpu]"]), failing["DB-06[cpu]"]
    assert re.search(rf"lock queue \(globalLock.currentQueue.total\) peak 25 operations {WHEN} \(limit 0\)",
                     failing["DB-06[lock_queue]"]), failing["DB-06[lock_queue]"]
    assert re.search(rf"admission queue .* peak 7 operations {WHEN}", failing["DB-06[admission_queue]"])
    assert re.search(rf"replica set rs0: replication lag of {SECONDARY} peak 24\.0 s {WHEN}, from 0\.0 s at the "
                     r"start to 24\.0 s at the end \(limit 10 s\)", failing["DB-06[replication_lag]"]), \
        failing["DB-06[replication_lag]"]
    assert STEADY not in failing["DB-06[replication_lag]"]
    assert deployment.calls["serverStatus"] == 13 == deployment.calls["replSetGetStatus"], deployment.calls
    windows = {str(entry(result, label)["facts"]["window"]["samples"]) for label in failing}
    assert len(windows) == 1, "every DB-06 check, on either worker, judged the one window of the run"


def test_a_standalone_production_server_fails_and_what_it_does_not_report_is_not_applicable(
    run_checks: Callable[..., RunResult], deploy: Callable[..., tuple[Planted, Target]],
) -> None:
    """A 5.0 standalone on Windows: no replica set (fails, major, waivable), no CPU times, no admission queue."""
    _, target = deploy(version="5.0.26", set_name="", linux=False)
    result = run_health(run_checks, target)
    assert result.exit_code == 1 and "GATE: FAIL - 1 major" in result.output, result.output[-3000:]
    assert result.failing() == {"DB-06[replica_set]": "target database is a standalone server: no replica set, so "
                                "no failover for a production target (production = true); expected a replica set "
                                "with at least 2 electable members"}
    assert result.outcomes["DB-06[lock_queue]"] == "passed"
    assert result.messages["DB-06[cpu]"].startswith("not applicable: this server reports no process CPU time")
    assert result.messages["DB-06[admission_queue]"].startswith("not applicable: this server reports no admission")
    assert result.messages["DB-06[replication_lag]"].startswith("not applicable: no replica set")


def test_a_server_reporting_nothing_is_not_applicable_and_does_not_hold_the_run(
    run_checks: Callable[..., RunResult], deploy: Callable[..., tuple[Planted, Target]],
) -> None:
    """Like the mongoeco stand-in, with the default 60 s window: one sample, then every figure not applicable."""
    deployment, target = deploy(production=False, set_name="", bare=True, thresholds=Thresholds())
    result = run_health(run_checks, target)
    assert result.exit_code == 0, result.output[-3000:]
    window = entry(result, "DB-06[cpu]")["facts"]["window"]
    assert NOTHING_TO_SAMPLE in window["server_notes"] and len(window["samples"]) == 1
    waited = sum(t["duration"] for t in result.record["tests"])
    assert waited < 60, f"the DB-06 checks waited {waited:.0f} s: the 60 s window was not cut short"
    skipped = {label: message for label, message in result.messages.items() if result.outcomes[label] == "skipped"}
    assert all(m.startswith(("not applicable: ", "nothing to check")) for m in skipped.values()), skipped
    for label in ("DB-06[cpu]", "DB-06[lock_queue]", "DB-06[admission_queue]"):   # the stand-in, named as such
        assert "the sandbox's stand-in (mongoeco) reports no" in skipped[label], skipped[label]
        assert entry(result, label)["facts"]["stand_in"]["server"] == "the sandbox's stand-in (mongoeco)"
    assert set(skipped) == {"DB-06[replica_set]", "DB-06[cpu]", "DB-06[lock_queue]", "DB-06[admission_queue]",
                            "DB-06[replication_lag]", "DB-06[none]", "DB-06[live_sync_delivers]"}
    assert result.outcomes["DB-06[writable_primary]"] == "passed" and deployment.calls["serverStatus"] == 1


def entry(result: RunResult, label: str) -> dict[str, Any]:
    return next(t for t in result.record["tests"] if t["label"] == label)


def test_the_planted_cpu_timeline_integrates_its_segments() -> None:
    planted = Planted(cpu=((1.0, 0.5), (math.inf, 0.0)), cores=2)
    assert planted.cpu_us(0.5) - 1e9 == pytest.approx(0.5e6)
    assert planted.cpu_us(3.0) - 1e9 == pytest.approx(1e6)

