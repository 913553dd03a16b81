"""The data library against a real wire server: mongoeco (two instances), or a real MongoDB when
CUTOVER_TEST_MONGODB_URI is set (two databases on it). Nothing here writes to a database it did not seed."""
from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymongo
import pytest
from bson import ObjectId
from bson.int64 import Int64

from cutover.data import content, health, indexes, inventory, longkeys
from cutover.data import queries as coverage
from cutover.model import Query
from cutover.sandbox.cache_dir import default_cache_dir
from cutover.sandbox.mongo_server import mongo_service, mongo_uri
from cutover.sandbox.process import free_port, start_all, stop_all

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.sandbox


@pytest.fixture(scope="module")
def dbs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Any]]:
    real = os.environ.get("CUTOVER_TEST_MONGODB_URI")
    services = []
    if real:
        client: Any = pymongo.MongoClient(real, serverSelectionTimeoutMS=5000)
        names = (f"wire_{secrets.token_hex(3)}_src", f"wire_{secrets.token_hex(3)}_dst")
        pair = (client[names[0]], client[names[1]])
    else:
        logs = tmp_path_factory.mktemp("wire")
        ports = (free_port(), free_port())
        services = [mongo_service(p, logs / f"mongo-{p}.log", default_cache_dir()) for p in ports]
        start_all(services)
        clients: list[Any] = [pymongo.MongoClient(mongo_uri(p), serverSelectionTimeoutMS=5000) for p in ports]
        pair = (clients[0].wire, clients[1].wire)
    try:
        for db in pair:
            seed(db)
        yield pair
    finally:
        if real:
            for db in pair:
                db.client.drop_database(db.name)
        stop_all(services)


def seed(db: Any) -> None:
    db.C.create_index("name", name="name_1")
    db.C.create_index([("a", 1), ("b", -1)], name="a_b")
    db.C.create_index("p", name="p_partial", partialFilterExpression={"flag": True})
    db.C.create_index("sp", name="sp_1", sparse=True)
    db.C.insert_many([{"_id": f"id{i:04d}", "name": f"n{i}", "a": i % 7, "b": "x", "p": "s" * 10,
                       "flag": i % 2 == 0, "n": Int64(i), "sub": {"k": i, "l": [1, 2]}} for i in range(300)])
    db.create_collection("V", viewOn="C", pipeline=[{"$match": {"flag": True}}])


def test_inventory_sees_collections_views_and_counts(dbs: tuple[Any, Any]) -> None:
    src, _ = dbs
    found = inventory.collections(src)
    assert found["V"].kind == "view" and found["V"].compared_options["viewOn"] == "C"
    assert inventory.data_collections(src) == ["C"] and inventory.exact_count(src, "C", 60) == 300


def test_equal_partitions_and_equal_server_hashes(dbs: tuple[Any, Any]) -> None:
    src, dst = dbs
    parts = content.partitions(src, "C", 300, 120, 60)
    assert [p.label for p in parts] == ["C:p1of3", "C:p2of3", "C:p3of3"]
    diffs = [content.compare_partition(src, dst, p, 10) for p in parts]
    assert all(d.ok for d in diffs) and sum(d.source_docs for d in diffs) == 300
    assert content.server_hash(src, "C") == content.server_hash(dst, "C") is not None


def test_partitions_of_mixed_id_types_cover_each_document_once_on_the_server(dbs: tuple[Any, Any]) -> None:
    """A MongoDB brackets `$gte` by type (the walk stays among the strings: 4 partitions); mongoeco orders every
    type in one line (the walk goes on into the ObjectIds: 6). Either way each document is in one partition."""
    src, _ = dbs
    ids = [*range(40), *(f"s{i:03d}" for i in range(150)), 7.5, Int64(90), *(ObjectId() for _ in range(60))]
    src.M.insert_many([{"_id": i} for i in ids])
    try:
        parts = content.partitions(src, "M", len(ids), 50, 60)
        seen = [d["_id"] for p in parts for d in src.M.find(p.filter())]
        assert len(parts) in (4, 6) and len(seen) == len(ids) and set(map(repr, seen)) == set(map(repr, ids))
    finally:
        src.M.drop()


def test_planted_differences_are_named(dbs: tuple[Any, Any]) -> None:
    src, dst = dbs
    dst.C.update_one({"_id": "id0005"}, {"$set": {"n": 5.0}})            # Int64 -> Double
    dst.C.delete_one({"_id": "id0200"})
    dst.C.insert_one({"_id": "id0150x", "name": "extra"})
    try:
        assert content.server_hash(src, "C") != content.server_hash(dst, "C")
        diffs = [content.compare_partition(src, dst, p, 10) for p in content.partitions(src, "C", 300, 120, 60)]
        assert [(d.missing, d.extra, d.content) for d in diffs] == [
            ((), (), (("id0005", "n"),)), (("id0200",), ("id0150x",), ()), ((), (), ())]
        sample = content.compare_sample(src, dst, "C", 300, 10)
        assert (sample.missing, sample.content, sample.extra) == (("id0200",), (("id0005", "n"),), ())
    finally:
        dst.C.update_one({"_id": "id0005"}, {"$set": {"n": Int64(5)}})
        dst.C.delete_one({"_id": "id0150x"})
        dst.C.insert_one(src.C.find_one({"_id": "id0200"}))
    assert content.server_hash(src, "C") == content.server_hash(dst, "C")


def test_long_keys_found_on_the_server_compound_and_partial(dbs: tuple[Any, Any]) -> None:
    _, dst = dbs
    specs = indexes.list_indexes(dst, "C")
    assert longkeys.long_keys(dst, "C", specs).total == 0
    dst.C.update_one({"_id": "id0001"}, {"$set": {"b": "y" * 1013}})    # a_b: 1013-byte string + a number
    dst.C.update_one({"_id": "id0002"}, {"$set": {"name": "z" * 1012}})  # 1012 bytes: under the limit
    dst.C.update_one({"_id": "id0003"}, {"$set": {"p": "q" * 2000}})     # flag False: not in p_partial
    dst.C.update_one({"_id": "id0004"}, {"$set": {"p": "q" * 2000}})     # flag True: in p_partial
    dst.C.update_one({"_id": "id0006"}, {"$set": {"name": ["short", "w" * 1100]}})   # multikey element
    dst.C.update_one({"_id": "id0007"}, {"$set": {"name": {"k": "v" * 1100}}})       # embedded document
    changed = ["id0001", "id0002", "id0003", "id0004", "id0006", "id0007"]
    try:
        found = longkeys.long_keys(dst, "C", specs)
        assert sorted((k.index, k.id) for k in found.found) == [
            ("a_b", "id0001"), ("name_1", "id0006"), ("name_1", "id0007"), ("p_partial", "id0004")]
        assert {k.id: k.bytes for k in found.found}["id0004"] == 2011
    finally:
        dst.C.update_many({"_id": {"$in": changed}}, {"$set": {"b": "x", "name": "restored", "p": "s" * 10}})


def test_index_completeness_counts_and_server_facts(dbs: tuple[Any, Any]) -> None:
    src, _ = dbs
    specs = indexes.list_indexes(src, "C")
    counts = {c.index: (c.expected, c.indexed) for c in longkeys.index_completeness(src, "C", specs)}
    assert counts["p_partial"] == (150, 150) and counts["name_1"] == (300, 300)
    facts = longkeys.server_facts(src)
    assert facts.version.startswith(("4", "5", "6", "7", "8"))
    real = bool(os.environ.get("CUTOVER_TEST_MONGODB_URI"))
    assert (longkeys.hint_limit(src, "C") is None) is real    # the stand-in says what it cannot answer
    assert facts.fail_index_key_too_long.startswith("unavailable") or real


def test_query_coverage_on_the_target(dbs: tuple[Any, Any]) -> None:
    _, dst = dbs
    served = coverage.explain_query(dst, Query(cls="C", where={"name": "n1"}))
    unserved = coverage.explain_query(dst, Query(cls="C", where={"flag": True}, sort={"n": 1}))
    assert served.covered and served.index == "name_1"
    assert not unserved.covered and unserved.suggestion == "{flag: 1, n: 1}"


def test_health_of_a_standalone(dbs: tuple[Any, Any]) -> None:
    _, dst = dbs
    topo = health.topology(dst)
    assert topo.writable_primary and topo.kind in ("standalone", "replica set")
    assert health.storage_used(dst) > 0
