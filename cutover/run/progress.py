"""Progress of a long run: one line per interval whatever the run's breadth (a run of 1,000 classes holds
thousands of checks): the checks done of the whole, an estimated time left, and the criteria under way with their
checks done and documents per second. Pure arithmetic over what finished checks reported; the clock is the
caller's."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Tracker:
    """One criterion's progress; ``docs`` counts the documents its finished checks compared."""

    total: int
    started: float
    done: int = 0
    docs: int = 0

    def finish(self, docs: int = 0) -> None:
        self.done += 1
        self.docs += max(docs, 0)

    def brief(self, cid: str, now: float) -> str:
        rate = f", {self.docs / max(now - self.started, 1e-9):,.0f} docs/s" if self.docs else ""
        return f"{cid} {self.done:,}/{self.total:,}{rate}"


@dataclass
class Progress:
    """The run's checks (``total``, ``done``), each criterion of several checks, and when the last line was
    written."""

    every_s: float
    trackers: dict[str, Tracker] = field(default_factory=dict)
    last: float = 0.0
    total: int = 0
    done: int = 0

    def finish(self, cid: str, docs: int = 0) -> None:
        self.done += 1
        tracker = self.trackers.get(cid)
        if tracker is not None:
            tracker.finish(docs)

    def due(self, now: float) -> bool:
        return self.every_s > 0 and now - self.last >= self.every_s

    def line(self, now: float, started: float) -> str:
        """The one line to write now: the whole, then the criteria under way (begun, not finished)."""
        self.last = now
        left = ""
        if 0 < self.done < self.total:
            left = f", about {duration((self.total - self.done) * max(now - started, 0.0) / self.done)} left"
        under_way = [t.brief(cid, now) for cid, t in sorted(self.trackers.items()) if 0 < t.done < t.total]
        return f"{self.done:,}/{self.total:,} checks done{left}" + ("; " + "; ".join(under_way) if under_way else "")


def duration(seconds: float) -> str:
    """'45s', '3m05s', '2h10m'."""
    s = round(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"
