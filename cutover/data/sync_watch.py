"""DB-06 under a declared live sync: is the sync delivering? (observed lag, in flight per class, converging)

Per class that Parse stamps (`_updated_at`): the newest change the target holds, then the source's changes
newer than it (at most ``cap``, oldest first, `_id` and stamp only): those are in flight. They are looked up on
the target again in rounds (delays 1, 2, 4... s, never shorter than the declared lag) until one arrives (the
sync delivers: converging), or the oldest is older than ``max_in_flight_s`` (the sync stopped or fell that far
behind: a failure), or the budget ends. Each arrival gives a lag (at most the seconds from its source stamp to
the read that saw it). Every read is a bounded query (``limit``) under the aggregation budget (maxTimeMS).
"""
from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo.database import Database

from cutover.data.inventory import call, within
from cutover.data.recheck import MARGIN_S, STAMP

Clock = Callable[[], float]


@dataclass(frozen=True)
class ClassSync:
    cls: str
    in_flight: int                 # source changes not yet on the target at the first read (capped)
    arrived: int                   # of those, seen on the target while watched
    oldest_s: float                # age of the oldest change still not on the target at the end (0: none)
    lags: tuple[float, ...]        # per arrival: seconds from its source stamp to the read that saw it
    capped: bool = False

    @property
    def converging(self) -> bool:
        return self.in_flight == 0 or self.arrived > 0


@dataclass(frozen=True)
class Pending:
    _id: Any
    stamp: datetime


def newest(db: Database[Any], cls: str, budget_s: float, exclude: dict[str, Any] | None = None) -> datetime | None:
    """The newest `_updated_at` of ``cls`` (``exclude``: the suite's own probes, written on the target)."""
    where = {STAMP: {"$type": "date"}, **(exclude or {})}
    found = call(f"newest {STAMP} of {cls}", lambda: within(db, budget_s, lambda: list(
        db[cls].find(where, {STAMP: 1}).sort(STAMP, -1).limit(1))))
    return found[0][STAMP] if found else None


def pending(src: Database[Any], cls: str, after: datetime | None, cap: int, budget_s: float) -> list[Pending]:
    """Source changes newer than ``after`` (the target's newest), oldest first, at most ``cap``."""
    where: dict[str, Any] = {STAMP: {"$gt": after} if after is not None else {"$type": "date"}}
    if after is None:
        return []  # the target holds no stamped document of this class: DB-01/DB-02 say what is missing
    docs = call(f"changes of {cls} not on the target", lambda: within(src, budget_s, lambda: list(
        src[cls].find(where, {STAMP: 1}).sort(STAMP, 1).limit(cap))))
    return [Pending(d["_id"], d[STAMP]) for d in docs]


def arrived(dst: Database[Any], cls: str, items: list[Pending], budget_s: float) -> set[Any]:
    """`_id`s of ``items`` whose change the target now holds (its stamp is at least the source's)."""
    stamps = {p._id: p.stamp for p in items}
    docs = call(f"rechecking {cls}", lambda: within(dst, budget_s, lambda: list(
        dst[cls].find({"_id": {"$in": list(stamps)}}, {STAMP: 1}))))
    return {d["_id"] for d in docs if isinstance(d.get(STAMP), datetime) and d[STAMP] >= stamps[d["_id"]]}


def watch(src: Database[Any], dst: Database[Any], cls: str, sync_lag_s: float, max_in_flight_s: float,
          budget_s: float, query_budget_s: float, cap: int = 1000, clock: Clock = time.time,
          sleep: Callable[[float], None] = time.sleep, exclude: dict[str, Any] | None = None) -> ClassSync:
    items = pending(src, cls, newest(dst, cls, query_budget_s, exclude), cap, query_budget_s)
    left, start, wait = list(items), clock(), max(1.0, sync_lag_s + MARGIN_S if sync_lag_s else 1.0)
    lags: list[float] = []
    while left and not lags and clock() - start < budget_s and _age(left[0], clock()) <= max_in_flight_s:
        sleep(min(wait, budget_s - (clock() - start)))
        came = arrived(dst, cls, left, query_budget_s)
        now = clock()
        lags += [now - _epoch(p.stamp) for p in left if p._id in came]
        left = [p for p in left if p._id not in came]
        wait *= 1 if sync_lag_s else 2
    oldest = _age(left[0], clock()) if left else 0.0
    return ClassSync(cls, len(items), len(items) - len(left), oldest, tuple(lags), len(items) >= cap)


def watch_all(src: Database[Any], dst: Database[Any], classes: dict[str, dict[str, Any]],
              **settings: Any) -> list[ClassSync]:
    """:func:`watch` of every class (name -> its probe exclusion) at once, a thread each (at most 8): the waits
    overlap."""
    if not classes:
        return []
    with ThreadPoolExecutor(max_workers=min(8, len(classes))) as pool:
        return list(pool.map(lambda cls: watch(src, dst, cls, exclude=classes[cls], **settings), sorted(classes)))


def _epoch(stamp: datetime) -> float:
    from datetime import UTC

    return (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).timestamp()


def _age(item: Pending, now: float) -> float:
    return now - _epoch(item.stamp)
