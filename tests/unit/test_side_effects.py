"""cutover.rest.side_effects: what is a side effect of a probe, how it is linked, how runs' rows add up, and the
sweep's report (mongomock for the database, a stub for the REST answers)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import mongomock
import pytest

from cutover.errors import CouldNotVerify
from cutover.rest.client import Answer
from cutover.rest.side_effects import LEFT, NEW_CLASS, Effects, SideEffect, SideEffectWatch, total_rows
from cutover.rest.sweep import Sweep

NOW = datetime.now(UTC).replace(tzinfo=None)
OLD = NOW - timedelta(days=3)
SINCE = (NOW - timedelta(minutes=1)).replace(tzinfo=UTC)
SCHEMAS = {
    "Profile": {"user": {"type": "Pointer", "targetClass": "_User"}, "tags": {"type": "Array"}},
    "Team": {"members": {"type": "Relation", "targetClass": "_User"}},
    "Audit": {"probe": {"type": "Pointer", "targetClass": "CutoverProbe"}},
    "_User": {"username": {"type": "String"}},
    "_Session": {"user": {"type": "Pointer", "targetClass": "_User"}},
    "CutoverProbe": {"tPointer": {"type": "Pointer", "targetClass": "CutoverProbe"}},
}


class Rest:
    """Answers GET /schemas with ``classes``; records nothing else (find never writes)."""

    def __init__(self, classes: dict[str, dict[str, Any]]) -> None:
        self.classes = classes

    def schemas(self) -> Answer:
        body = {"results": [{"className": c, "fields": f} for c, f in self.classes.items()]}
        return Answer("GET", "/schemas", 200, body, "")


@pytest.fixture
def db() -> Any:
    database: Any = mongomock.MongoClient().db
    database["Profile"].insert_many([
        {"_id": "p-new", "_p_user": "_User$u1", "_created_at": NOW},
        {"_id": "p-old", "_p_user": "_User$u1", "_created_at": OLD},         # before the probes: not theirs
        {"_id": "p-app", "_p_user": "_User$app", "_created_at": NOW},
        {"_id": "p-tag", "tags": [{"__type": "Pointer", "className": "_User", "objectId": "u1"}],
         "_created_at": NOW},
        {"_id": "p-acl", "_rperm": ["u1"], "_wperm": ["u1"], "_created_at": NOW},
    ])
    database["Audit"].insert_one({"_id": "a1", "_p_probe": "CutoverProbe$o1", "_created_at": NOW})
    database["Team"].insert_one({"_id": "t1", "_created_at": OLD})
    database["_Join:members:Team"].insert_many([{"owningId": "t1", "relatedId": "u1"},
                                                {"owningId": "t1", "relatedId": "app"}])
    database["_Session"].insert_many([
        {"_id": "s-probe", "_p_user": "_User$u1", "installationId": "cutover-probe-20261130t000000z-abcdef-0a",
         "_created_at": NOW},
        {"_id": "s-other", "_p_user": "_User$u1", "installationId": "ios-1", "_created_at": NOW}])
    database["Counter"].insert_one({"_id": "c1", "saves": 3, "_created_at": NOW})
    return database


def watch(db: Any, before: set[str], foreign: frozenset[str] = frozenset()) -> SideEffectWatch:
    return SideEffectWatch(Rest({**SCHEMAS, "Counter": {}}), db, "CutoverProbe",  # type: ignore[arg-type]
                           frozenset(before), "report", foreign)


def test_objects_created_since_that_reference_a_probe_are_found_with_their_link(db: Any) -> None:
    found, new = watch(db, set(SCHEMAS) | {"Counter"}).find(frozenset({"o1"}), frozenset({"u1"}), SINCE)
    assert new == ()
    assert {(e.cls, e.object_id, e.link) for e in found} == {
        ("Profile", "p-new", "pointer user -> probe user"), ("Profile", "p-tag", "array tags holds a probe"),
        ("Profile", "p-acl", "ACL names a probe user"), ("Audit", "a1", "pointer probe -> probe object"),
        ("_Session", "s-other", "pointer user -> probe user"),   # a session the probe did not open
        ("Team", "t1", "relation members holds a probe")}
    relation = next(e for e in found if e.relation)
    assert relation.relation == ("members", "_User", "u1")


def test_a_class_created_since_the_run_began_is_one_with_its_objects_of_the_window(db: Any) -> None:
    found, own = watch(db, set(SCHEMAS)).find(frozenset(), frozenset(), SINCE)
    assert own == ("Counter",) and [(e.cls, e.link) for e in found] == [("Counter", NEW_CLASS)]
    assert watch(db, set(SCHEMAS), foreign=frozenset({"Counter"})).find(frozenset(), frozenset(), SINCE) == ((), ())
    # an object older than the window: the class is not this probe run's to drop (an earlier run's, the app's)
    db["Counter"].insert_one({"_id": "c0", "_created_at": OLD})
    found, own = watch(db, set(SCHEMAS)).find(frozenset(), frozenset(), SINCE)
    assert own == () and [e.object_id for e in found] == ["c1"]


def test_without_a_baseline_nothing_is_claimed() -> None:
    class Down:
        def schemas(self) -> Answer:
            return Answer("GET", "/schemas", 503, None, "down")

    watch_ = SideEffectWatch(Down(), None, "CutoverProbe", None)  # type: ignore[arg-type]
    with pytest.raises(CouldNotVerify, match="not known"):
        watch_.find(frozenset(), frozenset({"u1"}), SINCE)
    effects = watch_.settle(frozenset(), frozenset({"u1"}), SINCE)
    assert effects.error and effects.found == () and effects.rows() == []


def test_rows_count_per_class_and_link_and_say_what_was_done() -> None:
    found = (SideEffect("Profile", "a", "pointer user -> probe user"), SideEffect("Profile", "b",
             "pointer user -> probe user"), SideEffect("Counter", "c", NEW_CLASS))
    undone = Effects(found, ("Counter", "Empty"), "undo")
    assert undone.rows() == [
        {"class": "Counter", "count": 1, "link": NEW_CLASS, "action": "undone"},
        {"class": "Profile", "count": 2, "link": "pointer user -> probe user", "action": "undone"},
        {"class": "Empty", "count": 0, "link": NEW_CLASS, "action": "undone"}]
    assert Effects(found, (), "undo", 1, ("Profile/b: 403",)).rows()[0]["action"] == "undo incomplete"
    assert "2 Profile (pointer user -> probe user)" in undone.describe()
    assert {r["action"] for r in Effects(found, (), "report").rows()} == {LEFT}
    assert undone.problem() == "" and Effects(mode="report").problem() == ""
    assert Effects(found, (), "report").problem().endswith('left in place (probe_side_effects = "report")')
    assert "1 could not be undone: Profile/b: 403" in Effects(found, (), "undo", 1, ("Profile/b: 403",)).problem()


def test_the_rows_of_several_probe_runs_add_up() -> None:
    def row(cls: str, n: int, link: str = NEW_CLASS, action: str = LEFT) -> dict[str, Any]:
        return {"class": cls, "count": n, "link": link, "action": action}

    rows = [row("Profile", 1), row("Profile", 2), row("Counter", 1), row("Counter", 1, action="undone"),
            row("Counter", 1, action="undone"), row("Team", 1, "ACL names a probe user"),
            row("Team", 2, "ACL names a probe user")]
    assert total_rows(rows) == [row("Counter", 1), row("Counter", 2, action="undone"), row("Profile", 3),
                                row("Team", 3, "ACL names a probe user")]


def test_the_sweep_says_what_it_did_in_one_line() -> None:
    swept = Sweep(30, {"objects": 2, "files": 1, "users": 1, "sessions": 0}, 4, 3)
    assert swept.line() == ("probe sweep (grace 30 s): removed 2 objects, 1 files, 1 users; 3 fresh probes of "
                            "other runs left alone")
    assert Sweep(3600).line().endswith("removed nothing; 0 fresh probes of other runs left alone")
    assert "could not sweep: 403" in Sweep(60, error="403 unauthorized").line()
    seen = Sweep(60, stale=5, fresh=1, read_only=True)
    assert "5 stale probes exist, left in place (--read-only writes nothing)" in seen.line()
    assert seen.facts()["read_only"] and Sweep(60, left=("x: 500",)).facts()["left"] == ["x: 500"]


def test_a_side_effect_is_listed_by_one_probe_run_only(db: Any) -> None:
    """Report mode leaves side effects in place: the next probe run of the process must not list them again."""
    seen: set[SideEffect] = set()
    first = SideEffectWatch(Rest(SCHEMAS), db, "CutoverProbe", frozenset(SCHEMAS), "report",  # type: ignore[arg-type]
                            seen=seen).settle(frozenset(), frozenset({"u1"}), SINCE)
    again = SideEffectWatch(Rest(SCHEMAS), db, "CutoverProbe", frozenset(SCHEMAS), "report",  # type: ignore[arg-type]
                            seen=seen).settle(frozenset(), frozenset({"u1"}), SINCE)
    assert len(first.found) == 5 and again.found == () and again.rows() == []
