"""Every way a run ends reaches ``Session.close()`` and the archive: SIGINT, SIGTERM and SIGHUP included.

In every process of a ``--target`` run (the controller and each pytest-xdist worker) the three signals take
the path Ctrl-C takes: KeyboardInterrupt in the main thread. The running check stops, fixtures are torn down
(probes removed), ``pytest_sessionfinish`` and ``pytest_unconfigure`` run: ``Session.close()`` in every
process, the sandbox stopped, the run archived as ``GATE: NOT RUN (interrupted)``, exit status 2. The
controller forwards the signal to its workers (each leaves its pid in the run's scratch directory), so they
stop at once instead of when pytest-xdist tears them down.

Only the first signal interrupts. Later ones, and any that comes once the run has begun to finish, are
noted and ignored: the stop is under way and takes seconds (SIGKILL still ends everything; the sandbox's
guards then stop its servers). An interruption during the sandbox start archives a record of its own
(:func:`cutover_pytest.archive.archive_interrupted_start`).
"""
from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:   # the sandbox needs the 'sandbox' extra: imported only for a sandbox target
    from cutover.sandbox.stack import Sandbox

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
REASON = "interrupted"
VERDICT = f"GATE: NOT RUN ({REASON})"
SANDBOX_GRACE_S = 3.0   # sessions close (probes removed) within this, else the sandbox stops regardless


class Watch:
    """The signal handlers of one process, a plugin object: installed at configure, restored after the last
    hook. The controller tells it its sandbox (stopped soon after a signal) and its workers (the signal is
    forwarded to them)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.received = ""          # the name of the first signal
        self.armed = True           # False once the run has begun to finish
        self.sandbox: Sandbox | None = None
        self.workers: Callable[[], list[int]] = list
        self._previous: dict[int, Any] = {}

    @classmethod
    def install(cls, config: pytest.Config) -> Watch | None:
        """Install the handlers (only the main thread can), register the watch; restored at cleanup."""
        if threading.current_thread() is not threading.main_thread():
            return None
        watch = cls(config)
        for sig in SIGNALS:
            watch._previous[sig] = signal.signal(sig, watch._on_signal)
        config.pluginmanager.register(watch, "cutover-signals")
        config.add_cleanup(watch.restore)   # the first cleanup registered: the last one run
        return watch

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if self.received or not self.armed:
            print(f"cutover: {name} received: the run is already stopping", file=sys.stderr, flush=True)
            return
        self.received = name
        _stop_sandbox_later(self.sandbox)
        forward(signum, self.workers())
        raise KeyboardInterrupt(f"{name}: stopping the run")

    @pytest.hookimpl(tryfirst=True)
    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        """Before pytest renders the interrupted traceback: keep only its last entry (the signal handler), unless
        --full-trace. Rendering every frame of a deep stack took seconds on a loaded machine, in each process."""
        if self.received and not self.config.getoption("fulltrace", False):
            excinfo.traceback = excinfo.traceback[-1:]

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """The run is finishing (archive and stop under way): from now on a signal is noted and ignored."""
        self.armed = False


def _stop_sandbox_later(sandbox: Sandbox | None) -> None:
    """The orderly path stops the sandbox after every session closed; on a loaded machine that path can take
    seconds (pytest renders the interrupted traceback, pytest-html the report), so the sandbox is stopped
    ``SANDBOX_GRACE_S`` after the signal at the latest (stopping twice costs nothing)."""
    if sandbox is not None:
        timer = threading.Timer(SANDBOX_GRACE_S, sandbox.stop)
        timer.daemon = True
        timer.start()


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
