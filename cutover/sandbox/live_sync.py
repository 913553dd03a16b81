"""The live sandbox's sync: copies every journaled write to the target once it is ``lag`` seconds old.

What mongosync or Parse's migration tool do with a change stream, this does with the traffic's journal
(see :mod:`cutover.sandbox.live_journal`): an insert or update replaces the target's document with the
source's bytes as read right after the write (RawBSONDocument, so every BSON type and the field order are
kept, as :mod:`cutover.sandbox.migrate` copies), a delete deletes it, a lookup entry copies the source's
state at the time it is applied. Entries are applied in journal order, in ordered bulk writes per class.
Paused, it applies nothing and the journal grows: that is the "stopped sync". A failed bulk write is
counted, shown, and retried after ``RETRY_S``.
"""
from __future__ import annotations

import threading
import time
from itertools import groupby
from typing import Any

from bson.raw_bson import RawBSONDocument
from pymongo import DeleteOne, ReplaceOne

from cutover.sandbox.live_journal import Entry, Journal
from cutover.sandbox.migrate import raw

BATCH = 500
RETRY_S = 0.5
IDLE_WAIT_S = 0.05


class LaggedSync:
    """One thread applying due journal entries to ``target_db``; ``lookup_db`` is the source (lookups)."""

    def __init__(self, journal: Journal, target_db: Any, source_db: Any, lag_s: float,
                 timeout_s: float = 30.0) -> None:
        self.journal, self.target_db, self.source_db = journal, target_db, source_db
        self.lag_s, self.timeout_ms = lag_s, int(timeout_s * 1000)
        self.running = threading.Event()
        self.running.set()
        self.errors = 0
        self.last_error = ""
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._copying = threading.Lock()   # held while a batch is written to the target
        self._thread = threading.Thread(target=self._loop, name="sync", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def set_running(self, running: bool) -> None:
        """A pause returns once no batch is being copied: nothing reaches the target after it."""
        (self.running.set if running else self.running.clear)()
        self._wake.set()
        if not running:
            with self._copying:
                pass

    def set_lag(self, lag_s: float) -> None:
        self.lag_s = lag_s
        self._wake.set()

    def close(self, deadline: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(deadline)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            with self._copying:
                wait = self._copy_due()
            if wait is not None:
                self._wake.wait(wait)

    def _copy_due(self) -> float | None:
        """Copy one batch of due entries; how long to wait before the next look (None: look again at once)."""
        if not self.running.is_set():
            return IDLE_WAIT_S
        entries = self.journal.due(time.time() - self.lag_s, BATCH)
        if not entries:
            wait = self.journal.next_due_in(self.lag_s, time.time())
            return IDLE_WAIT_S if wait is None else min(max(wait, 0.0), IDLE_WAIT_S)
        try:
            self._apply(entries)
        except Exception as exc:  # counted and shown; the same entries are tried again
            self.errors += 1
            self.last_error = f"{type(exc).__name__}: {exc}"[:300]
            return RETRY_S
        self.journal.applied(entries, time.time())
        return None

    def _apply(self, entries: list[Entry]) -> None:
        for cls, group in groupby(entries, key=lambda e: e.cls):
            requests = [self._request(cls, entry) for entry in group]
            raw(self.target_db[cls]).bulk_write(requests, ordered=True, bypass_document_validation=True)

    def _request(self, cls: str, entry: Entry) -> ReplaceOne[Any] | DeleteOne:
        doc: RawBSONDocument | None = RawBSONDocument(entry.doc) if entry.doc is not None else None
        if entry.lookup:
            doc = raw(self.source_db[cls]).find_one({"_id": entry.object_id}, max_time_ms=self.timeout_ms)
        if doc is None:
            return DeleteOne({"_id": entry.object_id})
        return ReplaceOne({"_id": entry.object_id}, doc, upsert=True)
