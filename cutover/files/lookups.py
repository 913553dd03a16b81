"""A store's facts asked object by object (HeadObject, a GCS object GET): the alternative to listing a bucket
much larger than the references being checked (:mod:`store_plan` chooses).

The blocking calls run on a pool of their own (``workers``: at most the resolver's concurrency, and no more
than the S3 client's connection pool), so each reference's lookup waits for nothing but its store; answers are
kept for the few seconds a job needs them (a bounded LRU: the content judge asks again after ``complete``).
The boto3 client retries throttling and 503 answers with backoff; an error that outlives them is an error of
the run ("could not verify"), never a missing file.
"""
from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from cutover.files.digests import StoreObject

CACHE = 4096            # answers kept: many more than the jobs in flight
MAX_WORKERS = 10        # botocore's default connection pool per client


class Lookups:
    """name -> :class:`StoreObject` or None, one request a name (cached a short while)."""

    def __init__(self, fetch: Callable[[str], StoreObject | None], workers: int) -> None:
        self._fetch = fetch
        self._pool = ThreadPoolExecutor(max(1, min(workers, MAX_WORKERS)), thread_name_prefix="files-lookup")
        self._cache: OrderedDict[str, StoreObject | None] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, name: str, default: StoreObject | None = None) -> StoreObject | None:
        with self._lock:
            if name in self._cache:
                self._cache.move_to_end(name)
                found = self._cache[name]
                return default if found is None else found
        found = self._fetch(name)
        with self._lock:
            self._cache[name] = found
            while len(self._cache) > CACHE:
                self._cache.popitem(last=False)
        return default if found is None else found

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    async def aget(self, name: str) -> StoreObject | None:
        return await asyncio.get_running_loop().run_in_executor(self._pool, self.get, name)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
