"""Child processes of the sandbox: free ports, start with a log file, wait for readiness, stop by pid.

Every service runs in its own process group so that stopping it also stops whatever it spawned
(npm wrappers, node workers). Stopping is SIGTERM with a deadline, then SIGKILL: the mongoeco server is
single-threaded and may sit in a long job that delays its handling of SIGTERM. Each service is started
through :mod:`cutover.sandbox.guard`, which leads the group and stops it when the starting process dies
without a stop (SIGKILL, a crash): no sandbox process outlives the suite by more than a few seconds.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cutover.errors import SandboxError
from cutover.sandbox.guard import guarded


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free right now on ``host`` (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_open(host: str, port: int, timeout: float = 0.2) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


@dataclass
class Service:
    """One child process: its command, its log, and how to tell it is ready."""

    name: str
    argv: Sequence[str]
    log_path: Path
    ready: Callable[[], bool]
    env: dict[str, str] | None = None
    cwd: Path | None = None
    timeout: float = 30.0
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self) -> None:
        if shutil.which(self.argv[0]) is None:
            raise SandboxError(f"{self.name} could not be started ({self.argv[0]} is not an executable); "
                               f"see {self.log_path}")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child owns it for its lifetime
        try:
            self.proc = subprocess.Popen(
                guarded(list(self.argv)), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env={**os.environ, **(self.env or {})}, cwd=self.cwd, start_new_session=True,
            )
        except OSError as exc:
            raise SandboxError(f"{self.name} could not be started ({exc}); see {self.log_path}") from exc
        finally:
            log.close()

    def wait_ready(self) -> None:
        """Poll ``ready`` until it holds; fail naming the component and its log."""
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise SandboxError(
                    f"{self.name} exited with code {self.proc.returncode} before it was ready; "
                    f"see {self.log_path}: {tail(self.log_path)}"
                )
            try:
                if self.ready():
                    return
            except Exception:
                pass
            time.sleep(0.05)
        raise SandboxError(
            f"{self.name} was not ready after {self.timeout:.0f} s; see {self.log_path}: {tail(self.log_path)}"
        )

    def stop(self, deadline: float = 5.0) -> None:
        """SIGTERM the process group, wait up to ``deadline`` seconds, then SIGKILL it."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        _signal_group(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=deadline)
        except subprocess.TimeoutExpired:
            _signal_group(proc.pid, signal.SIGKILL)
            proc.wait(timeout=deadline)

    @property
    def pid(self) -> int | None:
        """The pid of the service's guard, which leads its process group (the service is its child)."""
        return self.proc.pid if self.proc else None


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(os.getpgid(pid), sig)


def tail(path: Path, lines: int = 5) -> str:
    """The last lines of a log, folded into one line, for error messages."""
    try:
        text = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return "(no log)"
    return " | ".join(text[-lines:]) or "(empty log)"


def start_all(services: Sequence[Service]) -> None:
    """Start every service, then wait for all of them; on any failure stop them all and re-raise."""
    try:
        for svc in services:
            svc.start()
        for svc in services:
            svc.wait_ready()
    except BaseException:
        stop_all(services)
        raise


def stop_all(services: Sequence[Service]) -> None:
    for svc in reversed(list(services)):
        svc.stop()
