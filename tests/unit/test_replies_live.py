"""The corpus's live counterpart: the same readers against a real MongoDB (CUTOVER_TEST_MONGODB_URI), and the real
server's replies against the corpus's fixtures of its release (tests/fixtures/mongo_replies). CI runs it on 4.4
and 8.0, standalone and single-node replica set (.github/workflows/acceptance.yml, job server-replies); without the
variable the module is skipped, saying so. It writes only to a database of its own, dropped at the end."""
from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pymongo
import pytest

from cutover.data import explain, health, indexes, inventory, longkeys, queries
from cutover.data.replies import dig, release
from cutover.errors import CouldNotVerify
from cutover.model import Query
from cutover.security.privileges import app_user_privileges, privilege_problems, privileges
from tests.reply_corpus import RELEASES, one

URI = os.environ.get("CUTOVER_TEST_MONGODB_URI", "")
pytestmark = pytest.mark.skipif(not URI, reason="needs a real MongoDB: set CUTOVER_TEST_MONGODB_URI "
                                                "(README: the suite's own tests against a real server)")
CI = {"locale": "en_US", "strength": 2}
PARSE = {"sparse": True, "background": True}
# the createIndex calls behind the corpus's listIndexes fixtures (Parse Server's own, then an app's)
INDEXES: dict[str, list[tuple[list[tuple[str, Any]], dict[str, Any]]]] = {
    "_User": [([("username", 1)], {"name": "username_1", "unique": True, **PARSE}),
              ([("email", 1)], {"name": "email_1", "unique": True, **PARSE}),
              ([("username", 1)], {"name": "case_insensitive_username", "collation": CI, **PARSE}),
              ([("email", 1)], {"name": "case_insensitive_email", "collation": CI, **PARSE}),
              ([("_email_verify_token", 1)], {"name": "_email_verify_token", **PARSE}),
              ([("_perishable_token", 1)], {"name": "_perishable_token", **PARSE})],
    "_Idempotency": [([("reqId", 1)], {"name": "reqId_1", "unique": True, **PARSE}),
                     ([("expire", 1)], {"name": "ttl", "expireAfterSeconds": 0, **PARSE})],
    "GameScore": [([("playerName", 1), ("score", -1)], {"name": "player_score", "background": True}),
                  ([("score", -1)], {"name": "cheaters_by_score",
                                     "partialFilterExpression": {"cheatMode": True, "score": {"$gt": 1000}}}),
                  ([("playerName", "hashed")], {"name": "playerName_hashed"}),
                  ([("title", "text"), ("tags", "text")], {"name": "title_text", "weights": {"title": 10, "tags": 1}}),
                  ([("location", "2dsphere")], {"name": "location_2dsphere"})],
    "Activity": [([("payload.$**", 1)], {"name": "payload.$**_1"}),
                 ([("$**", 1)], {"name": "all_but_blob", "wildcardProjection": {"blob": 0}})],
}
FIXTURES = {"_User": "listIndexes_user", "_Idempotency": "listIndexes_idempotency",
            "GameScore": "listIndexes_gamescore", "Activity": "listIndexes_activity", "Event": "listIndexes_event"}
STABLE_PLANS = ("4.4", "5.0", "8.0")   # 6.0.18+ and 7.0.17+ turned the slot-based engine off: patch-dependent


@pytest.fixture(scope="module")
def db() -> Iterator[Any]:
    client: Any = pymongo.MongoClient(URI, serverSelectionTimeoutMS=5000)
    database = client[f"cutover_replies_{secrets.token_hex(3)}"]
    try:
        seed(database, server_release(database))
        yield database
    finally:
        client.drop_database(database.name)
        client.close()


def server_release(db: Any) -> tuple[int, int]:
    return release(str(db.client.admin.command("buildInfo")["version"]))


def corpus_release(db: Any) -> str:
    """The corpus release this server answers like: the newest one not newer than it."""
    have = server_release(db)
    return max((r for r in RELEASES if release(r) <= have), key=release, default=RELEASES[0])


def seed(db: Any, have: tuple[int, int]) -> None:
    for cls, specs in INDEXES.items():
        for key, options in specs:
            db[cls].create_index(key, **options)
    db["_SCHEMA"].insert_one({"_id": "GameScore", "playerName": "string"})
    db.GameScore.insert_many([{"_id": f"g{i}", "playerName": f"p{i % 7}", "score": i, "cheatMode": i % 2 == 0,
                               "title": "t", "location": {"type": "Point", "coordinates": [0, 0]}} for i in range(50)])
    db.create_collection("AuditLog", capped=True, size=1048576, max=1000)
    db.create_collection("Invoice", validator={"$jsonSchema": {"bsonType": "object", "required": ["total"],
                                                               "properties": {"total": {"bsonType": "number",
                                                                                        "minimum": 0}}}},
                         validationLevel="strict", validationAction="error")
    db.create_collection("TopScores", viewOn="GameScore",
                         pipeline=[{"$match": {"cheatMode": False}}, {"$sort": {"score": -1}}, {"$limit": 100}])
    if have >= (5, 0):
        db.create_collection("Metrics", timeseries={"timeField": "t", "metaField": "m", "granularity": "seconds"},
                             expireAfterSeconds=604800)
    if have >= (5, 3):
        db.create_collection("Event", clusteredIndex={"key": {"_id": 1}, "unique": True})


def test_indexes_as_the_server_lists_them_are_the_corpus_of_its_release(db: Any) -> None:
    fixture_release = corpus_release(db)
    for cls, name in FIXTURES.items():
        if cls not in db.list_collection_names():
            continue
        live = [spec.as_fact() for spec in indexes.list_indexes(db, cls)]
        assert live == one(fixture_release, name).expect["indexes"], cls


def test_an_mlab_era_source_agrees_with_this_server_as_target(db: Any) -> None:
    for cls in ("_User", "_Idempotency", "GameScore"):
        old = one("3.6", FIXTURES[cls])
        source = [indexes.normalize(spec, old.server) for spec in old.batch()]
        result = indexes.compare(cls, source, indexes.list_indexes(db, cls))
        assert (result.missing, result.different, result.extra) == ((), (), ()), cls


def test_collections_as_the_server_lists_them_are_the_corpus_of_its_release(db: Any) -> None:
    expected = one(corpus_release(db), "listCollections").expect["collections"]
    live = {name: {"kind": info.kind, "options": info.compared_options}
            for name, info in inventory.collections(db).items()}
    assert {name: live[name] for name in expected if name in live} == {
        name: want for name, want in expected.items() if name in live}
    assert {"AuditLog", "Invoice", "TopScores", "_SCHEMA", "GameScore"} <= set(live)


def test_explain_of_a_find_a_count_and_a_hinted_count(db: Any) -> None:
    def plan(command: dict[str, Any]) -> explain.Plan:
        return explain.read(db.command("explain", command, verbosity="queryPlanner"))
    assert plan({"find": "GameScore", "filter": {"playerName": "p1"}, "sort": {"score": -1}}).covered
    count = plan({"count": "GameScore", "query": {"cheatMode": True}})
    assert "COLLSCAN" in count.stages and not count.covered
    hinted = plan({"count": "GameScore", "query": {}, "hint": "player_score"})
    assert hinted.covered and hinted.indexes == ("player_score",)
    assert queries.explain_query(db, Query(cls="GameScore", where={"playerName": "p1"})).method == "explain"


def test_db04_hinted_counts_read_the_hinted_index(db: Any) -> None:
    assert longkeys.hint_limit(db, "GameScore") is None
    counts = {c.index: (c.expected, c.indexed) for c in longkeys.index_completeness(
        db, "GameScore", indexes.list_indexes(db, "GameScore"))}
    assert counts["player_score"] == (50, 50) and counts["cheaters_by_score"] == (0, 0)


def test_explain_shapes_are_the_corpus_of_its_release(db: Any) -> None:
    fixture_release = corpus_release(db)
    if fixture_release not in STABLE_PLANS:
        pytest.skip(f"not applicable: {fixture_release} plans depend on the patch release (slot-based engine)")
    live = db.command("explain", {"aggregate": "GameScore", "pipeline": longkeys.HINTED_COUNT, "cursor": {},
                                  "hint": {"_id": 1}}, verbosity="queryPlanner")
    assert ("stages" in live) == ("stages" in one(fixture_release, "explain_aggregate").reply())
    if fixture_release == "8.0":
        express = explain.read(db.command("explain", {"find": "GameScore", "filter": {"_id": "g1"}},
                                          verbosity="queryPlanner"))
        assert express.stages == tuple(one("8.0", "explain_find_express").expect["stages"])


def test_server_status_has_the_shape_of_the_corpus_of_its_release(db: Any) -> None:
    status = db.client.admin.command("serverStatus")
    figures = {name: read(status) for name, read in (("lock_queue", health.lock_queue), ("uptime", health.uptime_ms),
                                                     ("admission", health.admission_queue),
                                                     ("cpu", health.cpu_time_us))}
    assert figures["lock_queue"] is not None and figures["uptime"] is not None
    fixture = one(corpus_release(db), "serverStatus_standalone")
    if release(fixture.provenance["server"]) != server_release(db):
        pytest.skip(f"not applicable: the corpus has no serverStatus of {server_release(db)}")
    for path in ("globalLock.currentQueue", "queues.execution", "wiredTiger.concurrentTransactions"):
        assert (dig(status, path) is None) == (dig(fixture.reply(), path) is None), path
    assert (figures["admission"] is None) == (fixture.expect["admission_queue"] is None)


def test_host_info_hello_and_replication(db: Any) -> None:
    admin = db.client.admin
    assert health.cores(admin.command("hostInfo")) >= 1
    topo = health.topology_of(admin.command("hello"))
    assert topo.writable_primary and topo.kind in ("standalone", "replica set")
    if topo.kind == "replica set":
        status = admin.command("replSetGetStatus")
        assert all(isinstance(m["optimeDate"], datetime) for m in status["members"] if m["stateStr"] != "ARBITER")
        assert isinstance(health.lag_per_secondary(status, "live"), dict)


def test_privileges_and_storage(db: Any) -> None:
    facts = privileges(db)
    assert facts.database == db.name and all("@" in role for role in facts.roles)
    assert health.storage_used(db) > 0


def test_the_apps_own_user_is_judged_from_the_real_usersinfo(db: Any) -> None:
    """Two users of this test's own database: one holding root through a custom role, one readWrite only;
    usersInfo's granted and inherited roles give SEC-02's verdict on each (both are dropped again)."""
    role, admin = f"parseApp{secrets.token_hex(2)}", db.client.admin   # only a role of admin may inherit root
    admin.command("createRole", role, privileges=[], roles=[{"role": "root", "db": "admin"}])
    db.command("createUser", "broad", pwd=secrets.token_hex(8), roles=[{"role": role, "db": "admin"}])
    db.command("createUser", "narrow", pwd=secrets.token_hex(8), roles=[{"role": "readWrite", "db": db.name}])
    try:
        broad = app_user_privileges(db, "broad", db.name)
        assert "root@admin" in broad.roles and privilege_problems(broad, production=True)[0].startswith(
            f"the user broad@{db.name} holds root@admin")
        assert privilege_problems(app_user_privileges(db, "narrow", db.name), production=True) in (
            [], ["access control is off: the server answers without any authenticated user"])
        with pytest.raises(CouldNotVerify, match="no such user"):
            app_user_privileges(db, "nobody", db.name)
    finally:
        db.command("dropAllUsersFromDatabase")
        admin.command("dropRole", role)
