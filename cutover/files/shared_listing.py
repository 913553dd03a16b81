"""A store listing made once per RUN, not once per process: the processes of a run (pytest-xdist's controller
and workers) share a private scratch directory, and the first that needs a listing makes it under an exclusive
lock and spills it there; the others wait for the lock and read the spill instead of listing the bucket again.

A listing that fails leaves no spill: the next process tries again (and says why, if it fails too). Without a
shared directory (the library used alone, a bench) each session lists for itself. The spill is the listing as
:class:`~cutover.files.store_index.StoreIndex` pickles it (names, sizes, digests: no credential), written to a
temporary name and renamed, in a directory only the run's user can read, removed with it.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from cutover.files.store_index import Counter

T = TypeVar("T")


def shared(directory: str, key: str, counter: Counter, compute: Callable[[], T]) -> T:
    """``compute()`` once among the processes sharing ``directory`` ('' : in this process, every time)."""
    if not directory:
        return compute()
    stem = Path(directory) / f"files-listing-{hashlib.sha256(key.encode()).hexdigest()[:16]}"
    with open(stem.with_suffix(".lock"), "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)    # released when the file closes, also if this process dies
        spill = stem.with_suffix(".pickle")
        if spill.exists():
            counter.add(f"shared {key}")
            return pickle.loads(spill.read_bytes())   # written by this run, in its 0700 directory
        value = compute()
        partial = stem.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        partial.replace(spill)
        return value
