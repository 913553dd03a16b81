"""A documents-per-second cap, so that a scan of a production server cannot saturate it.

Pay after use: the reader reads some documents, then :meth:`Pace.spend` sleeps until that many documents
fit under the cap since the pace's last idle moment. So over any stretch of a scan the documents read
never exceed ``per_s`` x the time it took (plus nothing: the first batch is paid for too). A server-side
aggregation that examined a partition of N documents spends N once it returns: the server worked at its
own speed, the suite then waits, so the average over the run stays under the cap.

One Pace per server, shared by the threads of a process; with pytest-xdist the session divides the cap by
the number of workers, so the whole run stays under it.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


class Pace:
    """At most ``per_s`` documents per second (0: no cap)."""

    def __init__(self, per_s: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.per_s = per_s
        self._clock, self._sleep = clock, sleep
        self._free_at = 0.0
        self._lock = threading.Lock()

    @property
    def capped(self) -> bool:
        return self.per_s > 0

    def spend(self, docs: int) -> float:
        """Account for ``docs`` documents just read; sleep as long as the cap needs. Returns the wait."""
        if not self.capped or docs <= 0:
            return 0.0
        with self._lock:
            now = self._clock()
            self._free_at = max(self._free_at, now) + docs / self.per_s
            wait = self._free_at - now
        self._sleep(wait)
        return wait

    def paced(self, items: Iterable[T]) -> Iterator[T]:
        """``items`` (documents), paying every tenth of a second's worth of them."""
        if not self.capped:
            yield from items
            return
        chunk, n = max(1, int(self.per_s // 10)), 0
        for item in items:
            yield item
            n += 1
            if n == chunk:
                self.spend(n)
                n = 0
        self.spend(n)


UNCAPPED = Pace(0)
