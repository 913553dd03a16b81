"""The process table as the signal and guard tests read it: descendants of one pid, liveness, ports.

Only /proc entries reachable from a pid the test started are ever looked at: never a pattern over every
process of the machine (other runs share it).
"""
from __future__ import annotations

import os
import time
from collections.abc import Iterable
from pathlib import Path


def _parents() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            children.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry.name))
    return children


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (children, their children, ...)."""
    children, found, todo = _parents(), set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pid: int) -> bool:
    """True unless the process is gone (a zombie counts as gone: it holds no port and runs no code)."""
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def command(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def listening_ports(pids: Iterable[int]) -> set[int]:
    """TCP ports in LISTEN state held by these processes."""
    inodes = set()
    for pid in pids:
        try:
            links = [os.readlink(fd) for fd in (Path("/proc") / str(pid) / "fd").iterdir()]
        except OSError:
            continue
        inodes |= {link[8:-1] for link in links if link.startswith("socket:[")}
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def wait_gone(pids: Iterable[int], within: float) -> dict[int, float]:
    """Seconds until each pid was gone, polling until all are or ``within`` passed (missing: still alive)."""
    started, left, gone = time.monotonic(), set(pids), {}
    while left and time.monotonic() - started < within:
        for pid in [p for p in left if not alive(p)]:
            gone[pid] = round(time.monotonic() - started, 2)
            left.discard(pid)
        time.sleep(0.05)
    return gone
