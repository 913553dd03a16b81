"""Scale-out against the sandbox's real servers, compared with one serial run of the bundled catalogue:

- both full runs send only allowlisted, non-blocking commands (tests/scenarios/test_commands.py);
- ``-n 2`` (pytest-xdist) gives the same record, with clients per worker. The target database is reached
  through a pass-through fault proxy, which logs every TCP connection it accepts: pymongo opens a handful per
  client (monitor, RTT monitor, pool), so a client per test would show hundreds of connections, a client per
  worker a few per worker.
- 2 shards, merged, give the serial run's tests with their outcomes and a passing gate; DB-02's partitions and
  the per-class checks are spread over both shards; without one shard the merged gate is INCOMPLETE.
"""
from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from cutover.model import Database
from cutover.sandbox.stack import Sandbox
from cutover_testing.faults import start_fault_front
from tests.scenarios.test_commands import assert_only_allowlisted_commands

pytestmark = pytest.mark.sandbox
RunResult = Any   # tests/scenarios/conftest.py's RunResult (conftest modules are not importable by name)
# Connections one pymongo client may open here: monitor, RTT monitor, and a pool that grows with the threads
# using the client at once (the check, FILE-01's document prefetch and GridFS batches, the DB-06 sampler). One
# client per check would open at least one per check: the runs below touch more than 50.
PER_CLIENT = 12


def by_test(result: RunResult) -> dict[str, tuple[str, str]]:
    """test id -> (label, outcome): labels alone are not unique (DB-06 holds three tests)."""
    return {t["id"]: (t["label"], t["outcome"]) for t in result.record["tests"]}


def outcomes(record: dict[str, Any]) -> dict[str, str]:
    return {t["id"]: t.get("outcome", "") for t in record["tests"]}


def merge(*run_dirs: Path, reports: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cutover.run.cli", "merge", *map(str, run_dirs),
                           "--reports-dir", str(reports)], capture_output=True, text=True, timeout=120, check=False)


def test_parallel_and_sharded_runs_match_the_serial_one(
    sandbox: Sandbox, run_checks: Callable[..., RunResult], tmp_path: Path,
) -> None:
    front = start_fault_front("database", int(urlsplit(sandbox.ep.target_uri).port or 0), tmp_path / "front")
    try:
        target = dataclasses.replace(sandbox.target("scale-out"), cloud_functions=(),
                                     database=Database(uri=f"mongodb://127.0.0.1:{front.port}/parse_target"))
        serial = run_checks(target)
        serial_connections = front.connections_accepted()
        parallel = run_checks(target, "-n", "2")
        parallel_connections = front.connections_accepted() - serial_connections
        shards = [run_checks(target, "--shard", f"{k}/2") for k in (1, 2)]
    finally:
        front.service.stop()
    assert serial.exit_code == 0 and parallel.exit_code == 0, (serial.failing(), parallel.failing())
    assert_only_allowlisted_commands(serial.record)
    assert_only_allowlisted_commands(parallel.record)
    assert_parallel_like_serial(serial, parallel, serial_connections, parallel_connections)
    assert_shards_merge_to_serial(serial, shards, tmp_path)


def assert_parallel_like_serial(serial: RunResult, parallel: RunResult, serial_connections: int,
                                parallel_connections: int) -> None:
    assert by_test(parallel) == by_test(serial)
    assert "[gw" not in parallel.output or "2 workers" in parallel.output
    touching = sum(1 for t in serial.record["tests"] if t["criterion"].startswith(("DB-", "FILE-", "API-03")))
    assert touching > 50
    assert serial_connections <= PER_CLIENT, serial_connections
    assert 2 <= parallel_connections <= 2 * PER_CLIENT, parallel_connections


def assert_shards_merge_to_serial(serial: RunResult, shards: list[RunResult], tmp_path: Path) -> None:
    per_shard = [{t["label"].split("[")[0] for t in s.record["tests"]} for s in shards]
    assert "DB-02" in per_shard[0] and "DB-02" in per_shard[1], per_shard   # partitions on both machines
    out = merge(*(s.run_dir for s in shards), reports=tmp_path / "merged")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "GATE: PASS" in out.stdout
    merged = json.loads((Path(out.stdout.splitlines()[-1]) / "record.json").read_text())
    assert outcomes(merged) == outcomes(serial.record)
    incomplete = merge(shards[0].run_dir, reports=tmp_path / "gap")
    assert incomplete.returncode == 6 and "GATE: INCOMPLETE" in incomplete.stdout, incomplete.stdout
