"""The guard every sandbox service runs under: the service dies when the process that started it dies (even
by SIGKILL, with no stop), a stop still waits for the service, and its exit status comes through."""
from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from cutover.errors import SandboxError
from cutover.sandbox.guard import GRACE_S, POLL_S
from cutover.sandbox.process import Service
from tests.proctable import alive, descendants, wait_gone

REPO = Path(__file__).resolve().parents[2]
SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]
STUBBORN = [sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
            "print('ignoring SIGTERM', flush=True); time.sleep(600)"]


def starter(tmp_path: Path, argv: list[str]) -> subprocess.Popen[str]:
    """A process that starts one service through the guard, prints the guard's pid, then waits."""
    script = textwrap.dedent(f"""
        import time
        from pathlib import Path
        from cutover.sandbox.process import Service
        svc = Service("svc", {argv!r}, Path({str(tmp_path / "svc.log")!r}), ready=lambda: True)
        svc.start()
        print(svc.pid, flush=True)
        time.sleep(600)
    """)
    return subprocess.Popen([sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE, text=True)


@pytest.mark.parametrize("argv", [SLEEPER, STUBBORN], ids=["obedient", "ignores-sigterm"])
def test_sigkill_of_the_starter_takes_the_service_with_it(tmp_path: Path, argv: list[str]) -> None:
    parent = starter(tmp_path, argv)
    assert parent.stdout is not None
    guard = int(parent.stdout.readline())
    deadline = time.monotonic() + 10
    while len(descendants(guard)) < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    family = {guard} | descendants(guard)
    assert len(family) == 2, family
    while argv is STUBBORN and "ignoring" not in (tmp_path / "svc.log").read_text():
        assert time.monotonic() < deadline, "the stubborn service never got to ignore SIGTERM"
        time.sleep(0.05)
    parent.kill()
    parent.wait(timeout=10)
    gone = wait_gone(family, within=10)
    assert set(gone) == family, f"still running 10 s after SIGKILL of their starter: {family - set(gone)}"
    assert max(gone.values()) < POLL_S + GRACE_S + 2
    log = (tmp_path / "svc.log").read_text()
    assert "that started this service is gone" in log
    if argv is STUBBORN:
        assert "SIGKILL" in log


def test_a_stop_waits_for_a_service_that_ignores_sigterm(tmp_path: Path) -> None:
    svc = Service("stubborn", STUBBORN, tmp_path / "stubborn.log",
                  ready=lambda: "ignoring" in (tmp_path / "stubborn.log").read_text())
    svc.start()
    svc.wait_ready()
    assert svc.pid is not None
    family = {svc.pid} | descendants(svc.pid)
    started = time.monotonic()
    svc.stop(deadline=1.0)
    assert time.monotonic() - started >= 1.0       # the guard did not exit before its service
    # the group's SIGKILL reaches guard and service at once; the service may be gone a moment after the guard
    assert wait_gone(family, within=2.0).keys() == family, {pid: alive(pid) for pid in family}


def test_the_service_exit_status_comes_through_the_guard(tmp_path: Path) -> None:
    svc = Service("fails", [sys.executable, "-c", "import sys; print('boom'); sys.exit(3)"], tmp_path / "f.log",
                  ready=lambda: False, timeout=10)
    svc.start()
    with pytest.raises(SandboxError, match=r"fails exited with code 3 before it was ready; see .*f\.log: boom"):
        svc.wait_ready()
    killed = Service("killed", [sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"],
                     tmp_path / "k.log", ready=lambda: False, timeout=10)
    killed.start()
    with pytest.raises(SandboxError, match=f"exited with code {128 + signal.SIGKILL}"):
        killed.wait_ready()


def test_a_missing_executable_is_named_before_anything_starts(tmp_path: Path) -> None:
    svc = Service("ghost", [str(tmp_path / "no-such-binary")], tmp_path / "ghost.log", ready=lambda: True)
    with pytest.raises(SandboxError, match=r"ghost could not be started \(.*no-such-binary is not an executable"):
        svc.start()
    assert svc.proc is None
