"""The health window as series a release manager can judge: max, p95, last and mean, the peak and when.

Each function returns None when the server reported the figure in no sample (the check then says "not
applicable on this server"), never a series of zeros. CPU is a percentage of the server's cores per
interval, from the process CPU time deltas and the server's own uptime deltas; its mean over the window is
weighted by time. Queues leave out this suite's own operations where the server counted them.
"""
from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cutover.data.health_window import Sample, Window
from cutover.data.replies import STAND_IN, StandInLimit
from cutover.errors import CouldNotVerify, UnexpectedAnswer

HEALTH_ON_STAND_IN = StandInLimit(
    "reports no CPU time, lock queue or admission queue in serverStatus and runs no replica set",
    "those DB-06 figures are not applicable on the stand-in; a real MongoDB reports them")


@dataclass(frozen=True)
class Point:
    offset_s: float
    at: str
    value: float


@dataclass(frozen=True)
class Series:
    figure: str          # what was measured, named as the server names it
    unit: str            # "%", "operations", "s"
    points: tuple[Point, ...]

    @property
    def peak(self) -> Point:
        return max(self.points, key=lambda p: p.value)   # the first of equal maxima: when it started

    @property
    def max(self) -> float:
        return self.peak.value

    @property
    def last(self) -> float:
        return self.points[-1].value

    @property
    def p95(self) -> float:
        ordered = sorted(p.value for p in self.points)
        return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]   # nearest rank

    def peak_text(self) -> str:
        peak = self.peak
        return f"peak {amount(peak.value, self.unit)} at {peak.at} ({peak.offset_s:.1f} s into the window)"

    def facts(self) -> dict[str, Any]:
        return {"figure": self.figure, "unit": self.unit, "samples": len(self.points), "max": self.max,
                "p95": self.p95, "last": self.last, "peak_at": self.peak.at, "peak_offset_s": self.peak.offset_s}

    def chart(self, limit: float | None = None) -> dict[str, Any]:
        """What the report draws: the points (offset, value), the unit and the limit line."""
        return {"figure": self.figure, "unit": self.unit, "limit": limit,
                "points": [[p.offset_s, p.value] for p in self.points]}


def amount(value: float, unit: str) -> str:
    text = f"{value:.1f}" if unit in ("%", "s") else f"{value:g}"
    return f"{text}%" if unit == "%" else f"{text} {unit}"


def usable(window: Window) -> Window:
    """The window, if every planned sample was taken from a server whose role is known; CouldNotVerify
    otherwise (a gap may hide a peak; through mongos the figures describe the router, not the shards)."""
    if "topology" in window.unread:
        raise CouldNotVerify(f"the health window could not learn the server's role: {window.unread['topology']}")
    if window.topology == "sharded":
        raise CouldNotVerify("the target is a sharded cluster reached through mongos: serverStatus and "
                             "replSetGetStatus describe the router, not the shards' servers; declare each shard's "
                             "replica set as a target to measure DB-06")
    if window.state != "done":
        raise CouldNotVerify(f"the health window was cut short ({window.state}) after {len(window.samples)} "
                             f"samples: {'; '.join(window.failures) or 'the run was stopped'}")
    if window.failures or not window.samples:
        raise UnexpectedAnswer(f"{len(window.failures)} of {len(window.failures) + len(window.samples)} health "
                               f"samples failed ({'; '.join(window.failures[:3])}); the window has gaps")
    return window


def _series(window: Window, figure: str, unit: str, value: Callable[[Sample], float | None],
            *names: str) -> Series | None:
    _refused(window, figure, *names)
    points = tuple(Point(s.offset_s, s.at, v) for s in window.samples if (v := value(s)) is not None)
    return Series(figure, unit, points) if points else None


def _refused(window: Window, figure: str, *names: str) -> None:
    """CouldNotVerify when a sample could not read one of ``names`` (a reply cutover does not know): a gap, never
    a figure the server does not report."""
    why = next((s.refused[n] for s in window.samples for n in names if n in s.refused), None)
    if why is not None:
        raise CouldNotVerify(f"{figure} could not be read: {why}")


def not_reported(window: Window, what: str) -> str:
    """Why a figure is not applicable, naming the stand-in when the stand-in answered."""
    return f"{STAND_IN} reports no {what}" if window.stand_in else f"this server reports no {what}"


def stand_in_facts(window: Window) -> dict[str, Any]:
    """The ``stand_in`` fact of a DB-06 check whose figure the stand-in does not report (empty otherwise)."""
    return {"stand_in": HEALTH_ON_STAND_IN.facts()} if window.stand_in else {}


def lock_queue(window: Window) -> Series | None:
    """Operations queued for a lock, less this suite's own waiting operations where currentOp counted them."""
    def others(s: Sample) -> float | None:
        queued = s.figures.get("lock_queue")
        return None if queued is None else max(0.0, queued - s.figures.get("own_waiting", 0.0))
    return _series(window, "lock queue (globalLock.currentQueue.total)", "operations", others, "lock_queue")


def admission_queue(window: Window) -> Series | None:
    return _series(window, "admission queue (execution and ingress tickets, queueLength)", "operations",
                   lambda s: s.figures.get("admission_queue"), "admission_queue")


def tickets_available(window: Window) -> Series | None:
    return _series(window, "free execution tickets (available)", "tickets",
                   lambda s: s.figures.get("tickets_available"), "tickets_available")


def lag(window: Window) -> tuple[Series, ...]:
    """One series per secondary that any sample reported, by member name (CouldNotVerify if refused)."""
    refused = next((s.refused["lag"] for s in window.samples if "lag" in s.refused), None)
    if refused is not None:
        raise CouldNotVerify(f"replication lag could not be sampled: {refused}")
    members = sorted({name[4:] for s in window.samples for name in s.figures if name.startswith("lag:")})
    found = (_series(window, f"replication lag of {m}", "s", _figure(f"lag:{m}")) for m in members)
    return tuple(s for s in found if s is not None)


def _figure(name: str) -> Callable[[Sample], float | None]:
    return lambda sample: sample.figures.get(name)


def _cpu_pairs(window: Window) -> list[tuple[Sample, Sample]]:
    timed = [s for s in window.samples if "cpu_us" in s.figures and "uptime_ms" in s.figures]
    return list(itertools.pairwise(timed))


def cpu(window: Window) -> Series | None:
    """CPU time of the server process per interval, percent of its cores (None: not reported, or no cores)."""
    _refused(window, "CPU time", "cpu_us", "uptime_ms")
    if _cpu_pairs(window) and "cores" in window.unread:
        raise CouldNotVerify(f"CPU time is reported but the number of cores could not be read: "
                             f"{window.unread['cores']}")
    if window.cores is None or not any("cpu_us" in s.figures for s in window.samples):
        return None
    if not _cpu_pairs(window):
        raise CouldNotVerify(f"CPU time needs two samples, the window has {len(window.samples)}")
    points = tuple(Point(b.offset_s, b.at, _percent(a, b, window.cores)) for a, b in _cpu_pairs(window))
    return Series(f"CPU time (extra_info user+system, {window.cores} cores)", "%", points)


def cpu_mean(window: Window) -> float | None:
    """CPU time over the whole window, percent of the cores (weighted by time, not by sample)."""
    pairs = _cpu_pairs(window)
    if window.cores is None or not pairs:
        return None
    return _percent(pairs[0][0], pairs[-1][1], window.cores)


def _percent(a: Sample, b: Sample, cores: int) -> float:
    elapsed_us = (b.figures["uptime_ms"] - a.figures["uptime_ms"]) * 1000.0
    if elapsed_us <= 0:
        raise UnexpectedAnswer(f"the server's uptime did not advance between {a.at} and {b.at}: restarted?")
    return 100.0 * (b.figures["cpu_us"] - a.figures["cpu_us"]) / (elapsed_us * cores)


def cpu_not_reported(window: Window) -> str:
    """Why there is no CPU figure (``cpu()`` returned None), in the words the check skips with."""
    if not any("cpu_us" in s.figures for s in window.samples):
        return not_reported(window, "process CPU time (serverStatus has no extra_info.user_time_us/system_time_us)")
    why = window.unread.get("cores", "not read")
    return f"{window.server or 'this server'} did not say how many cores it has (hostInfo.system.numCores: {why})"


def own_load(window: Window) -> str:
    """How much of this run's own work overlapped the window, as a sentence for facts and messages."""
    counted = [s for s in window.samples if "own_ops" in s.figures]
    if not counted:
        return "this run's own operations could not be counted (currentOp)"
    busy = sum(1 for s in counted if s.figures["own_ops"] > 0)
    return f"this run's own checks had operations running in {busy} of {len(counted)} samples"


def own_load_hint(window: Window) -> str:
    """For a failing CPU check: whether this run's own checks may have added to the figure, and what to do."""
    busy = [s for s in window.samples if s.figures.get("own_ops", 0.0) > 0]
    if not busy:
        return ""
    return (f"; this run's own checks had operations running in {len(busy)} of {len(window.samples)} samples and "
            f"CPU time cannot be split by client: run DB-06 alone (-k test_health) to measure without them")
