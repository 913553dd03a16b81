"""Watchdog between the suite and one sandbox child: the child dies when the suite dies, even by SIGKILL.

    python -I -S guard.py PARENT_PID -- ARGV...

:class:`cutover.sandbox.process.Service` starts every sandbox service through this guard, which leads the
service's process group. The guard starts ARGV in that group, then checks every ``POLL_S`` seconds whether
its parent is still PARENT_PID. Once it is not (the suite died and the guard was re-parented), the guard sends
SIGTERM to the group, waits up to ``GRACE_S`` seconds and sends SIGKILL. It exits with the child's status
(128+N when signal N ended the child).

A stop by the suite signals the whole group, so SIGTERM reaches the child directly; the guard then waits for
the child instead of dying first, so whoever waits for the guard waits for the child. Polling the parent id
rather than prctl(PR_SET_PDEATHSIG): that signal fires when the *thread* that forked exits (the sandbox
starts services from a thread pool), and it exists only on Linux.

Standard library only and no import of ``cutover``: it starts in a few milliseconds under ``-I -S``.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

POLL_S = 0.2
GRACE_S = 3.0
PATH = Path(__file__).resolve()


def guarded(argv: list[str]) -> list[str]:
    """``argv`` run under a guard that watches the calling process."""
    return [sys.executable, "-I", "-S", str(PATH), str(os.getpid()), "--", *argv]


def main(argv: list[str]) -> int:
    parent, command = int(argv[0]), argv[2:]
    signal.signal(signal.SIGTERM, _wait_for_child)  # a Python handler: the child starts with the default
    if os.getppid() != parent:
        return 1  # the suite died before the guard ran: start nothing
    try:
        child = subprocess.Popen(command)
    except OSError as exc:
        _say(f"cannot start {command[0]}: {exc}")
        return 127
    return _watch(child, parent)


def _wait_for_child(signum: int, frame: object) -> None:
    """SIGTERM to the group reached the child too; the guard exits when the child has."""


def _watch(child: subprocess.Popen[bytes], parent: int) -> int:
    while True:
        try:
            return _status(child.wait(timeout=POLL_S))
        except subprocess.TimeoutExpired:
            if os.getppid() != parent:
                return _orphaned(child, parent)


def _orphaned(child: subprocess.Popen[bytes], parent: int) -> int:
    _say(f"process {parent} that started this service is gone: stopping it")
    os.killpg(0, signal.SIGTERM)
    try:
        return _status(child.wait(timeout=GRACE_S))
    except subprocess.TimeoutExpired:
        _say(f"no exit within {GRACE_S:g} s of SIGTERM: SIGKILL")
        os.killpg(0, signal.SIGKILL)  # the guard goes with its group
        return 137


def _status(code: int) -> int:
    return 128 - code if code < 0 else code


def _say(text: str) -> None:
    print(f"guard: {text}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
