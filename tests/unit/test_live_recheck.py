"""DB-02's rechecks and DB-01's cutoff brackets under a live sync, on fake sides with a fake clock."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import bson

from cutover.data.content import id_key
from cutover.data.live_counts import brackets
from cutover.data.recheck import Item, Policy, Recheck, stamp_of, state_of


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def doc(_id: str, score: int, at: float) -> bytes:
    return bson.encode({"_id": _id, "score": score, "_updated_at": datetime.fromtimestamp(at, UTC)})


class Side:
    """A side whose documents may change at given times: {id: [(from_time, raw or None), ...]}."""

    def __init__(self, clock: Clock, history: dict[str, list[tuple[float, bytes | None]]]) -> None:
        self.clock, self.history = clock, history

    def fetch(self, cls: str, ids: list[Any]) -> dict[bytes, bytes]:
        out = {}
        for _id in ids:
            versions = [raw for at, raw in self.history.get(_id, []) if at <= self.clock.now]
            if versions and versions[-1] is not None:
                out[id_key(versions[-1])] = versions[-1]
        return out


def item(clock: Clock, raw: bytes, kind: str = "content") -> Item:
    return Item(id_key(raw), kind, clock.now, stamp_of(raw))


def run(clock: Clock, source: Side, target: Side, items: list[Item], **policy: Any) -> Any:
    return Recheck("GameScore", source, target, Policy(**policy), clock, clock.sleep).run(items)


def test_a_document_in_flight_arrives_and_passes_with_its_lag() -> None:
    clock = Clock()
    new = doc("a", 2, clock.now - 0.5)
    source = Side(clock, {"a": [(0, new)]})
    target = Side(clock, {"a": [(0, doc("a", 1, clock.now - 100)), (clock.now + 1.5, new)]})
    settled = run(clock, source, target, [item(clock, new)], sync_lag_s=2.0)
    assert (settled.failed, settled.in_flight, settled.converged) == ((), (), 1)
    assert settled.converging and settled.observed_lag_s is not None and 2.0 <= settled.observed_lag_s <= 4.0


def test_a_document_that_differs_and_did_not_change_fails_after_one_recheck() -> None:
    clock = Clock()
    old = doc("a", 2, clock.now - 86400)
    source = Side(clock, {"a": [(0, old)]})
    target = Side(clock, {"a": [(0, doc("a", 1, clock.now - 86400))]})
    settled = run(clock, source, target, [item(clock, old)], sync_lag_s=2.0)
    assert [i.kind for i in settled.failed] == ["content"] and settled.rounds == 1
    assert settled.failed[0].paths == "score"


def test_a_document_missing_and_never_synced_fails() -> None:
    clock = Clock()
    old = doc("m", 2, clock.now - 3600)
    settled = run(clock, Side(clock, {"m": [(0, old)]}), Side(clock, {}), [item(clock, old, "missing")])
    assert [i.kind for i in settled.failed] == ["missing"]


def test_a_recent_change_still_missing_is_in_flight_until_max_in_flight_s() -> None:
    clock = Clock()
    new = doc("n", 1, clock.now - 1)
    source, target = Side(clock, {"n": [(0, new)]}), Side(clock, {})     # the sync has stopped
    settled = run(clock, source, target, [item(clock, new, "missing")], sync_lag_s=1.0, budget_s=10,
                  max_in_flight_s=30)
    assert settled.failed == () and len(settled.in_flight) == 1 and not settled.converging
    assert 10 <= settled.oldest_in_flight_s <= 12
    later = run(clock, source, target, [item(clock, new, "missing")], sync_lag_s=1.0, budget_s=60, rounds=30,
                max_in_flight_s=30)
    assert len(later.failed) == 1 and later.in_flight == ()


def test_without_a_declared_lag_the_delays_grow_until_the_document_arrives() -> None:
    clock = Clock()
    new = doc("a", 2, clock.now)
    source = Side(clock, {"a": [(0, new)]})
    target = Side(clock, {"a": [(0, doc("a", 1, 0)), (clock.now + 5, new)]})
    settled = run(clock, source, target, [item(clock, new)])
    assert settled.converged == 1 and settled.rounds == 3     # waited 1 + 2 + 4 s


def test_a_document_without_a_stamp_fails_after_one_settle_delay() -> None:
    clock = Clock()
    raw = bson.encode({"_id": "owner:related", "owningId": "x"})
    source = Side(clock, {"owner:related": [(0, raw)]})
    settled = run(clock, source, Side(clock, {}), [Item(id_key(raw), "missing", clock.now)], sync_lag_s=2.0)
    assert len(settled.failed) == 1 and settled.rounds == 1


def test_a_delete_in_flight_settles() -> None:
    clock = Clock()
    gone = doc("d", 1, clock.now - 86400)
    target = Side(clock, {"d": [(0, gone), (clock.now + 2, None)]})
    settled = run(clock, Side(clock, {}), target, [Item(id_key(gone), "extra", clock.now)], sync_lag_s=2.0)
    assert settled.failed == () and settled.converged == 1


def test_a_short_lived_insert_deleted_while_the_sync_is_stopped_is_no_sign_of_delivery() -> None:
    """Missing at the first read, then deleted on the source: both sides agree, but the target never moved."""
    clock = Clock()
    brief, old = doc("b", 1, clock.now - 1), doc("o", 1, clock.now - 86400)
    source = Side(clock, {"b": [(0, brief), (clock.now + 1, None)], "o": [(0, old)]})
    stale = doc("o", 0, clock.now - 86400)
    target = Side(clock, {"o": [(0, stale)]})
    items = [Item(id_key(brief), "missing", clock.now, stamp_of(brief), target=state_of(None)),
             Item(id_key(old), "content", clock.now, stamp_of(old), "score", state_of(stale))]
    settled = run(clock, source, target, items, sync_lag_s=2.0)
    assert (settled.converged, settled.resolved) == (0, 1) and settled.observed_lag_s is None
    assert [i.kind for i in settled.failed] == ["content"] and not settled.converging


def test_a_delete_the_sync_delivers_counts_as_arrived() -> None:
    clock = Clock()
    gone = doc("d", 1, clock.now - 86400)
    target = Side(clock, {"d": [(0, gone), (clock.now + 2, None)]})
    settled = run(clock, Side(clock, {}), target, [Item(id_key(gone), "extra", clock.now, target=state_of(gone))],
                  sync_lag_s=2.0)
    assert (settled.converged, settled.resolved) == (1, 0) and settled.converging


def test_the_budget_bounds_the_waiting() -> None:
    clock = Clock()
    new = doc("n", 1, clock.now)
    start = clock.now
    run(clock, Side(clock, {"n": [(0, new)]}), Side(clock, {}), [item(clock, new, "missing")], budget_s=7)
    assert clock.now - start <= 7.0 + 1e-9


def counter(table: dict[str, list[int]], clock: Clock) -> Any:
    calls: dict[str, int] = {}

    def count(cls: str, cutoff: datetime) -> int:
        calls[cls] = calls.get(cls, 0) + 1
        values = table[cls]
        return values[min(calls[cls], len(values)) - 1]
    return count


def test_an_exact_bracket_finds_one_document_missing() -> None:
    clock = Clock()
    found = brackets(["A"], counter({"A": [10, 10]}, clock), counter({"A": [9]}, clock), 2.0, clock=clock,
                     sleep=clock.sleep)
    assert found["A"].exact and not found["A"].ok and "difference -1" in found["A"].describe()


def test_a_delete_in_flight_is_read_again_and_a_moving_class_is_judged_by_its_bracket() -> None:
    clock = Clock()
    source = counter({"A": [10, 9, 9], "B": [5, 4, 4, 3]}, clock)
    target = counter({"A": [9, 9], "B": [4, 3]}, clock)
    found = brackets(["A", "B"], source, target, 2.0, rounds=2, clock=clock, sleep=clock.sleep)
    assert found["A"].exact and found["A"].ok and found["A"].rounds == 2
    assert not found["B"].exact and found["B"].ok and "then 3" in found["B"].describe()


def test_a_target_above_the_source_fails_without_a_second_source_read() -> None:
    clock = Clock()
    source = counter({"A": [10]}, clock)
    found = brackets(["A"], source, counter({"A": [11]}, clock), 2.0, clock=clock, sleep=clock.sleep)
    assert found["A"].exact and not found["A"].ok and "difference +1" in found["A"].describe()


def test_a_bracket_reads_the_target_one_settle_delay_after_its_own_source_count_no_later() -> None:
    clock = Clock()
    reads: list[tuple[str, str, float]] = []

    def slow(side: str) -> Any:
        def count(cls: str, cutoff: datetime) -> int:
            clock.sleep(1.0)                      # each count takes a second
            reads.append((side, cls, clock.now))
            return 5
        return count
    start = clock.now
    found = brackets(["A", "B", "C"], slow("source"), slow("target"), 2.0, clock=clock, sleep=clock.sleep)
    assert all(b.ok and b.exact for b in found.values())
    done = {(side, cls): at for side, cls, at in reads}
    for cls in "ABC":                             # never earlier than one delay after its source count
        assert done[("target", cls)] - 1.0 >= done[("source", cls)] + 2.0
    assert clock.now - start == 6.0               # the source counts of B and C used up A's delay: no sleep


def test_api08_under_a_live_sync_asks_only_for_objects_unchanged_since_the_cutoff() -> None:
    from cutover.model import Database, Query
    from cutover.rest.live_differential import settle_s, unchanged_since

    query = Query(cls="GameScore", where={"score": {"$gte": 5}}, sort={"score": -1})
    asked = unchanged_since(query, datetime(2026, 11, 30, 12, 0, 0, 250000, UTC))
    assert asked.where == {"score": {"$gte": 5},
                           "updatedAt": {"$lt": {"__type": "Date", "iso": "2026-11-30T12:00:00.250Z"}}}
    assert asked.sort == query.sort
    assert settle_s(Database(uri="", sync_lag_s=4.0)) == 6.0
    assert settle_s(Database(uri="", max_in_flight_s=30.0)) == 30.0


class _ChangedSource:
    """A source Parse Server that says which objects changed since a time (``ids``), or fails to answer."""

    def __init__(self, ids: list[str], status: int = 200) -> None:
        self.ids, self.status = ids, status
        self.asked: list[Any] = []

    def query(self, cls: str, where: Any = None, **kwargs: Any) -> Any:
        from cutover.rest.client import Answer

        self.asked.append((cls, where, kwargs))
        return Answer("GET", f"/classes/{cls}", self.status, {"results": [{"objectId": i} for i in self.ids]}, "")


def test_api08_under_a_live_sync_leaves_out_the_objects_the_source_changed_since_the_cutoff() -> None:
    from cutover.model import Query
    from cutover.rest.client import MAX_LIMIT
    from cutover.rest.live_differential import changed_since, without

    cutoff = datetime(2026, 11, 30, 12, 0, 0, 250000, UTC)
    source = _ChangedSource(["a1", "b2"])
    changed = changed_since(source, "Player", cutoff)  # type: ignore[arg-type]
    assert changed == ["a1", "b2"]
    assert source.asked == [("Player", {"updatedAt": {"$gte": {"__type": "Date", "iso": "2026-11-30T12:00:00.250Z"}}},
                             {"keys": "objectId", "limit": MAX_LIMIT})]
    query = Query(cls="Player", where={"country": "JP"})
    assert without(query, changed).where == {"country": "JP", "objectId": {"$nin": ["a1", "b2"]}}
    assert without(query, []) == query
    assert without(Query(cls="Player", where={"objectId": "x"}), changed).where == {"objectId": "x"}
    # more than one answer holds, or no answer: nothing is left out (the rounds settle what differs)
    assert changed_since(_ChangedSource([f"o{i}" for i in range(MAX_LIMIT)]), "Player", cutoff) == []  # type: ignore[arg-type]
    assert changed_since(_ChangedSource(["a1"], status=500), "Player", cutoff) == []  # type: ignore[arg-type]


def _watch_dbs(clock: Clock) -> tuple[Any, Any]:
    import mongomock

    client = mongomock.MongoClient()
    src, dst = client["src"], client["dst"]
    old = datetime.fromtimestamp(clock.now - 3600, UTC)
    for db in (src, dst):
        db["Player"].insert_many([{"_id": f"p{i}", "_updated_at": old} for i in range(3)])
    return src, dst


def test_the_sync_watch_sees_a_change_arrive_and_measures_its_lag(monkeypatch: Any) -> None:
    from cutover.data import sync_watch

    monkeypatch.setattr(sync_watch, "within", lambda db, budget, fn: fn())
    clock = Clock()
    src, dst = _watch_dbs(clock)
    src["Player"].update_one({"_id": "p1"}, {"$set": {"_updated_at": datetime.fromtimestamp(clock.now - 1, UTC)}})

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        dst["Player"].replace_one({"_id": "p1"}, src["Player"].find_one({"_id": "p1"}))
    found = sync_watch.watch(src, dst, "Player", 2.0, 30.0, 60.0, 10.0, clock=clock, sleep=sleep)
    assert (found.in_flight, found.arrived, found.oldest_s) == (1, 1, 0.0) and found.converging
    assert 3.9 <= found.lags[0] <= 4.1          # stamped 1 s before, seen after the 3 s settle delay


def test_the_sync_watch_fails_a_stopped_sync_only_past_the_threshold(monkeypatch: Any) -> None:
    from cutover.data import sync_watch

    monkeypatch.setattr(sync_watch, "within", lambda db, budget, fn: fn())
    clock = Clock()
    src, dst = _watch_dbs(clock)
    src["Player"].update_one({"_id": "p2"}, {"$set": {"_updated_at": datetime.fromtimestamp(clock.now - 1, UTC)}})
    found = sync_watch.watch(src, dst, "Player", 2.0, 10.0, 60.0, 10.0, clock=clock, sleep=clock.sleep)
    assert (found.in_flight, found.arrived) == (1, 0) and not found.converging and found.oldest_s > 10.0
    quiet = sync_watch.watch(dst, dst, "Player", 2.0, 10.0, 60.0, 10.0, clock=clock, sleep=clock.sleep)
    assert quiet.in_flight == 0 and quiet.converging


def test_api08_under_a_live_sync_asks_again_only_while_the_objectids_differ(monkeypatch: Any) -> None:
    from cutover.model import Database, Query
    from cutover.rest import live_differential as live
    from cutover.rest.flows import Differential

    def run(answers: list[list[str]]) -> tuple[tuple[str, ...], int, float]:
        clock, left = Clock(), list(answers)
        monkeypatch.setattr(live, "differential",
                            lambda source, target, query: Differential(tuple(left.pop(0) if left else [])))
        found = live.live_differential(_ChangedSource([]), None, Query(cls="GameScore"),  # type: ignore[arg-type]
                                       Database(uri="", sync_lag_s=2.0), clock=clock, sleep=clock.sleep)
        return found.differences, found.rounds, clock.now - 1_000_000.0
    # a delete in flight: the target's answer holds one more object, gone after one settle delay
    assert run([["objectIds differ: source ['a'], target ['a', 'b'] (first 10)"], []]) == ((), 2, 3.0)
    # an object both answers hold, unchanged since the cutoff, differs: a defect at once, no wait
    title = "a: field 'title' came back 'x!', sent 'x'"
    assert run([[title]]) == ((title,), 1, 0.0)
