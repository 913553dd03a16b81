"""The live sandbox's journal: every write the traffic made on the source, in order, until the sync applied it.

mongoeco has no change streams, so the traffic journals its own writes, the way a change stream with
``fullDocument`` would report them: after each write it reads the object back from the source as raw BSON
and appends (class, object, kind, write time, those bytes; None for a delete). The sync applies an entry
once it is ``lag`` seconds old, so the target is always the source as it was ``lag`` seconds before.
Times are wall-clock seconds (``time.time()``), comparable with what a test measures in another process.
Applied entries keep their times (not their bytes) for ``recent``, up to ``keep`` of them.
"""
from __future__ import annotations

import collections
import itertools
import statistics
import threading
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

SAMPLES = 2000  # lags and write latencies kept for their distributions (the most recent ones)


@dataclass
class Entry:
    kind: str                      # insert | update | delete
    cls: str
    object_id: str
    written_at: float              # when the source acknowledged the write
    updated_at: float | None = None  # the object's _updated_at after the write (None for a delete)
    doc: bytes | None = None       # the object's BSON after the write (None for a delete, or once applied)
    lookup: bool = False           # the write's outcome is unknown: the sync copies the source's state then
    latency_s: float = 0.0         # how long the source took to acknowledge the write
    seq: int = 0                   # given by the journal
    applied_at: float | None = None

    def public(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if k != "doc"}


class Journal:
    """Thread-safe: the traffic appends, the sync takes what is due and marks it applied."""

    def __init__(self, keep: int = 100_000) -> None:
        self._pending: collections.deque[Entry] = collections.deque()
        self._recent: collections.deque[Entry] = collections.deque(maxlen=keep)
        self._lags: collections.deque[float] = collections.deque(maxlen=SAMPLES)
        self._latencies: collections.deque[float] = collections.deque(maxlen=SAMPLES)
        self._lock = threading.Lock()
        self._seq = 0
        self.written: collections.Counter[str] = collections.Counter()  # "insert", "GameScore", ...
        self.synced = 0

    def append(self, entry: Entry) -> Entry:
        with self._lock:
            self._seq += 1
            entry.seq = self._seq
            self._pending.append(entry)
            self._recent.append(entry)
            if not entry.lookup:
                self._latencies.append(entry.latency_s)
            self.written.update((entry.kind, entry.cls, "lookup") if entry.lookup else (entry.kind, entry.cls))
        return entry

    def due(self, cutoff: float, limit: int) -> list[Entry]:
        """The oldest pending entries written at or before ``cutoff`` (in journal order), at most ``limit``."""
        with self._lock:
            taken: list[Entry] = []
            for entry in self._pending:
                if entry.written_at > cutoff or len(taken) >= limit:
                    break
                taken.append(entry)
            return taken

    def next_due_in(self, lag: float, now: float) -> float | None:
        """Seconds until the oldest pending entry is ``lag`` old (None when nothing is pending)."""
        with self._lock:
            return self._pending[0].written_at + lag - now if self._pending else None

    def applied(self, entries: list[Entry], at: float) -> None:
        """Mark the oldest ``entries`` (as returned by :meth:`due`) applied at ``at``."""
        with self._lock:
            for entry in entries:
                assert self._pending[0] is entry, "entries are applied in journal order"
                self._pending.popleft()
                entry.applied_at, entry.doc = at, None
                self._lags.append(at - entry.written_at)
            self.synced += len(entries)

    def pending(self) -> tuple[int, float | None]:
        """(entries not yet applied, write time of the oldest of them)."""
        with self._lock:
            return len(self._pending), (self._pending[0].written_at if self._pending else None)

    def recent(self, since: int, limit: int) -> list[dict[str, Any]]:
        """Entries with ``seq > since`` (oldest first, at most ``limit``), without their bytes."""
        with self._lock:
            skip = max(0, since - self._recent[0].seq + 1) if self._recent else 0
            return [e.public() for e in itertools.islice(self._recent, skip, skip + limit)]

    def lag_stats(self) -> dict[str, float | int | None]:
        """Observed lags (application time minus write time) of the latest ``SAMPLES`` applied entries."""
        with self._lock:
            return spread(self._lags)

    def latency_stats(self) -> dict[str, float | int | None]:
        """How long the source took to acknowledge each of the latest ``SAMPLES`` writes."""
        with self._lock:
            return spread(self._latencies)


def spread(values: Iterable[float]) -> dict[str, float | int | None]:
    """count, min, median, 95th percentile and max (seconds) of ``values``."""
    ordered = sorted(values)
    if not ordered:
        return {"count": 0, "min_s": None, "p50_s": None, "p95_s": None, "max_s": None}
    return {"count": len(ordered), "min_s": ordered[0], "p50_s": statistics.median(ordered),
            "p95_s": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], "max_s": ordered[-1]}
