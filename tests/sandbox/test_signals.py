"""Signals and SIGKILL, end to end: ``pytest --target demo`` and ``python -m cutover.sandbox`` in subprocesses,
checked against the process table (the descendants of each run's own pid, read from /proc).

SIGINT, SIGTERM or SIGHUP in the middle of the checks, or SIGTERM during the sandbox start: every sandbox
process is gone within 10 s, ``Session.close()`` ran in every process (the controller and each pytest-xdist
worker: a spy plugin records their pids), the run is archived (record, report, manifest intact) as
``GATE: NOT RUN (interrupted)`` with exit status 2, and the run directory holds no private key. After SIGKILL
of pytest (or of ``python -m cutover.sandbox``) the services' guards stop every one of them within 10 s.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cutover.run.run_directory import verify_manifest
from cutover.sandbox.__main__ import READY_LINE
from cutover.sandbox.cache_dir import default_cache_dir
from cutover.sandbox.process import port_open
from tests.inner_runs import UNUSED_PLUGINS
from tests.proctable import alive, command, descendants, listening_ports, wait_gone

pytestmark = pytest.mark.sandbox
REPO = Path(__file__).resolve().parents[2]
CACHE = default_cache_dir()
STOP_BOUND_S = 10.0
MIN_SANDBOX = 8 if os.environ.get("CUTOVER_TEST_MONGODB_URI") else 12   # guards + their services
VERDICT = "GATE: NOT RUN (interrupted)"


class Launched:
    """A subprocess whose output goes to a file; its sandbox is the guards below it and what they run."""

    def __init__(self, tmp_path: Path, argv: list[str]) -> None:
        self.out = tmp_path / "output.txt"
        self.spy = tmp_path / "closed.txt"
        (tmp_path / "tmp").mkdir()
        env = {**os.environ, "CUTOVER_CLOSE_SPY": str(self.spy), "TMPDIR": str(tmp_path / "tmp")}
        with open(self.out, "w", encoding="utf-8") as out:
            self.proc = subprocess.Popen(argv, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
        self.seen: set[int] = set()

    @property
    def output(self) -> str:
        return self.out.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, pattern: str, timeout: float = 600) -> None:
        deadline = time.monotonic() + timeout
        while not re.search(pattern, self.output) and self.proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert re.search(pattern, self.output), f"no {pattern!r} (exit {self.proc.poll()}):\n{self.output[-3000:]}"

    def sandbox(self) -> set[int]:
        """The guards below this process and everything they run, now."""
        below = descendants(self.proc.pid)
        guards = {pid for pid in below if "cutover/sandbox/guard.py" in command(pid)}
        found = guards.union(*(descendants(pid) for pid in guards))
        self.seen |= found
        return found

    def signal_and_time(self, sig: signal.Signals, at_least: int = MIN_SANDBOX
                        ) -> tuple[set[int], set[int], dict[int, float]]:
        """Send ``sig``; the sandbox's pids and ports just before, and how long each pid lived after it."""
        pids = self.sandbox()
        assert len(pids) >= at_least, {pid: command(pid) for pid in pids}
        ports = listening_ports(pids)
        os.kill(self.proc.pid, sig)
        return pids, ports, wait_gone(pids, within=STOP_BOUND_S + 20)

    def closed_in(self) -> set[int]:
        return {int(line) for line in self.spy.read_text().split()} if self.spy.exists() else set()

    def kill_leftovers(self) -> None:
        for pid in self.seen | {self.proc.pid}:
            if alive(pid):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)


@pytest.fixture
def launched() -> Iterator[list[Launched]]:
    runs: list[Launched] = []
    yield runs
    for run in runs:
        run.kill_leftovers()


def demo(tmp_path: Path, launched: list[Launched], *args: str, scale: int = 300) -> Launched:
    argv = [sys.executable, "-m", "pytest", "--target", "demo", "--scale", str(scale),
            f"--reports-dir={tmp_path / 'reports'}", "-p", "no:randomly", *UNUSED_PLUGINS, "-p", "tests.close_spy",
            "-v", *args]
    run = Launched(tmp_path, argv)
    launched.append(run)
    return run


def assert_stopped_in_time(pids: set[int], ports: set[int], gone: dict[int, float]) -> None:
    late = {pid: t for pid, t in gone.items() if t > STOP_BOUND_S}
    assert set(gone) == pids and not late, (
        f"sandbox processes alive {STOP_BOUND_S:g} s after the signal: "
        f"{ {pid: command(pid) for pid in pids - set(gone)} } late: {late}")
    assert not [port for port in ports if port_open("127.0.0.1", port)]
    print(f"{len(pids)} sandbox processes gone {max(gone.values()):.1f} s after the signal")  # shown by -rA


def the_run_dir(tmp_path: Path) -> Path:
    (only,) = (p for p in (tmp_path / "reports" / "demo").iterdir() if p.is_dir())
    return only


def assert_archived_interrupted(run_dir: Path, by: str) -> dict[str, Any]:
    record = json.loads((run_dir / "record.json").read_text(encoding="utf-8"))
    assert (record["verdict"], record["interrupted_by"]) == (VERDICT, by), record["verdict"]
    assert (run_dir / "report.html").is_file() and verify_manifest(run_dir) == []
    assert sorted(p.name for p in (run_dir / "logs").iterdir()), "no component log archived"
    assert_no_private_key(run_dir)
    return dict(record)


def assert_no_private_key(directory: Path) -> None:
    held = [p for p in directory.rglob("*") if p.is_file()
            and (p.name.endswith(".key.pem") or "PRIVATE KEY" in p.read_text(errors="replace"))]
    assert not held, f"private keys in {directory}: {held}"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=lambda s: s.name)
def test_a_signal_during_the_checks(tmp_path: Path, launched: list[Launched], sig: signal.Signals) -> None:
    run = demo(tmp_path, launched)
    run.wait_for(r"checks/\S+ PASSED")
    pids, ports, gone = run.signal_and_time(sig)
    assert run.proc.wait(timeout=120) == pytest.ExitCode.INTERRUPTED
    assert_stopped_in_time(pids, ports, gone)
    assert f"{VERDICT} by {sig.name}" in run.output
    assert_archived_interrupted(the_run_dir(tmp_path), sig.name)
    assert run.proc.pid in run.closed_in()


def test_sigterm_under_xdist_closes_the_session_in_every_worker(tmp_path: Path, launched: list[Launched]) -> None:
    run = demo(tmp_path, launched, "-n", "2")
    run.wait_for(r"\[gw\d\] .*PASSED")
    workers = {pid for pid in descendants(run.proc.pid) if pid not in run.sandbox()}
    pids, ports, gone = run.signal_and_time(signal.SIGTERM)
    assert run.proc.wait(timeout=120) == pytest.ExitCode.INTERRUPTED
    assert_stopped_in_time(pids, ports, gone)
    assert_archived_interrupted(the_run_dir(tmp_path), "SIGTERM")
    closed = run.closed_in()
    assert run.proc.pid in closed and len(closed - {run.proc.pid}) == 2, (closed, workers)
    assert closed - {run.proc.pid} <= workers


def test_sigterm_during_the_sandbox_start(tmp_path: Path, launched: list[Launched]) -> None:
    run = demo(tmp_path, launched, scale=3000)
    deadline, started = time.monotonic() + 600, MIN_SANDBOX - 4   # the target's Parse Server still to come
    # seeding under way: the source Parse Server's log exists, and its process (not only its guard) runs
    while not (list((tmp_path / "reports").glob("demo/*/logs/source-parse-server.log"))
               and len(run.sandbox()) >= started):
        assert run.proc.poll() is None and time.monotonic() < deadline, run.output[-3000:]
        time.sleep(0.1)
    pids, ports, gone = run.signal_and_time(signal.SIGTERM, at_least=started)
    assert run.proc.wait(timeout=120) == pytest.ExitCode.INTERRUPTED
    assert "collected" not in run.output, "the signal came too late to test a start"
    assert_stopped_in_time(pids, ports, gone)
    record = assert_archived_interrupted(the_run_dir(tmp_path), "SIGTERM")
    assert record["interrupted_during"] == "the sandbox start" and record["tests"] == []
    assert not list((tmp_path / "tmp").glob("cutover-sandbox-pki-*")), "the PKI outlived the sandbox"


def test_sigkill_of_pytest_leaves_no_sandbox_process(tmp_path: Path, launched: list[Launched]) -> None:
    run = demo(tmp_path, launched)
    run.wait_for(r"checks/\S+ PASSED")
    pids, ports, gone = run.signal_and_time(signal.SIGKILL)
    assert_stopped_in_time(pids, ports, gone)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGHUP], ids=lambda s: s.name)
def test_python_m_sandbox(tmp_path: Path, launched: list[Launched], sig: signal.Signals) -> None:
    run = Launched(tmp_path, [sys.executable, "-m", "cutover.sandbox", "--scale", "100",
                              "--run-dir", str(tmp_path / "run"), "--cache-dir", str(CACHE)])
    launched.append(run)
    run.wait_for(READY_LINE)
    pids, ports, gone = run.signal_and_time(sig)
    assert_stopped_in_time(pids, ports, gone)
    code = run.proc.wait(timeout=60)
    if sig is signal.SIGHUP:
        assert code == 0 and "sandbox stopped" in run.output, run.output[-2000:]
        assert not list((tmp_path / "tmp").glob("cutover-sandbox-pki-*")), "the PKI outlived the sandbox"
    assert_no_private_key(tmp_path / "run")
