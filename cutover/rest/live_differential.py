"""API-08 while a declared live sync runs: compare only objects that did not change during the run.

A query's answer on the source includes writes the sync has not copied yet, so the plain differential
(:func:`cutover.rest.flows.differential`) would report them. Under a live sync the declared query is asked with
one more condition on both servers: ``updatedAt`` before a cutoff one settle delay ago (the declared
``sync_lag_s`` plus a margin, else ``max_in_flight_s``), so every object both answers hold had time to arrive.
An object the app changed after the cutoff is left out of both answers by its ``objectId`` too (the source is
asked which ones, at most 1000): the target still holds its older version, which may match the query while the
source's newer one does not, or no longer. Deletes carry no time: an object deleted on the source stays in the
target's answer for the sync's lag, so answers whose objectIds differ are asked again (same cutoff) after the
settle delay, in rounds, within ``recheck_budget_s``. A content difference is not asked again: both answers hold
the object, and neither side changed it since the cutoff.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from cutover.model import Database, Query
from cutover.rest.client import MAX_LIMIT, ParseClient, results
from cutover.rest.flows import Differential, differential

MARGIN_S = 1.0
IDS_DIFFER = "objectIds differ"   # how :func:`cutover.rest.flows.differential` begins a set difference


@dataclass(frozen=True)
class LiveDifferential:
    last: Differential               # the last round's comparison
    cutoff: str                      # ISO time: objects updated later were left out of both answers
    rounds: int

    @property
    def differences(self) -> tuple[str, ...]:
        return self.last.differences


def settle_s(spec: Database) -> float:
    return spec.sync_lag_s + max(MARGIN_S, 0.5 * spec.sync_lag_s) if spec.sync_lag_s else spec.max_in_flight_s


def unchanged_since(query: Query, cutoff: datetime) -> Query:
    """``query`` restricted to objects last updated before ``cutoff``."""
    where = dict(query.where)
    condition = dict(where.get("updatedAt") or {}) if isinstance(where.get("updatedAt"), dict) else {}
    where["updatedAt"] = {**condition, "$lt": _date(cutoff)}
    return replace(query, where=where)


def live_differential(source: ParseClient, target: ParseClient, query: Query, spec: Database,
                      clock: Callable[[], float] = time.time,
                      sleep: Callable[[float], None] = time.sleep) -> LiveDifferential:
    delay = settle_s(spec)
    cutoff = datetime.fromtimestamp(clock() - delay, UTC)
    asked, start, rounds = unchanged_since(query, cutoff), clock(), 1

    def compare() -> Differential:   # the objects changed since the cutoff are asked again each round: they grow
        return differential(source, target, without(asked, changed_since(source, query.cls, cutoff)))

    found = compare()
    while _in_flight(found) and rounds < spec.recheck_rounds and clock() - start + delay <= spec.recheck_budget_s:
        sleep(delay)
        rounds += 1
        found = compare()
    return LiveDifferential(found, str(asked.where["updatedAt"]["$lt"]["iso"]), rounds)


def _in_flight(found: Differential) -> bool:
    """Only the objectIds differ: a delete (or an insert older than the cutoff) may still be in flight. A
    content difference of an object both answers hold, unchanged since the cutoff, is no longer in flight."""
    return bool(found.differences) and found.differences[0].startswith(IDS_DIFFER)


def changed_since(source: ParseClient, cls: str, cutoff: datetime) -> list[str]:
    """objectIds of ``cls`` the source changed at or after ``cutoff`` ([] when it cannot say or there are more
    than one answer holds: then the rounds settle what differs)."""
    answer = source.query(cls, {"updatedAt": {"$gte": _date(cutoff)}}, keys="objectId", limit=MAX_LIMIT)
    found = [str(r.get("objectId")) for r in results(answer)] if answer.ok else []
    return found if len(found) < MAX_LIMIT else []


def without(query: Query, object_ids: list[str]) -> Query:
    """``query`` without the objects ``object_ids`` (unchanged when it already names its objectId)."""
    if not object_ids or "objectId" in query.where:
        return query
    return replace(query, where={**query.where, "objectId": {"$nin": object_ids}})


def _date(moment: datetime) -> dict[str, str]:
    return {"__type": "Date", "iso": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")}
