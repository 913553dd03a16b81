"""A store listing made once per RUN, not once per process: the processes of a run (pytest-xdist's controller
and workers) share a private scratch directory, and the first that needs a listing makes it under an exclusive
lock, written as an SQLite file there (:mod:`listing_file`: the plan and the objects); the others wait for the
lock and read the file instead of listing the bucket again (or, when the plan was lookups, look up as well).

A listing that fails leaves no file: the next process tries again (and says why, if it fails too). Without a
shared directory (the library used alone, a bench) each session lists for itself, and writes a file only when
the listing outgrows the memory bound. The file is written under a temporary name and renamed, in a directory
only the run's user can read, removed with it.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Callable
from pathlib import Path

from cutover.files.listing_file import load
from cutover.files.store_index import Counter
from cutover.files.store_plan import Listed


def shared(directory: str, key: str, counter: Counter, compute: Callable[[Path | None], Listed]) -> Listed:
    """``compute(path)`` once among the processes sharing ``directory`` ('': in this process, every time, with
    no path); ``compute`` writes its listing file at ``path``."""
    if not directory:
        return compute(None)
    stem = Path(directory) / f"files-listing-{hashlib.sha256(key.encode()).hexdigest()[:16]}"
    with open(stem.with_suffix(".lock"), "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)    # released when the file closes, also if this process dies
        spill = stem.with_suffix(".sqlite")
        if spill.exists():
            counter.add(f"shared {key}")
            return load(spill)
        partial = stem.with_suffix(f".{os.getpid()}.tmp")
        try:
            value = compute(partial)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        partial.replace(spill)      # an open DiskIndex keeps reading the renamed file
        return value
