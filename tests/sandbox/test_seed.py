"""The seeded source app: Parse's storage shapes, indexes before data, files in S3 and GridFS, determinism.

Fast checks run on mongomock; the wire-level ones on the sandbox's mongoeco server (or the MongoDB named by
CUTOVER_TEST_MONGODB_URI) and a real moto_server over HTTP.
"""
from __future__ import annotations

import re
import uuid
import warnings
from collections.abc import Iterator
from typing import Any

import bson
import gridfs
import mongomock
import pytest
from bson import Int64

from cutover.errors import SandboxError
from cutover.sandbox import seed as seed_module
from cutover.sandbox.seed import (
    OLD_SDKS,
    PASSWORD,
    PASSWORD_HASH,
    Plan,
    SeedSummary,
    file_body,
    load,
    seed_source,
)

pytestmark = pytest.mark.sandbox
APP_CLASSES = ("GameScore", "Player", "Post", "AuditLog", "Document")
SCALE = 300


@pytest.fixture(scope="module")
def mock() -> mongomock.MongoClient:
    return mongomock.MongoClient()


@pytest.fixture(scope="module")
def seeded(mock: mongomock.MongoClient, s3: Any) -> SeedSummary:
    return seed_source(mock["src"], s3, "seed-mock", gridfs_db=mock["files"], scale=SCALE)


def test_counts_add_up_to_the_scale_and_match_the_database(seeded: SeedSummary, mock: Any) -> None:
    assert sum(seeded.counts[c] for c in APP_CLASSES) == SCALE
    assert {name: mock["src"][name].count_documents({}) for name in seeded.counts} == seeded.counts
    assert seeded.counts["_Idempotency"] == 0 and "_Idempotency" in mock["src"].list_collection_names()


def test_same_seed_same_bytes_other_seed_other_data(s3: Any) -> None:
    dbs: list[Any] = [mongomock.MongoClient()["x"] for _ in range(3)]
    for db, seed in zip(dbs, (7, 7, 8), strict=True):
        seed_source(db, s3, f"det-{seed}", scale=120, seed=seed)
    dumps = [[bson.encode(d) for d in db["GameScore"].find().sort("_id")] for db in dbs]
    assert dumps[0] == dumps[1]
    assert dumps[0] != dumps[2]


@pytest.mark.usefixtures("seeded")  # xdist may run this on a worker where no other test seeded
def test_game_score_is_stored_the_way_parse_stores_it(mock: Any) -> None:
    db = mock["src"]
    players = {d["_id"] for d in db["Player"].find({}, {"_id": 1})}
    scores = list(db["GameScore"].find())
    for doc in scores:
        lng, lat = doc["location"]
        assert -180 <= lng <= 180 and -90 <= lat <= 90
        cls, _, pid = doc["_p_player"].partition("$")
        assert cls == "Player" and pid in players
        assert isinstance(doc["playtimeMs"], Int64) and isinstance(doc["blob"], bytes)
        assert set(doc["_acl"]) == set(doc["_rperm"]) | set(doc["_wperm"])
    assert {type(d["score"]) for d in scores} == {int, float}
    with_avatar = [d for d in scores if "avatar" in d]
    assert with_avatar and all(re.fullmatch(r"[0-9a-f]{32}_avatar\.png", d["avatar"]) for d in with_avatar)
    nested = [f for d in scores for f in d.get("attachments", [])]
    assert nested and all(f["__type"] == "File" and f["url"].endswith("/" + f["name"]) for f in nested)


@pytest.mark.usefixtures("seeded")  # xdist may run this on a worker where no other test seeded
def test_schema_describes_every_class_with_real_indexes_and_a_closed_class(mock: Any) -> None:
    db = mock["src"]
    schema = {d["_id"]: d for d in db["_SCHEMA"].find()}
    classes = {n for n in db.list_collection_names() if not n.startswith(("_Join:", "_SCHEMA"))}
    assert set(schema) == classes
    assert schema["GameScore"]["player"] == "*Player" and schema["Post"]["likes"] == "relation<_User>"
    assert schema["GameScore"]["location"] == "geopoint" and schema["GameScore"]["avatar"] == "file"
    real = {ix["name"]: dict(ix["key"]) for ix in db["GameScore"].list_indexes()}
    assert schema["GameScore"]["_metadata"]["indexes"] == real
    clp = schema["AuditLog"]["_metadata"]["class_permissions"]
    assert all("*" not in clp[op] for op in ("find", "get", "count"))


@pytest.mark.usefixtures("seeded")  # xdist may run this on a worker where no other test seeded
def test_relations_live_in_join_collections(mock: Any) -> None:
    db = mock["src"]
    posts, users = ({d["_id"] for d in db[c].find({}, {"_id": 1})} for c in ("Post", "_User"))
    joins = list(db["_Join:likes:Post"].find())
    assert joins and all(j["owningId"] in posts and j["relatedId"] in users for j in joins)
    assert {j["owningId"] for j in db["_Join:users:_Role"].find()} <= {d["_id"] for d in db["_Role"].find()}


@pytest.mark.usefixtures("seeded")  # xdist may run this on a worker where no other test seeded
def test_old_sdks_are_about_three_percent(mock: Any) -> None:
    installs = list(mock["src"]["_Installation"].find())
    old = [d for d in installs if d["parseVersion"] in OLD_SDKS[d["deviceType"]]]
    assert 0.02 <= len(old) / len(installs) < 0.05


@pytest.mark.usefixtures("seeded")  # xdist may run this on a worker where no other test seeded
def test_no_indexed_value_reaches_the_index_key_limit(mock: Any) -> None:
    db = mock["src"]
    for coll in db.list_collection_names():
        fields = {f for ix in db[coll].list_indexes() for f in dict(ix["key"])}
        for doc in db[coll].find():
            sizes = [len(str(doc[f]).encode()) for f in fields if f in doc]
            assert max(sizes, default=0) < 1000, f"{coll} {doc['_id']}"


def test_the_password_hash_is_bcrypt_of_the_documented_password() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt as libcrypt
        assert libcrypt.crypt(PASSWORD, PASSWORD_HASH) == PASSWORD_HASH
        assert libcrypt.crypt("wrong", PASSWORD_HASH) != PASSWORD_HASH


def test_every_referenced_file_is_in_its_store(seeded: SeedSummary, mock: Any, s3: Any) -> None:
    db = mock["src"]
    referenced = {d["avatar"] for d in db["GameScore"].find({"avatar": {"$exists": True}})}
    referenced |= {f["name"] for d in db["GameScore"].find() for f in d.get("attachments", [])}
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket="seed-mock", MaxKeys=1000).get("Contents", [])}
    assert referenced == keys == set(seeded.s3_files)
    name = sorted(referenced)[0]
    assert s3.get_object(Bucket="seed-mock", Key=name)["Body"].read() == file_body(name) != b""
    scans = {d["scan"] for d in db["Document"].find()}
    assert scans == set(seeded.gridfs_files)


def test_a_multi_tenant_app_adds_small_classes_with_indexes_files_and_relations(s3: Any) -> None:
    """sandbox.classes (issue 31): N more classes of a few objects, stored as Parse stores them, some with an index,
    a File field whose files are in the store, a Relation; each declared in `_SCHEMA`."""
    db = mongomock.MongoClient()["wide"]
    summary = seed_source(db, s3, "seed-wide", scale=120, classes=150)
    names = sorted(n for n in summary.counts if n.startswith("Tenant"))
    assert len(names) == 150 and names[0] == "Tenant0001" and {summary.counts[n] for n in names} == {3}
    assert [n for n in names if "name_1" in db[n].index_information()] == ["Tenant0001", "Tenant0051", "Tenant0101"]
    logos = {d["logo"] for n in names for d in db[n].find({"logo": {"$exists": True}})}
    assert len(logos) == 6 and logos <= set(summary.s3_files)   # Tenant0002's and Tenant0102's, uploaded
    assert summary.counts["_Join:members:Tenant0003"] == 6 and "_Join:members:Tenant0103" in summary.counts
    schema = db["_SCHEMA"].find_one({"_id": "Tenant0051"})
    assert schema["seats"] == "number" and schema["_metadata"]["indexes"]["name_1"] == {"name": 1}
    assert db["_SCHEMA"].find_one({"_id": "Tenant0003"})["members"] == "relation<_User>"
    assert db["Tenant0002"].find_one()["_rperm"][0] == "*"


def test_a_tiny_scale_is_refused(s3: Any) -> None:
    with pytest.raises(SandboxError, match="at least 100"):
        seed_source(mongomock.MongoClient()["x"], s3, "tiny", scale=10)


class _Recorder:
    def __init__(self) -> None:
        self.batches: list[int] = []

    def insert_many(self, docs: list[dict[str, Any]], ordered: bool = True) -> None:
        self.batches.append(len(docs))


def test_loading_streams_in_bounded_batches() -> None:
    recorder = _Recorder()
    total = load({"c": recorder}, "c", ({"_id": i} for i in range(12_001)))  # type: ignore[arg-type]
    assert total == 12_001 and recorder.batches == [5000, 5000, 2001]


def test_a_million_objects_keep_files_bounded() -> None:
    plan = Plan.for_scale(1_000_000, 7, with_gridfs=False)
    files = sum(1 for _ in plan.s3_files())
    assert plan.players + plan.posts + plan.audit + plan.documents + plan.scores == 1_000_000
    carrying = seed_module.FILE_OBJECT_CAP
    assert files <= carrying * 3 + plan.documents


@pytest.fixture(scope="module")
def on_wire(wire: Any, s3: Any) -> Iterator[tuple[Any, Any, SeedSummary]]:
    name = f"seed_{uuid.uuid4().hex[:8]}"
    db, files = wire[name], wire[f"{name}_files"]
    try:
        yield db, files, seed_source(db, s3, "seed-wire", gridfs_db=files, scale=SCALE)
    finally:
        wire.drop_database(db.name)
        wire.drop_database(files.name)


def test_seed_over_the_wire_counts(on_wire: tuple[Any, Any, SeedSummary]) -> None:
    db, _, summary = on_wire
    assert {n: db[n].count_documents({}) for n in summary.counts} == summary.counts


def test_seed_over_the_wire_keeps_parse_index_options(on_wire: tuple[Any, Any, SeedSummary]) -> None:
    db, _, _ = on_wire
    indexes = {ix["name"]: ix for ix in db["_User"].list_indexes()}
    ci = indexes["case_insensitive_username"]
    assert ci["collation"]["locale"] == "en_US" and ci["collation"]["strength"] == 2 and ci["sparse"]
    assert indexes["username_1"]["unique"] and indexes["email_1"]["sparse"]
    assert {ix["name"]: ix for ix in db["_Idempotency"].list_indexes()}["ttl"]["expireAfterSeconds"] == 0
    partial = {ix["name"]: ix for ix in db["GameScore"].list_indexes()}["cheaters_by_score"]
    assert partial["partialFilterExpression"] == {"cheatMode": True}


def test_seed_over_the_wire_keeps_bson_types(on_wire: tuple[Any, Any, SeedSummary]) -> None:
    db, _, _ = on_wire
    doc = db["GameScore"].find_one(sort=[("_id", 1)])
    assert isinstance(doc["playtimeMs"], Int64) and isinstance(doc["blob"], bytes)
    assert doc["_created_at"].microsecond % 1000 == 0


def test_gridfs_files_read_back_through_a_gridfs_driver(on_wire: tuple[Any, Any, SeedSummary]) -> None:
    _, files, summary = on_wire
    bucket = gridfs.GridFSBucket(files)
    bodies = {name: bucket.open_download_stream_by_name(name).read() for name in summary.gridfs_files}
    assert len(bodies) == len(summary.gridfs_files) and all(bodies.values())
    assert len(bodies[summary.gridfs_files[1]]) > seed_module.GRIDFS_CHUNK  # spans several chunks
