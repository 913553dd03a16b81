"""Every way a run ends reaches ``Session.close()`` and the archive: SIGINT, SIGTERM and SIGHUP included.

In every process of a ``--target`` run (the controller and each pytest-xdist worker) the three signals take
the path Ctrl-C takes: KeyboardInterrupt in the main thread. The running check stops, fixtures are torn down
(probes removed), ``pytest_sessionfinish`` and ``pytest_unconfigure`` run: ``Session.close()`` in every
process, the sandbox stopped, the run archived as ``GATE: NOT RUN (interrupted)``, exit status 2. The
controller forwards the signal to its workers (each leaves its pid in the run's scratch directory), so they
stop at once instead of when pytest-xdist tears them down.

Only the first signal interrupts. Later ones, and any that comes once the run has begun to finish, are
noted and ignored: the stop is under way and takes seconds (SIGKILL still ends everything; the sandbox's
guards then stop its servers). An interruption during the sandbox start archives a record of its own.
"""
from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from cutover import __version__
from cutover.run.history import write_index
from cutover.run.record import redact_tree, write_json, write_manifest
from cutover_pytest import signing
from cutover_pytest.scratch import WORKERS, scratch_dir
from cutover_pytest.state import get_state

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
REASON = "interrupted"
VERDICT = f"GATE: NOT RUN ({REASON})"
SANDBOX_GRACE_S = 3.0   # sessions close (probes removed) within this, else the sandbox stops regardless
_WORKER_STATE = "cutover_state"   # the key under which the plugin hands the target to a worker


class Watch:
    """The signal handlers of one process: installed at configure, restored after the last hook."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.received = ""          # the name of the first signal
        self.armed = True           # False once the run has begun to finish
        self._previous: dict[int, Any] = {}

    def install(self) -> None:
        global _ACTIVE
        for sig in SIGNALS:
            self._previous[sig] = signal.signal(sig, self._on_signal)
        _ACTIVE = self

    def restore(self) -> None:
        global _ACTIVE
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        _ACTIVE = None

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if self.received or not self.armed:
            print(f"cutover: {name} received: the run is already stopping", file=sys.stderr, flush=True)
            return
        self.received = name
        state = get_state(self.config)
        if state is not None:  # whichever hook is interrupted, the archive says why there is no verdict
            state.not_run, state.interrupted_by = REASON, name
            _stop_sandbox_later(state.sandbox)
        forward(signum, worker_pids(self.config))
        raise KeyboardInterrupt(f"{name}: stopping the run")


_WATCH = pytest.StashKey[Watch]()
_ACTIVE: Watch | None = None   # this process's watch, for the one hook that is given no config


def _wanted(config: pytest.Config) -> bool:
    if threading.current_thread() is not threading.main_thread():
        return False  # signal handlers can only be set from the main thread
    if hasattr(config, "workerinput"):
        return bool(config.workerinput.get(_WORKER_STATE))
    return bool(config.getoption("target", None) or os.environ.get("CUTOVER_TARGET"))


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Before the plugin's configure (registered later, so called earlier among the tryfirst hooks): the
    sandbox starts there, and a signal during its start must stop it too."""
    if _wanted(config):
        watch = Watch(config)
        watch.install()
        config.stash[_WATCH] = watch
        config.add_cleanup(watch.restore)   # the first cleanup registered: the last one run


@pytest.hookimpl(tryfirst=True)
def pytest_keyboard_interrupt(excinfo: pytest.ExceptionInfo[BaseException]) -> None:
    """Before pytest renders the interrupted traceback: keep only its last entry (the signal handler), unless
    --full-trace. Rendering every frame of a deep stack took seconds on a loaded machine, in each process."""
    watch = _ACTIVE
    if watch is not None and watch.received and not watch.config.getoption("fulltrace", False):
        excinfo.traceback = excinfo.traceback[-1:]


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The run is finishing (archive and stop under way): from now on a signal is noted and ignored."""
    watch = session.config.stash.get(_WATCH, None)
    if watch is not None:
        watch.armed = False


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    state = get_state(config)
    if state is None or hasattr(config, "workerinput") or not state.interrupted_by or state.gate is not None:
        return  # with a gate, the plugin's own summary prints the verdict and who stopped the run
    terminalreporter.write_sep("=", f"{VERDICT} by {state.interrupted_by}", red=True)
    terminalreporter.write_line(f"cutover report: {state.run_dir / 'report.html'}")


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """A worker closes its session here (the controller's plugin closes the controller's)."""
    state = get_state(config)
    if state is not None and hasattr(config, "workerinput"):
        state.session.close()


def _stop_sandbox_later(sandbox: Any) -> None:
    """The orderly path stops the sandbox after every session closed; on a loaded machine that path can take
    seconds (pytest renders the interrupted traceback, pytest-html the report), so the sandbox is stopped
    ``SANDBOX_GRACE_S`` after the signal at the latest (stopping twice costs nothing)."""
    if sandbox is not None:
        timer = threading.Timer(SANDBOX_GRACE_S, sandbox.stop)
        timer.daemon = True
        timer.start()


# -- the workers ---------------------------------------------------------------------------------------------
def worker_pids(config: pytest.Config) -> list[int]:
    scratch = scratch_dir(config)
    if scratch is None or hasattr(config, "workerinput"):
        return []
    return [int(p.stem) for p in (scratch / WORKERS).glob("*.pid") if p.stem.isdigit()]


def forward(signum: int, pids: Iterable[int]) -> None:
    """Send ``signum`` to each pid that is still a child of this process (never to a recycled pid)."""
    for pid in pids:
        if _parent_of(pid) == os.getpid():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signum)


def _parent_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None if Path("/proc/self").exists() else os.getpid()  # no /proc (macOS): trust the note
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


# -- an interruption during the sandbox start ---------------------------------------------------------------
def archive_interrupted_start(config: pytest.Config, run_dir: Path, target_name: str,
                              secrets: Iterable[str] = ()) -> None:
    """The run directory of a run stopped while its sandbox was starting: record, page, manifest, index."""
    watch = config.stash.get(_WATCH, None)
    by = watch.received if watch is not None and watch.received else "KeyboardInterrupt"
    meta = {"run_id": run_dir.name, "target": target_name, "suite_version": __version__, **signing.meta(config)}
    write_json(run_dir / "record.json", {
        **meta, "finished_utc": _now(), "verdict": VERDICT, "exit_code": int(pytest.ExitCode.INTERRUPTED),
        "interrupted_by": by, "interrupted_during": "the sandbox start", "counts": {}, "tests": []})
    (run_dir / "report.html").write_text(
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>cutover: {target_name} {run_dir.name}</title>"
        f"</head><body><h1>{VERDICT}</h1><p>{by} stopped the run while the sandbox was starting; no check "
        f"ran. The component logs are in logs/.</p></body></html>\n", encoding="utf-8")
    redact_tree(run_dir, secrets)
    write_manifest(run_dir, meta)
    signing.sign(config, run_dir)
    write_index(run_dir.parent)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
