"""Under a live sync, the waits of the data checks overlap: their facts are computed ahead, in the background.

Each DB-02 partition waits one settle delay for what it saw in flight, DB-01's cutoff brackets wait one
between the source's and the target's counts. Run one after the other, a clean live run pays a settle delay
per class the app writes; computed together, the run pays about one. When one process runs the whole
selection (no pytest-xdist: it knows every check it will run), the facts the selected DB-01 and DB-02 checks
need are started at collection, a few at a time, into the facade's memo; a check that reaches a fact still
being computed waits for it (:class:`cutover.memo.Memo` computes each key once). Nothing changes in what is
read or how it is judged: the same bounded reads under the same pace (one :class:`~cutover.data.pace.Pace`
per server, shared by the threads), the same rechecks. A fact that fails in the background is not
remembered: its check computes it again and reports the error itself.
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor

THREADS = 3   # the waits overlap; more threads would only add scans competing for the same servers


class Background:
    """Jobs run ahead on a small pool; :meth:`close` drops the ones not started (the session is ending)."""

    def __init__(self, jobs: Iterable[Callable[[], object]], threads: int = THREADS) -> None:
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="cutover-prefetch")
        self.futures: list[Future[None]] = [self._pool.submit(_quietly, job) for job in jobs]

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _quietly(job: Callable[[], object]) -> None:
    # the check that needs this fact computes it again and reports the error in its own words
    with contextlib.suppress(Exception):
        job()
