"""Data scenarios: the clean sandbox passes every data criterion; each planted defect fails its own criterion,
naming the class and `_id` or index, and no other data criterion fails; a full data run writes nothing.

Defects that must also exist at the source (a long indexed value the source already held) get a private copy
of the source database, so the shared source stays untouched for the other scenarios.
"""
from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from typing import Any

import bson
import pytest

from cutover.model import Database, Query, Source, Target
from cutover.run.criteria import CRITERIA
from cutover.sandbox.migrate import copy_database
from cutover.sandbox.stack import SOURCE_BUCKET, Sandbox
from cutover_testing import rest_defects  # noqa: F401  (registers number_became_string)
from cutover_testing.defects import DEFECTS, Handles

DATA_TESTS = ("-k", "test_data or test_indexes or test_health")
MODULES = ("test_data", "test_indexes", "test_health")
Checks = Callable[..., Any]


def _data_only(target: Target) -> Target:
    """The data checks need no cloud functions; leaving them out keeps these scenarios about data."""
    return dataclasses.replace(target, cloud_functions=())


def _failures(result: Any) -> list[tuple[str, str, str]]:
    """(criterion, label, message) of every failed or errored data test."""
    return [(t["criterion"], t["label"], t.get("message", "")) for t in result.record["tests"]
            if t["outcome"] in ("failed", "error") and str(t["criterion"]).startswith("DB-")]


def _fork(sandbox: Sandbox, label: str) -> tuple[Target, Handles]:
    target = _data_only(sandbox.fork_target(label))
    handles = Handles(source_db=sandbox.db(sandbox.ep.source_uri), target_db=sandbox.db(target.database.uri),
                      s3=sandbox.s3, source_bucket=SOURCE_BUCKET, target_bucket=target.files.bucket if target.files
                      else "")
    return target, handles


def _private_source(sandbox: Sandbox, target: Target, label: str) -> tuple[Target, Any]:
    """A copy of the source database for this scenario only (dropped by the caller)."""
    client = sandbox.mongo(sandbox.ep.source_uri)
    db = client[f"src_{label}"]
    copy_database(sandbox.db(sandbox.ep.source_uri), db)
    uri = sandbox.ep.source_uri.replace(f"/{sandbox.db(sandbox.ep.source_uri).name}", f"/{db.name}", 1)
    return dataclasses.replace(target, source=Source(kind="mongodb", uri=uri)), db


def _assert_only(result: Any, criterion: str, *names: str) -> None:
    failures = _failures(result)
    assert failures, f"{criterion} did not fail:\n{result.output[-3000:]}"
    others = [f for f in failures if f[0] != criterion]
    assert not others, f"other criteria failed too: {others}"
    text = " ".join(message for _, _, message in failures)
    for name in names:
        assert name in text, f"{name!r} not named in the {criterion} failures: {failures}"


def test_clean_sandbox_passes_every_data_check(sandbox: Sandbox, run_checks: Checks) -> None:
    result = run_checks(_data_only(sandbox.target()), *DATA_TESTS)
    criteria = {t["criterion"] for t in result.record["tests"] if t["outcome"] == "passed"}
    assert {cid for cid, c in CRITERIA.items() if c.checks in MODULES} <= criteria, result.output[-3000:]
    assert not _failures(result), _failures(result)


def _state(db: Any) -> dict[str, str]:
    """Per collection: a hash of every document's bytes in `_id` order, of its indexes and options."""
    out = {}
    for info in db.list_collections():
        name = info["name"]
        digest = hashlib.sha256(bson.encode({"options": info.get("options", {})}))
        for spec in db[name].list_indexes():
            digest.update(bson.encode(dict(spec)))
        if info.get("type", "collection") == "collection" and "viewOn" not in info.get("options", {}):
            for doc in db[name].find({}).sort("_id", 1):
                digest.update(bson.encode(doc))
        out[name] = digest.hexdigest()
    return out


def test_a_full_data_run_writes_nothing(sandbox: Sandbox, run_checks: Checks) -> None:
    target, handles = _fork(sandbox, "readonly")
    before = (_state(handles.source_db), _state(handles.target_db))
    hashes = [db.command("dbHash")["md5"] for db in (handles.source_db, handles.target_db)]
    result = run_checks(dataclasses.replace(target, database=Database(
        uri=target.database.uri, storage_quota_bytes=10**12)), *DATA_TESTS)
    assert result.record["tests"] and not _failures(result)
    assert (_state(handles.source_db), _state(handles.target_db)) == before
    assert [db.command("dbHash")["md5"] for db in (handles.source_db, handles.target_db)] == hashes


# Defects planted together on one fork (their picks are distinct objects, classes or indexes), each named under
# each of its criteria; no data criterion outside the group's may fail. A missing and an extra GameScore would
# cancel out in DB-01's counts, so the extra one has its own fork. "documents" also proves DB-08 quiet where no
# Parse type changed (an Int64 that became a Double is still a number; a `_SCHEMA` class the source lacks is
# DB-07's, from a MongoDB source seen as one `_SCHEMA` document more by DB-01 and DB-02).
# "collections": a dropped relation collection and a leftover one are DB-07's, and their rows DB-01's and DB-02's;
# a `_SCHEMA` index entry without its index is DB-03's, and from a MongoDB source a changed document for DB-02.
GROUPS = {
    "documents": (("missing_document", ("DB-01", "DB-02")), ("changed_field_type", ("DB-02",)),
                  ("changed_value", ("DB-02",)), ("schema_class_without_collection", ("DB-02",))),
    "schema-types": (("schema_type_changed", ("DB-08", "DB-02")), ("number_became_string", ("DB-08", "DB-02"))),
    "extra-document": (("extra_document", ("DB-01",)),),
    "collections": (("missing_collection", ("DB-07", "DB-01", "DB-02")),
                    ("extra_collection", ("DB-07", "DB-01", "DB-02")),
                    ("schema_index_mismatch", ("DB-03", "DB-02"))),
    "indexes": (("dropped_index", ("DB-03",)), ("index_other_collation", ("DB-03",)),
                ("index_other_ttl", ("DB-03",)), ("dropped_parse_index", ("DB-03",))),
}


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_planted_defects_fail_their_criteria(sandbox: Sandbox, run_checks: Checks, group: str) -> None:
    target, handles = _fork(sandbox, group)
    planted = [(DEFECTS[defect].plant(handles), criteria) for defect, criteria in GROUPS[group]]
    failures = _failures(run_checks(target, *DATA_TESTS))
    allowed = {c for defect, _ in GROUPS[group] for c in DEFECTS[defect].criteria}
    assert {f[0] for f in failures} <= allowed, f"criteria beyond {sorted(allowed)} failed: {failures}"
    for p, criteria in planted:
        for criterion in criteria:
            text = " ".join(f[2] for f in failures if f[0] == criterion)
            names = _named(p, criterion)
            assert all(name in text for name in names), f"{p.defect}: {names} not all named under {criterion}: " \
                                                        f"{failures}"


def _named(planted: Any, criterion: str) -> list[str]:
    """DB-01 counts (class and numbers); DB-02 and DB-08 name each document and field; DB-03 names the index."""
    names = [planted.collection or ""]
    if criterion in ("DB-02", "DB-08"):
        names += [*planted.object_ids, *([planted.field] if planted.field else [])]
    if criterion == "DB-03" and planted.index:
        names.append(planted.index)
    return names


def test_long_index_values_fail_db04_only(sandbox: Sandbox, run_checks: Checks) -> None:
    """One GameScore with a 2,000-byte value under a single-field index (playerName_1) and under a compound one
    (player_score); the source already held them, as an old server with failIndexKeyTooLong off would."""
    target, handles = _fork(sandbox, "long_values")
    target, source_db = _private_source(sandbox, target, "long_values")
    try:
        doc = handles.target_db["GameScore"].find({}).sort("_id", 1).skip(3).limit(1).next()
        for db in (source_db, handles.target_db):
            # a pointer stays a pointer to a Player (DB-08 holds), only its key is too long
            db["GameScore"].update_one({"_id": doc["_id"]}, {"$set": {"playerName": "L" * 2000,
                                                                      "_p_player": "Player$" + "L" * 1993}})
        result = run_checks(target, *DATA_TESTS)
        _assert_only(result, "DB-04", "GameScore", doc["_id"], "playerName_1", "player_score")
    finally:
        source_db.client.drop_database(source_db.name)


def test_queries_without_an_index_fail_db05_only(sandbox: Sandbox, run_checks: Checks) -> None:
    """An unindexed filter and an unindexed sort, declared together: each named with its field."""
    queries = (Query(cls="GameScore", where={"comment": "x"}, name="GameScore by comment"),
               Query(cls="Post", where={}, sort={"title": 1}, name="Posts by title"))
    base = _data_only(sandbox.target())
    result = run_checks(dataclasses.replace(base, queries=(*base.queries, *queries)), *DATA_TESTS)
    _assert_only(result, "DB-05", "COLLSCAN")
    for query, named in zip(queries, ("comment", "title"), strict=True):
        text = " ".join(m for c, label, m in _failures(result) if query.name in label)
        assert query.cls in text and named in text and "COLLSCAN" in text, (query.name, _failures(result))


def test_storage_quota_too_small_fails_db06_only(sandbox: Sandbox, run_checks: Checks) -> None:
    base = _data_only(sandbox.target())
    result = run_checks(dataclasses.replace(base, database=dataclasses.replace(base.database,
                                                                               storage_quota_bytes=1000)),
                        *DATA_TESTS)
    _assert_only(result, "DB-06", "quota 1000 bytes")


def test_collection_defects_fail_db07_only(sandbox: Sandbox, run_checks: Checks) -> None:
    """An empty collection dropped and a view added on the target, both named."""
    target, handles = _fork(sandbox, "collections")
    handles.target_db.drop_collection("_Idempotency")
    handles.target_db.create_collection("TopScores", viewOn="GameScore", pipeline=[{"$sort": {"score": -1}}])
    _assert_only(run_checks(target, *DATA_TESTS), "DB-07", "_Idempotency", "TopScores")
