"""DB-08's documents half over the wire (mongoeco, or CUTOVER_TEST_MONGODB_URI): the server counts the values
whose type the schema does not accept, names the first `_id`s, and sends nothing but allowlisted reads."""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pymongo
import pytest
from bson import Binary, Decimal128, Int64, ObjectId
from pymongo import monitoring

from cutover.data import field_types
from cutover.data.commands import ALLOWED
from cutover.data.stored_types import misfit_pipeline, stored_types

pytestmark = pytest.mark.sandbox
FIELDS = {"score": "number", "name": "string", "avatar": "file", "cheat": "boolean", "at": "date",
          "stats": "object", "tags": "array", "loc": "geopoint", "blob": "bytes", "area": "polygon",
          "player": "*Player", "likes": "relation<_User>", "bad.name": "string"}
POLYGON = {"type": "Polygon", "coordinates": [[[0, 0], [0, 1], [1, 1], [0, 0]]]}
GOOD = {"score": Int64(3), "name": "Mario", "avatar": "abc_avatar.png", "cheat": False, "at": datetime(2024, 1, 1),
        "stats": {"k": 1}, "tags": ["a"], "loc": [2.35, 48.85], "blob": Binary(b"\x01"), "area": POLYGON,
        "_p_player": "Player$p1", "_rperm": ["*"], "undeclared": ObjectId()}


@pytest.fixture(scope="module")
def db(wire: Any) -> Iterator[Any]:
    database = wire[f"types_{uuid.uuid4().hex[:8]}"]
    docs = [{"_id": f"ok{i:03d}", **GOOD, "score": [1, 2.5, Int64(4)][i % 3]} for i in range(30)]
    docs += [{"_id": "nulls", "score": None, "name": None, "_p_player": None},
             {"_id": "s1", **GOOD, "score": "12"}, {"_id": "s2", **GOOD, "score": "13"},
             {"_id": "d1", **GOOD, "score": Decimal128("1.5"), "name": 7},
             {"_id": "p1", **GOOD, "_p_player": "Other$o1"}, {"_id": "p2", **GOOD, "player": {"objectId": "x"}},
             {"_id": "p3", **GOOD, "_p_player": "L" * 60},
             {"_id": "g1", **GOOD, "loc": {"__type": "GeoPoint", "latitude": 1, "longitude": 2}},
             {"_id": "probe", **GOOD, "score": "probe", "cutoverRun": "x"}]
    database["GameScore"].insert_many(docs)
    yield database
    wire.drop_database(database.name)


def _found(db: Any, **options: Any) -> dict[tuple[str, str], tuple[str, ...]]:
    result = stored_types(db, "GameScore", FIELDS, {"cutoverRun": {"$exists": False}}, 38, **options)
    return {(m.key, m.found): m.ids for m in result.misfits}


def test_every_misfit_is_counted_and_named_and_nothing_else(db: Any) -> None:
    result = stored_types(db, "GameScore", FIELDS, {"cutoverRun": {"$exists": False}}, 39)
    assert {(m.key, m.found, m.expected, m.count): m.ids for m in result.misfits} == {
        ("_p_player", "*Other or a string naming no class (\"" + "L" * 36 + "...)", "*Player", 2): ("p1", "p3"),
        ("loc", "object", "geopoint", 1): ("g1",),
        ("name", "number", "string", 1): ("d1",),
        ("player", "object", "*Player", 1): ("p2",),
        ("score", "BSON decimal", "number", 1): ("d1",),
        ("score", "string", "number", 2): ("s1", "s2"),
    }
    assert result.unchecked == ("bad.name",) and "likes" not in result.fields and not result.sampled
    text = "; ".join(m.describe() for m in result.misfits)
    assert "score: 2 documents hold string in score, _SCHEMA says number: _id s1, s2" in text
    assert "player: 1 document holds object in player, _SCHEMA says *Player (a pointer is kept under _p_player)" \
        in text


def test_the_listing_is_capped_and_the_count_is_not(db: Any) -> None:
    result = stored_types(db, "GameScore", FIELDS, {"cutoverRun": {"$exists": False}}, 38, cap=1)
    score = next(m for m in result.misfits if m.found == "string")
    assert score.count == 2 and len(score.ids) == 1 and "(first 1)" in score.describe()


def test_a_sample_is_judged_the_same_way(db: Any) -> None:
    result = stored_types(db, "GameScore", FIELDS, {"cutoverRun": {"$exists": False}}, 38, sample=1000)
    assert result.sampled and {(m.key, m.count) for m in result.misfits} >= {("score", 2), ("_p_player", 2)}
    clean = stored_types(db, "GameScore", {"cheat": "boolean"}, {}, 38, sample=5)
    assert clean.ok


def test_a_clean_class_passes_and_the_probe_filter_holds(db: Any) -> None:
    fields = {k: v for k, v in FIELDS.items() if k in ("cheat", "at", "stats", "tags", "blob", "area", "avatar")}
    assert stored_types(db, "GameScore", fields, {}, 38).ok
    assert ("score", "string") in _found(db) and "probe" not in _found(db)[("score", "string")]


def test_only_allowlisted_reads_with_a_time_limit_are_sent(db: Any) -> None:
    seen: list[tuple[str, dict[str, Any]]] = []

    class Listener(monitoring.CommandListener):
        def started(self, event: monitoring.CommandStartedEvent) -> None:
            seen.append((event.command_name.lower(), dict(event.command)))

        def succeeded(self, event: monitoring.CommandSucceededEvent) -> None: ...

        def failed(self, event: monitoring.CommandFailedEvent) -> None: ...

    # the wire fixture's own URI (a real server's credentials, TLS, directConnection), else the stand-in's address
    uri = os.environ.get("CUTOVER_TEST_MONGODB_URI") or "mongodb://{}:{}/".format(*db.client.address)
    client: Any = pymongo.MongoClient(uri, event_listeners=[Listener()])
    try:
        stored_types(client[db.name], "GameScore", FIELDS, {}, 38, budget_s=30)
    finally:
        client.close()
    names = {name for name, _ in seen}
    assert names <= set(ALLOWED) and {"aggregate", "find"} <= names
    assert all("maxTimeMS" in command for name, command in seen if name in ("aggregate", "find"))


def test_the_pipeline_keeps_the_server_s_work_on_the_server() -> None:
    pipeline = misfit_pipeline({"score": "number"}, {"x": 1}, 10)
    assert [next(iter(stage)) for stage in pipeline] == ["$match", "$sample", "$project", "$unwind", "$group"]
    assert field_types.accepted("number") == ["null", "missing", "double", "int", "long"]
