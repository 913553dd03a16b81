"""A store's listing kept bounded in memory: up to :data:`MEMORY_BOUND` objects in a :class:`StoreIndex` (about
170 bytes an object: 8.5 MB at the bound), beyond it in an SQLite file, one indexed lookup a name.

The same file is how the processes of a run share one listing (:mod:`shared_listing`): it holds the plan
(:class:`~cutover.files.store_plan.StorePlan`: listing or lookups, and the counts behind the choice) and the
objects; a reader loads a small one into memory and queries a large one on disk. SQLite, not pickle: the file
holds names, sizes and digests as plain columns, and reading it runs no code.
A file made outside a shared directory (the library used alone) lives in a private temporary directory that
:meth:`DiskIndex.close` removes.
"""
from __future__ import annotations

import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from cutover.files.digests import StoreObject
from cutover.files.store_index import StoreIndex
from cutover.files.store_plan import Listed, StorePlan

MEMORY_BOUND = 50_000       # objects held in memory (a StoreIndex: about 8.5 MB); a larger listing is on disk
_COLUMNS = ("size", "etag", "md5", "crc32c", "chunks", "content_type")
_SCHEMA = ("CREATE TABLE objects (name TEXT PRIMARY KEY, size INTEGER, etag TEXT, md5 TEXT, crc32c TEXT, "
           "chunks TEXT, content_type TEXT) WITHOUT ROWID;"
           "CREATE TABLE plan (store TEXT, strategy TEXT, refs INTEGER, pages INTEGER, objects INTEGER);")


class IndexWriter:
    """Receives a listing page by page; keeps it in memory up to ``bound`` objects, else writes it to ``path``
    (a private temporary file when None). ``path`` given: the file is always written, small or not, so that
    other processes can read it."""

    def __init__(self, path: Path | None, bound: int = MEMORY_BOUND) -> None:
        self.path, self.bound = path, bound
        self._shared = path is not None     # other processes read the file: written whatever the plan's size
        self._held = StoreIndex()
        self._db: sqlite3.Connection | None = None
        self._owned: Path | None = None     # the temporary directory this writer made

    def add(self, items: list[tuple[str, StoreObject]]) -> None:
        if self._db is None:
            self._held.add(items)
            if len(self._held) <= self.bound:
                return
            held, self._held = self._held, StoreIndex()
            self._open()
            self._insert(held.items())
        else:
            self._insert(items)

    def finish(self, plan: StorePlan) -> Mapping[str, StoreObject] | None:
        """The index (None for lookups: the objects read are dropped), the file complete and closed."""
        if plan.strategy == "lookups":
            self._held = StoreIndex()
            self._restart()
        if self._db is None and self._shared:     # a shared file is written, small or not
            self._open()
            self._insert(self._held.items())
        if self._db is None:
            if plan.strategy == "lookups":
                self.discard()      # the temporary directory of pages a private listing had spilled
            return self._held if plan.strategy == "listing" else None
        self._db.execute("INSERT INTO plan VALUES (?, ?, ?, ?, ?)",
                         (plan.store, plan.strategy, plan.references, plan.pages, plan.objects))
        self._db.commit()
        self._db.close()
        if plan.strategy == "lookups":
            self.discard()
            return None
        return self._held if self._held else DiskIndex(self._file(), owned=self._owned)

    def _restart(self) -> None:
        """Drop the objects written so far (a file of a lookups plan holds the plan alone, not freed pages)."""
        if self._db is not None:
            self._db.close()
            self._db = None
            self._file().unlink(missing_ok=True)

    def _insert(self, items: Iterable[tuple[str, StoreObject]]) -> None:
        assert self._db is not None
        self._db.executemany("INSERT OR REPLACE INTO objects VALUES (?, ?, ?, ?, ?, ?, ?)",
                             ((name, *(getattr(obj, c) for c in _COLUMNS)) for name, obj in items))

    def discard(self) -> None:
        """Drop what was written to a private file (a failed listing; lookups)."""
        if self._db is not None:
            self._db.close()
        if self._owned is not None:
            shutil.rmtree(self._owned, ignore_errors=True)

    def _open(self) -> None:
        self._db = sqlite3.connect(self._file(), isolation_level=None)
        self._db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + _SCHEMA + "BEGIN;")

    def _file(self) -> Path:
        if self.path is None:
            self._owned = Path(tempfile.mkdtemp(prefix="cutover-listing-"))
            self.path = self._owned / "listing.sqlite"
        return self.path


class DiskIndex(Mapping[str, StoreObject]):
    """A listing in an SQLite file, read-only: one indexed query a name, safe from several threads."""

    def __init__(self, path: Path, owned: Path | None = None) -> None:
        self.path, self._owned = path, owned
        self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        self._lock = threading.Lock()
        self._len: int | None = None

    def __getitem__(self, name: str) -> StoreObject:
        with self._lock:
            row = self._db.execute(f"SELECT {', '.join(_COLUMNS)} FROM objects WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise KeyError(name)
        return StoreObject(*row)

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self.items_streamed())

    def items_streamed(self, page: int = 1000) -> Iterator[tuple[str, StoreObject]]:
        """Every (name, object) in name order, read ``page`` rows at a time (never the whole file in memory)."""
        last = ""
        while True:
            with self._lock:
                rows = self._db.execute(f"SELECT name, {', '.join(_COLUMNS)} FROM objects WHERE name > ? "
                                        "ORDER BY name LIMIT ?", (last, page)).fetchall()
            yield from ((row[0], StoreObject(*row[1:])) for row in rows)
            if len(rows) < page:
                return
            last = rows[-1][0]

    def __len__(self) -> int:
        if self._len is None:
            with self._lock:
                self._len = int(self._db.execute("SELECT count(*) FROM objects").fetchone()[0])
        return self._len

    def plan(self) -> StorePlan:
        """The plan the writer recorded with the objects."""
        with self._lock:
            return StorePlan(*self._db.execute("SELECT store, strategy, refs, pages, objects FROM plan").fetchone())

    def close(self) -> None:
        with self._lock:
            self._db.close()
        if self._owned is not None:
            shutil.rmtree(self._owned, ignore_errors=True)


def load(path: Path, bound: int = MEMORY_BOUND) -> Listed:
    """A listing file another process wrote: its plan, and its objects (in memory up to ``bound``, else on disk)."""
    index = DiskIndex(path)
    plan = index.plan()
    if plan.strategy == "lookups":
        index.close()
        return Listed(plan, None)
    if len(index) > bound:
        return Listed(plan, index)
    small = StoreIndex(index.items_streamed())
    index.close()
    return Listed(plan, small)
