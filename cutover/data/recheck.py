"""DB-02 during a live sync: documents that differ are read again from both sides until they agree or are judged.

A sync copies each source write to the target some seconds later, so a document written during the check
differs for a while without being a defect. Each differing document is read again (by `_id`, from both sides)
after a settle delay, in rounds, until it agrees, is judged, or the recheck budget (seconds, rounds) ends.

How a document still differing is judged, from its source `_updated_at` (Parse stamps it on every write):
- it changed on the source less than ``max_in_flight_s`` ago: **in flight** (reported, not a failure);
- it last changed longer ago than that: a **failure** (a defect, or a sync that stopped delivering it).
Documents without a stamp (the source no longer has the document, i.e. an in-flight delete or an extra one;
`_Join:*` relation rows, `_SCHEMA`, GridFS files and chunks, `_Idempotency`, which Parse never stamps) cannot
say when they changed: they are in flight only while less than one settle delay has passed since the first
read saw them differ, and fail if they still differ after it.

The settle delay is the declared ``sync_lag_s`` (plus a margin); without one it starts at 1 s, doubles per
round and never stays below the lag the rechecks observed (a document that arrived `t` seconds after its
source stamp shows a lag of at most `t`). Clocks: ages compare the source's stamps (the app server's clock)
with this machine's clock, so a clock skew adds to them.

The document reads go through a :class:`Fetch` (``fetch(cls, ids)``), so any source that can look documents
up by `_id` plugs in; :class:`MongoFetch` is the MongoDB one.
"""
from __future__ import annotations

import hashlib
import statistics
import struct
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from typing import Any, Protocol

import bson
from pymongo.database import Database

from cutover.data.content import RAW, id_key
from cutover.data.inventory import call

MARGIN_S = 1.0          # added to a declared lag: a sync's lag is a typical figure, not a bound
FIRST_DELAY_S = 1.0     # the first settle delay when no lag is declared
STAMP = "_updated_at"
UNKNOWN = b"?"          # an Item's target state when the first read did not record it


class Fetch(Protocol):
    def fetch(self, cls: str, ids: list[Any]) -> dict[bytes, bytes]:
        """The documents of ``cls`` with these `_id`s that exist, raw BSON by :func:`id_key`."""
        ...


@dataclass(frozen=True)
class MongoFetch:
    """Documents by `_id` from one MongoDB (``$in`` in chunks, each read under the client's timeouts)."""

    db: Database[Any]
    chunk: int = 500

    def fetch(self, cls: str, ids: list[Any]) -> dict[bytes, bytes]:
        coll = self.db[cls].with_options(codec_options=RAW)
        found: dict[bytes, bytes] = {}

        def read(part: list[Any]) -> list[bytes]:
            return [bytes(d.raw) for d in coll.find({"_id": {"$in": part}})]
        for start in range(0, len(ids), self.chunk):
            docs = call(f"rechecking {cls}", partial(read, ids[start:start + self.chunk]))
            found.update((id_key(raw), raw) for raw in docs)
        return found


@dataclass(frozen=True)
class Policy:
    """How long and how often to recheck (from the target's ``[database]`` keys)."""

    sync_lag_s: float = 0.0        # declared lag; 0: use the observed one
    max_in_flight_s: float = 60.0
    budget_s: float = 60.0         # seconds the rechecks of one partition may wait in all
    rounds: int = 20

    def delay(self, round_no: int, observed_s: float) -> float:
        """Seconds to wait before recheck round ``round_no`` (1-based)."""
        if self.sync_lag_s:
            return self.sync_lag_s + max(MARGIN_S, 0.5 * self.sync_lag_s)
        return max(FIRST_DELAY_S * 2 ** (round_no - 1), observed_s + MARGIN_S)


@dataclass(frozen=True)
class Item:
    """One differing document while it is rechecked."""

    key: bytes
    kind: str                        # missing | extra | content
    first_seen: float                # this machine's clock, when a read first saw it differ
    stamp: float | None = None       # the source's `_updated_at` (epoch seconds), None without one
    paths: str = ""                  # field paths that differ (content)
    target: bytes = UNKNOWN          # the target's state at the last read (:func:`state_of`)
    changed: bool = False            # the source document changed while it was rechecked


@dataclass(frozen=True)
class Settled:
    """What the rechecks concluded about one partition's differing documents."""

    failed: tuple[Item, ...]         # still differ and no longer in flight
    in_flight: tuple[Item, ...]      # still differ, changed recently: reported, not failed
    converged: int                   # arrived while rechecked: the target moved to the source's state
    lags: tuple[float, ...] = ()     # per arrived stamped document: seconds from its stamp to the read that saw it
    rounds: int = 0
    waited_s: float = 0.0
    ages: dict[bytes, float] = field(default_factory=dict, hash=False)   # key -> change age at the end
    resolved: int = 0                # agreed because the source moved to the target's state (e.g. deleted)

    @property
    def converging(self) -> bool:
        """The sync delivers: nothing left in flight, or something arrived while the rechecks waited."""
        return not (self.in_flight or self.failed) or self.converged > 0

    @property
    def youngest_failed_s(self) -> float | None:
        """How recently the most recently changed failure changed on the source (None: no failure)."""
        return min((self.ages[i.key] for i in self.failed if i.key in self.ages), default=None)

    @property
    def oldest_in_flight_s(self) -> float:
        return max((self.ages[i.key] for i in self.in_flight), default=0.0)

    @property
    def observed_lag_s(self) -> float | None:
        return max(self.lags) if self.lags else None

    @property
    def median_lag_s(self) -> float | None:
        return statistics.median(self.lags) if self.lags else None


def stamp_of(raw: bytes | None) -> float | None:
    """The `_updated_at` of a raw document as epoch seconds (BSON dates are UTC), or None."""
    if raw is None:
        return None
    value = bson.decode(raw).get(STAMP)
    if not isinstance(value, datetime):
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


def state_of(raw: bytes | None) -> bytes:
    """A short digest of one side's document (b"" when absent), to tell whether that side moved between reads."""
    return b"" if raw is None else hashlib.blake2b(raw, digest_size=16).digest()


def id_value(key: bytes) -> Any:
    """The `_id` value of an :func:`id_key`."""
    return bson.decode(struct.pack("<i", len(key) + 5) + key + b"\x00")["_id"]


def difference(ours: bytes | None, theirs: bytes | None) -> tuple[str, str] | None:
    """(kind, field paths) of a source/target pair, None when they agree."""
    from cutover.data.content import field_differences

    if ours is None and theirs is None:
        return None
    if theirs is None:
        return "missing", ""
    if ours is None:
        return "extra", ""
    if ours == theirs:
        return None
    paths = field_differences(bson.decode(ours), bson.decode(theirs))
    return ("content", ", ".join(paths)) if paths else None


class Recheck:
    """The rounds of one partition (``clock``/``sleep``/``wall`` injectable for tests; ``wall`` is epoch)."""

    def __init__(self, cls: str, source: Fetch, target: Fetch, policy: Policy,
                 clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep) -> None:
        self.cls, self.source, self.target, self.policy = cls, source, target, policy
        self.clock, self.sleep = clock, sleep
        self.lags: list[float] = []
        self.converged = 0
        self.resolved = 0

    def run(self, items: Iterable[Item]) -> Settled:
        pending = {item.key: item for item in items}
        start, rounds = self.clock(), 0
        while pending and rounds < self.policy.rounds and (rounds == 0 or self._holds(pending.values())):
            wait = min(self.policy.delay(rounds + 1, max(self.lags, default=0.0)),
                       self.policy.budget_s - (self.clock() - start))
            if wait <= 0:
                break
            self.sleep(wait)
            rounds += 1
            pending = self._round(pending)
        return self._judge(pending, rounds, self.clock() - start)

    def _holds(self, items: Iterable[Item]) -> bool:
        """Another round is worth waiting for: some document may still be in flight (or none was reread)."""
        now = self.clock()
        return any(self._in_flight(item, now) for item in items)

    def _in_flight(self, item: Item, now: float) -> bool:
        if item.stamp is not None:
            return now - item.stamp <= self.policy.max_in_flight_s
        return now - item.first_seen < self._settle()

    def _settle(self) -> float:
        """One settle delay for documents without a stamp: the declared or observed lag, else the threshold."""
        if self.policy.sync_lag_s:
            return self.policy.delay(1, 0.0)
        return max(self.lags) + MARGIN_S if self.lags else self.policy.max_in_flight_s

    def _round(self, pending: dict[bytes, Item]) -> dict[bytes, Item]:
        ids = [id_value(key) for key in pending]
        ours, theirs = self.source.fetch(self.cls, ids), self.target.fetch(self.cls, ids)
        now, left = self.clock(), {}
        for key, item in pending.items():
            found = difference(ours.get(key), theirs.get(key))
            stamp, target = stamp_of(ours.get(key)), state_of(theirs.get(key))
            if found is None:
                self._agreed(item, target, now)
                continue
            moved = stamp is not None and stamp != item.stamp
            left[key] = replace(item, kind=found[0], paths=found[1], stamp=stamp, target=target,
                                changed=item.changed or moved)
        return left

    def _agreed(self, item: Item, target: bytes, now: float) -> None:
        """Only a target that moved shows the sync delivering: a source deleted or changed back to the
        target's state (a short-lived insert while the sync is stopped) agrees without any delivery."""
        if item.target != UNKNOWN and item.target == target:
            self.resolved += 1
            return
        self.converged += 1
        if item.stamp is not None:
            self.lags.append(max(0.0, now - item.stamp))

    def _judge(self, pending: dict[bytes, Item], rounds: int, waited: float) -> Settled:
        now = self.clock()
        ages = {key: now - (item.stamp if item.stamp is not None else item.first_seen)
                for key, item in pending.items()}
        failed = tuple(i for i in pending.values() if rounds == 0 or not self._in_flight(i, now))
        flying = tuple(i for i in pending.values() if i not in failed)
        return Settled(failed, flying, self.converged, tuple(self.lags), rounds, waited, ages, self.resolved)
