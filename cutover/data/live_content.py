"""DB-02 of one partition while a declared live sync runs (``live_sync = true``): compare, then recheck.

The partition is read once from both sides (as :func:`cutover.data.content.compare_partition` does); every
document that differs goes to :mod:`cutover.data.recheck`. What still differs and is no longer in flight is
the failure; what is in flight is reported with the sync's facts (:class:`SyncFacts`).
"""
from __future__ import annotations

import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from pymongo.database import Database

from cutover.data.content import ContentDiff, Partition, id_key, id_text, raw_documents
from cutover.data.inventory import call
from cutover.data.pace import UNCAPPED, Pace
from cutover.data.recheck import Fetch, Item, Policy, Recheck, Settled, difference, stamp_of, state_of
from cutover.listing import Capped
from cutover.model import Database as DatabaseSpec


def policy(spec: DatabaseSpec) -> Policy:
    """The recheck policy a target's ``[database]`` table declares."""
    return Policy(spec.sync_lag_s, spec.max_in_flight_s, spec.recheck_budget_s, spec.recheck_rounds)


@dataclass(frozen=True)
class SyncFacts:
    """What one partition's rechecks saw of the sync (record.json and the HTML, under ``sync``)."""

    cls: str
    differed: int                   # documents that differed at the first read
    converged: int                  # of those, arrived while rechecked
    in_flight: int                  # still differ, changed recently: not failures
    failed: int
    oldest_in_flight_s: float
    observed_lag_s: float | None    # max seconds from a source stamp to the read that saw it on the target
    median_lag_s: float | None
    converging: bool
    rounds: int
    waited_s: float
    rechecked: bool = True          # False: more differed than recheck_max_docs, nothing was reread
    youngest_failed_s: float | None = None   # the failures changed on the source at least this long ago
    resolved: int = 0               # agreed because the source changed (deleted, or back to the target's value)

    def describe(self) -> str:
        lag = "not observed" if self.observed_lag_s is None else f"at most {self.observed_lag_s:.1f} s"
        resolved = f", {self.resolved} agreed after a source change" if self.resolved else ""
        return (f"{self.differed} differed at the first read, {self.converged} arrived while rechecked{resolved} "
                f"({self.rounds} rounds, {self.waited_s:.1f} s), {self.in_flight} still in flight (oldest change "
                f"{self.oldest_in_flight_s:.1f} s ago), {self.failed} failed{self._failed_age()}; observed lag {lag}; "
                f"converging: {'yes' if self.converging else 'no'}")

    def _failed_age(self) -> str:
        if self.youngest_failed_s is None:
            return ""
        return f" (each changed on the source, or first seen differing, at least {self.youngest_failed_s:.0f} s ago)"

    def as_facts(self) -> dict[str, Any]:
        def secs(value: float | None) -> Any:
            return "not observed" if value is None else round(value, 2)
        return {"class": self.cls, "differed_at_first_read": self.differed,
                "arrived_while_rechecked": self.converged, "agreed_after_source_change": self.resolved,
                "in_flight": self.in_flight, "failed": self.failed,
                "oldest_in_flight_s": round(self.oldest_in_flight_s, 2),
                "observed_lag_max_s": secs(self.observed_lag_s),
                "observed_lag_median_s": secs(self.median_lag_s), "converging": self.converging,
                "recheck_rounds": self.rounds, "recheck_waited_s": round(self.waited_s, 2),
                "rechecked": self.rechecked}


@dataclass(frozen=True)
class FirstRead:
    items: tuple[Item, ...]
    source_docs: int
    target_docs: int


def first_read(src: Database[Any], dst: Database[Any], part: Partition, paces: tuple[Pace, Pace],
               now: float) -> FirstRead:
    """Both sides of the partition at once; every differing document as an :class:`Item` stamped ``now``."""
    filt = part.filter()

    def run() -> FirstRead:
        with ThreadPoolExecutor(max_workers=1) as pool:
            theirs_future = pool.submit(lambda: list(raw_documents(dst[part.cls], filt, paces[1])))
            ours = {id_key(raw): raw for raw in raw_documents(src[part.cls], filt, paces[0])}
            theirs = {id_key(raw): raw for raw in theirs_future.result()}
        items = []
        for key in ours.keys() | theirs.keys():
            found = difference(ours.get(key), theirs.get(key))
            if found is not None:
                items.append(Item(key, found[0], now, stamp_of(ours.get(key)), found[1],
                                  state_of(theirs.get(key))))
        return FirstRead(tuple(items), len(ours), len(theirs))
    return call(f"comparing {part.label}", run)


def live_partition(src: Database[Any], dst: Database[Any], fetchers: tuple[Fetch, Fetch], part: Partition,
                   spec: DatabaseSpec, cap: int, paces: tuple[Pace, Pace] = (UNCAPPED, UNCAPPED),
                   digest: str = "", recheck: type[Recheck] = Recheck) -> ContentDiff:
    """The partition's verdict under a live sync: the failures after rechecks, the sync's facts attached."""
    first = first_read(src, dst, part, paces, time.time())
    checker = recheck(part.cls, fetchers[0], fetchers[1], policy(spec))
    if len(first.items) > spec.recheck_max_docs:
        settled = Settled(first.items, (), 0)
        facts = sync_facts(part.cls, first, settled, rechecked=False)
    else:
        settled = checker.run(first.items) if first.items else Settled((), (), 0)
        facts = sync_facts(part.cls, first, settled)
    method = "documents, rechecked under live sync" if facts.rechecked else (
        f"documents; {len(first.items)} differ, more than recheck_max_docs = {spec.recheck_max_docs}: not rechecked")
    return as_diff(part.label, first, settled.failed, cap, method, digest, facts)


def sync_facts(cls: str, first: FirstRead, settled: Settled, rechecked: bool = True) -> SyncFacts:
    return SyncFacts(cls, len(first.items), settled.converged, len(settled.in_flight), len(settled.failed),
                     settled.oldest_in_flight_s, settled.observed_lag_s, settled.median_lag_s, settled.converging,
                     settled.rounds, settled.waited_s, rechecked, settled.youngest_failed_s, settled.resolved)


def as_diff(label: str, first: FirstRead, failed: Iterable[Item], cap: int, method: str, digest: str,
            facts: SyncFacts) -> ContentDiff:
    """The failures as DB-02's usual listing (capped, `_id` order)."""
    kinds: dict[str, Capped[Any]] = {kind: Capped(cap, key=str) for kind in ("missing", "extra", "content")}
    for item in failed:
        shown = id_text(item.key)
        kinds[item.kind].add((shown, item.paths) if item.kind == "content" else shown)
    missing, extra, content = (kinds[k] for k in ("missing", "extra", "content"))
    return ContentDiff(label, first.source_docs, first.target_docs, tuple(missing.listed()), tuple(extra.listed()),
                       tuple(content.listed()), missing.total, extra.total, content.total, method, digest,
                       sync=facts)
