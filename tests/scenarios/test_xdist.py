"""Scale-out: ``-n 2`` (pytest-xdist) gives the same record as a serial run, with clients per worker.

The target database is reached through a pass-through fault proxy, which logs every TCP connection it
accepts: pymongo opens a handful per client (monitor, RTT monitor, pool), so a client per test would show
hundreds of connections, a client per worker a few per worker.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from cutover.model import Database
from cutover.sandbox.stack import Sandbox
from cutover_testing.faults import start_fault_front

pytestmark = pytest.mark.sandbox
RunResult = Any   # tests/scenarios/conftest.py's RunResult (conftest modules are not importable by name)
# Connections one pymongo client may open here: monitor, RTT monitor, and a pool that grows with the threads
# using the client at once (the check, FILE-01's document prefetch and GridFS batches, the DB-06 sampler). One
# client per check would open at least one per check: the runs below touch more than 50.
PER_CLIENT = 12


def by_test(result: RunResult) -> dict[str, tuple[str, str]]:
    """test id -> (label, outcome): labels alone are not unique (DB-06 holds three tests)."""
    return {t["id"]: (t["label"], t["outcome"]) for t in result.record["tests"]}


def test_parallel_run_matches_serial_with_clients_per_worker(
    sandbox: Sandbox, run_checks: Callable[..., RunResult], tmp_path: Path,
) -> None:
    front = start_fault_front("database", int(urlsplit(sandbox.ep.target_uri).port or 0), tmp_path / "front")
    try:
        target = dataclasses.replace(sandbox.target("xdist"), cloud_functions=(),
                                     database=Database(uri=f"mongodb://127.0.0.1:{front.port}/parse_target"))
        serial = run_checks(target)
        serial_connections = front.connections_accepted()
        parallel = run_checks(target, "-n", "2")
        parallel_connections = front.connections_accepted() - serial_connections
    finally:
        front.service.stop()
    assert serial.exit_code == 0 and parallel.exit_code == 0, (serial.failing(), parallel.failing())
    assert by_test(parallel) == by_test(serial)
    assert "[gw" not in parallel.output or "2 workers" in parallel.output
    touching = sum(1 for t in serial.record["tests"] if t["criterion"].startswith(("DB-", "FILE-", "API-03")))
    assert touching > 50
    assert serial_connections <= PER_CLIENT, serial_connections
    assert 2 <= parallel_connections <= 2 * PER_CLIENT, parallel_connections
