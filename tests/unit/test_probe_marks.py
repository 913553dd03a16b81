"""cutover.probe_marks: a probe is recognised by its reserved name AND its marker, never by one alone;
the filters built from that leave probes out of counts and partitions (mongomock)."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import mongomock
import pytest

from cutover import probe_marks
from cutover.data.content import partitions
from cutover.model import Database, Source, Target
from cutover.rest.probes import new_run_id
from cutover.session import Session

RUN = new_run_id()
PROBE_NAME = probe_marks.username(RUN, "a1b2c3")
USERS = [
    {"_id": "probe", "username": PROBE_NAME, "email": probe_marks.email(PROBE_NAME)},
    {"_id": "upper", "username": PROBE_NAME + "d", "email": probe_marks.email(PROBE_NAME + "d").upper()},
    {"_id": "prefix-only", "username": probe_marks.username(RUN, "ffffff"), "email": "ana@example.org"},
    {"_id": "marker-only", "username": "ana", "email": probe_marks.email(PROBE_NAME)},
    {"_id": "no-run-id", "username": "cutover-probe-x", "email": "cutover-probe-x@probe.cutover.invalid"},
    {"_id": "app", "username": "bob", "email": "bob@example.org"},
]
SESSIONS = [
    {"_id": "s-probe", "installationId": probe_marks.installation_id(RUN, "a1b2c3"), "_p_user": "_User$probe"},
    {"_id": "s-app", "installationId": "9b1e0c4e-ios", "_p_user": "_User$app"},
    {"_id": "s-none", "_p_user": "_User$app"},
]


@pytest.fixture
def db() -> Any:
    database: Any = mongomock.MongoClient().db
    database["_User"].insert_many(USERS)
    database["_Session"].insert_many(SESSIONS)
    database["_SCHEMA"].insert_many([{"_id": "GameScore"}, {"_id": "CutoverProbe"}, {"_id": "_User"}])
    return database


def ids(db: Any, cls: str, where: dict[str, Any]) -> set[str]:
    return {d["_id"] for d in db[cls].find(where)}


def test_only_documents_with_both_the_name_and_the_marker_match(db: Any) -> None:
    assert ids(db, "_User", probe_marks.probe_match("_User", "CutoverProbe")) == {"probe", "upper"}
    assert ids(db, "_Session", probe_marks.probe_match("_Session", "CutoverProbe")) == {"s-probe"}
    assert ids(db, "_SCHEMA", probe_marks.probe_match("_SCHEMA", "CutoverProbe")) == {"CutoverProbe"}
    assert probe_marks.probe_match("GameScore", "CutoverProbe") == {}


def test_the_exclusion_is_the_complement(db: Any) -> None:
    for cls, every in (("_User", len(USERS)), ("_Session", len(SESSIONS)), ("_SCHEMA", 3)):
        left = ids(db, cls, probe_marks.exclusion(cls, "CutoverProbe"))
        assert len(left) == every - len(ids(db, cls, probe_marks.probe_match(cls, "CutoverProbe")))
    assert ids(db, "_User", probe_marks.exclusion("_User", "CutoverProbe")) == {
        "prefix-only", "marker-only", "no-run-id", "app"}
    assert probe_marks.exclusion("GameScore", "CutoverProbe") == {}


def test_answers_as_rest_returns_them_are_judged_alike() -> None:
    assert probe_marks.is_probe_user({"username": PROBE_NAME, "email": probe_marks.email(PROBE_NAME)})
    assert not probe_marks.is_probe_user({"username": PROBE_NAME, "email": "ana@example.org"})
    assert not probe_marks.is_probe_user({"username": PROBE_NAME})
    marker = {probe_marks.RUN_FIELD: RUN, probe_marks.AT_FIELD: {"__type": "Date", "iso": "2026-11-30T00:00:00Z"}}
    assert probe_marks.is_probe_object(marker)
    assert not probe_marks.is_probe_object({probe_marks.RUN_FIELD: RUN})
    assert not probe_marks.is_probe_object({**marker, probe_marks.RUN_FIELD: "fuzz"})


def test_the_probe_class_and_its_relation_tables_are_reserved() -> None:
    reserved = ["CutoverProbe", "_Join:tRelation:CutoverProbe", "_Join:x:CutoverProbe"]
    app = ["GameScore", "_Join:members:Team", "_Join:CutoverProbe:Team", "CutoverProbeX", "_User"]
    assert [n for n in reserved + app if probe_marks.is_probe_collection(n, "CutoverProbe")] == reserved


def test_a_run_id_carries_the_time_the_run_began() -> None:
    # Read against clock readings taken around its creation: a run may straddle midnight.
    before = datetime.now(UTC).replace(microsecond=0)
    run = new_run_id()
    after = datetime.now(UTC)
    began = datetime.strptime(run.split("-")[0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert probe_marks.is_run_id(run) and before <= began <= after
    assert not probe_marks.is_run_id("20261125T230718Z") and not probe_marks.is_run_id(None)


def test_partitions_and_the_data_plan_leave_probes_out(db: Any) -> None:
    parts = partitions(db, "_User", len(USERS), 2, 60, probe_marks.exclusion("_User", "CutoverProbe"))
    seen = sorted(d["_id"] for p in parts for d in db["_User"].find(p.filter()))
    assert len(parts) > 1 and seen == sorted(ids(db, "_User", probe_marks.exclusion("_User", "CutoverProbe")))

    target = Target(name="t", source=Source(uri="mongodb://src/app"), database=Database(uri="mongodb://db/app"),
                    probe_class="CutoverProbe")
    data = Session(target).data
    names = ["_User", "CutoverProbe", "_Join:tRelation:CutoverProbe", "GameScore", "GameScore"]
    assert data.without_probes(names) == ["GameScore", "_User"]
    assert data.probe_exclusion("_SCHEMA") == {"$nor": [{"_id": "CutoverProbe"}]}
