"""The live sandbox's app traffic: writes through the source Parse Server's REST API at a steady rate.

A few worker threads share one schedule (write k is due at ``start + k / rate``), so a slow write delays
none of the others and the rate holds while the server keeps up. A worker that finds its slot more than
``MAX_BEHIND_S`` late (the machine stalled) restarts the schedule from now instead of bursting to catch up;
the slots skipped are counted as ``missed``. After each write the worker reads the object back from the
source as raw BSON and journals it (see :mod:`cutover.sandbox.live_journal`); a failed write is counted
with its message and journals nothing.
"""
from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any

import requests
from bson.raw_bson import RawBSONDocument

from cutover.sandbox.live_journal import Entry, Journal
from cutover.sandbox.live_mix import Op, Workload
from cutover.sandbox.migrate import raw

MAX_BEHIND_S = 1.0
WORKERS = 3
IDLE_WAIT_S = 0.05


class Pacer:
    """The shared schedule: ``next_due`` hands out the next slot (a ``time.monotonic()`` instant)."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.missed = 0
        self._lock = threading.Lock()
        self.restart(rate)

    def restart(self, rate: float) -> None:
        with self._lock:
            self.rate, self._t0, self._k = rate, time.monotonic(), 0

    def next_due(self) -> float:
        with self._lock:
            now = time.monotonic()
            due = self._t0 + self._k / self.rate
            if due < now - MAX_BEHIND_S:
                self.missed += int((now - due) * self.rate)
                self._t0, self._k, due = now, 0, now
            self._k += 1
            return due


class Traffic:
    """Worker threads writing through REST; ``set_running``/``set_rate`` steer them, ``close`` ends them."""

    def __init__(self, parse_url: str, headers: dict[str, str], source_db: Any, workload: Workload,
                 journal: Journal, rate: float, timeout_s: float = 10.0, workers: int = WORKERS) -> None:
        self.parse_url, self.headers, self.source_db = parse_url.rstrip("/"), headers, source_db
        self.workload, self.journal, self.timeout_s = workload, journal, timeout_s
        self.pacer = Pacer(rate)
        self.running = threading.Event()
        self.errors = 0
        self.last_error = ""
        self.active = 0                # writes under way right now
        self.busy_since: float | None = None  # start of the current running period
        self.busy_s = 0.0              # time spent running before it
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._work, name=f"traffic-{k}", daemon=True)
                         for k in range(workers)]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def set_running(self, running: bool) -> None:
        with self._lock:
            if running and not self.running.is_set():
                self.pacer.restart(self.pacer.rate)
                self.busy_since = time.monotonic()
                self.running.set()
            elif not running and self.running.is_set():
                self.running.clear()
                self.busy_s += time.monotonic() - (self.busy_since or time.monotonic())
                self.busy_since = None

    def set_rate(self, rate: float) -> None:
        self.pacer.restart(rate)

    def running_s(self) -> float:
        """Seconds the traffic has been running, over every running period."""
        with self._lock:
            return self.busy_s + (time.monotonic() - self.busy_since if self.busy_since is not None else 0.0)

    def idle(self) -> bool:
        """True when stopped and no write is under way."""
        with self._lock:
            return not self.running.is_set() and self.active == 0

    def close(self, deadline: float = 5.0) -> None:
        self._stop.set()
        self.running.set()  # wake the idle workers so that they see the stop
        for thread in self._threads:
            thread.join(deadline / len(self._threads))
        self.set_running(False)

    # -- one worker ------------------------------------------------------------------------------------
    def _work(self) -> None:
        http = requests.Session()
        while not self._stop.is_set():
            if not self.running.wait(IDLE_WAIT_S) or self._stop.is_set():
                continue
            due = self.pacer.next_due()
            if self._stop.wait(max(0.0, due - time.monotonic())):
                continue
            op = self._claim()
            if op is None:
                continue
            try:
                self._perform(http, op)
            finally:
                with self._lock:
                    self.active -= 1
        http.close()

    def _claim(self) -> Op | None:
        """The next write, counted as under way, unless the traffic was stopped: one step under the lock
        that ``set_running`` takes, so that once stopped, ``idle`` can trust ``active``."""
        with self._lock:
            op = self.workload.next_op() if self.running.is_set() and not self._stop.is_set() else None
            self.active += op is not None
            return op

    def _perform(self, http: requests.Session, op: Op) -> None:
        object_id, started = op.object_id, time.monotonic()
        try:
            object_id = self._write(http, op)
            written_at, latency = time.time(), time.monotonic() - started
            doc = raw(self.source_db[op.cls]).find_one({"_id": object_id}, max_time_ms=int(self.timeout_s * 1000))
            self._journal(op, object_id, written_at, latency, doc)
        except Exception as exc:  # counted and shown; the traffic goes on
            self._failed(op, object_id, exc)
            return
        self.workload.finish(op, object_id)

    def _write(self, http: requests.Session, op: Op) -> str:
        url = f"{self.parse_url}/classes/{op.cls}"
        if op.kind == "insert":
            answer = http.post(url, json=op.body, headers=self.headers, timeout=self.timeout_s)
        elif op.kind == "update":
            answer = http.put(f"{url}/{op.object_id}", json=op.body, headers=self.headers, timeout=self.timeout_s)
        else:
            answer = http.delete(f"{url}/{op.object_id}", headers=self.headers, timeout=self.timeout_s)
        if answer.status_code >= 300:
            raise RuntimeError(f"HTTP {answer.status_code}: {answer.text[:200]}")
        return str(answer.json()["objectId"]) if op.kind == "insert" else op.object_id

    def _journal(self, op: Op, object_id: str, written_at: float, latency: float,
                 doc: RawBSONDocument | None) -> None:
        if (doc is None) != (op.kind == "delete"):
            state = "still exists" if doc is not None else "is gone"
            raise RuntimeError(f"after the {op.kind}, {op.cls} {object_id} {state} on the source")
        entry = Entry(op.kind, op.cls, object_id, written_at, latency_s=latency)
        if doc is not None:
            entry.updated_at, entry.doc = _epoch(doc["_updated_at"]), bytes(doc.raw)
        self.journal.append(entry)

    def _failed(self, op: Op, object_id: str, exc: Exception) -> None:
        """Count the failure. The write may still have happened (an answer lost, a read-back that failed):
        unless no object was named yet (an insert without an answer), journal a lookup of the object, so the
        sync copies whatever the source holds then."""
        with self._lock:
            self.errors += 1
            self.last_error = f"{op.kind} {op.cls} {object_id or '(new)'}: {type(exc).__name__}: {exc}"[:300]
        if object_id:
            self.journal.append(Entry(op.kind, op.cls, object_id, time.time(), lookup=True))
        self.workload.finish(op, object_id)


def _epoch(moment: datetime) -> float:
    """Seconds since the epoch of a BSON date (decoded naive, in UTC)."""
    return moment.replace(tzinfo=UTC).timestamp()
