"""Progress of a long run, per criterion: checks (partitions) done out of the total, documents per second and
an estimated time left. Pure arithmetic over what finished checks reported; the clock is the caller's."""
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

    def line(self, cid: str, now: float) -> str:
        elapsed = max(now - self.started, 1e-9)
        rate = f", {self.docs / elapsed:,.0f} docs/s" if self.docs else ""
        left = ""
        if 0 < self.done < self.total:
            left = f", about {duration((self.total - self.done) * elapsed / self.done)} left"
        return f"{cid}: {self.done}/{self.total} checks done{rate}{left}"


@dataclass
class Progress:
    """Every tracked criterion of a run, and when the last line was written."""

    every_s: float
    trackers: dict[str, Tracker] = field(default_factory=dict)
    last: float = 0.0

    def due(self, now: float) -> bool:
        return self.every_s > 0 and now - self.last >= self.every_s

    def lines(self, now: float) -> list[str]:
        """The lines to write now (criteria with work left, or finished since the last lines)."""
        self.last = now
        return [t.line(cid, now) for cid, t in sorted(self.trackers.items()) if t.done]


def duration(seconds: float) -> str:
    """'45s', '3m05s', '2h10m'."""
    s = round(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"
