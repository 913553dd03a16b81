"""The sandbox migration: the target ends up byte-equal to the source, indexes and files included.

Runs on mongomock (fast) and over the wire (the sandbox's mongoeco server, or CUTOVER_TEST_MONGODB_URI),
with a real moto_server for S3.
"""
from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import bson
import mongomock
import pytest
from bson.raw_bson import RawBSONDocument
from bson.son import SON

from cutover.sandbox.migrate import (
    copy_bucket,
    copy_database,
    copy_gridfs,
    normalize_index,
    normalized_indexes,
    raw,
)
from cutover.sandbox.s3_server import s3_client
from cutover.sandbox.seed import seed_source

pytestmark = pytest.mark.sandbox
SCALE = 300


def documents(db: Any, name: str) -> dict[Any, bytes]:
    """_id -> the document's BSON bytes, as stored (raw where the server allows it)."""
    docs = raw(db[name]).find()
    return {d["_id"]: bytes(d.raw) if isinstance(d, RawBSONDocument) else bson.encode(d) for d in docs}


def bucket(s3: Any, name: str) -> dict[str, tuple[bytes, str]]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=name)
    keys = [o["Key"] for page in pages for o in page.get("Contents", [])]
    objects = {k: s3.get_object(Bucket=name, Key=k) for k in keys}
    return {k: (o["Body"].read(), o["ContentType"]) for k, o in objects.items()}


def assert_same_database(src: Any, dst: Any) -> None:
    names = sorted(src.list_collection_names())
    assert sorted(dst.list_collection_names()) == names
    for name in names:
        assert documents(dst, name) == documents(src, name), name
        assert normalized_indexes(dst[name]) == normalized_indexes(src[name]), name


def test_normalize_index_drops_listindexes_noise_only() -> None:
    spec = SON([("v", 2), ("key", SON([("a", 1)])), ("name", "a_1"), ("ns", "db.c"), ("unique", False),
                ("sparse", True), ("collation", {"locale": "en_US", "strength": 2})])
    assert normalize_index(spec) == {"sparse": True, "collation": {"locale": "en_US", "strength": 2}}
    assert normalize_index({"key": {"a": 1}, "name": "a_1", "unique": True}) == {"unique": True}


def test_copy_on_mongomock_gives_an_equal_database(s3: Any) -> None:
    client: Any = mongomock.MongoClient()
    seed_source(client["src"], s3, "mig-mock-src", gridfs_db=client["fsrc"], scale=SCALE)
    counts = copy_database(client["src"], client["dst"], batch=100)
    assert counts == {n: client["src"][n].count_documents({}) for n in client["src"].list_collection_names()}
    assert_same_database(client["src"], client["dst"])
    assert copy_gridfs(client["fsrc"], client["fdst"]) == client["fsrc"]["fs.files"].count_documents({}) > 0
    assert_same_database(client["fsrc"], client["fdst"])


def test_copy_bucket_server_side_and_across_clients(s3: Any, moto: str) -> None:
    seed_source(mongomock.MongoClient()["x"], s3, "mig-files-src", scale=SCALE)
    source = bucket(s3, "mig-files-src")
    assert copy_bucket(s3, "mig-files-src", s3, "mig-files-same") == len(source) > 0
    assert copy_bucket(s3, "mig-files-src", s3_client(moto), "mig-files-other") == len(source)
    assert bucket(s3, "mig-files-same") == source == bucket(s3, "mig-files-other")


def test_copy_gridfs_without_gridfs_copies_nothing() -> None:
    client: Any = mongomock.MongoClient()
    client["a"]["x"].insert_one({"_id": 1})
    assert copy_gridfs(client["a"], client["b"]) == 0


@pytest.fixture()
def wire_dbs(wire: Any) -> Iterator[tuple[Any, Any, Any, Any]]:
    tag = uuid.uuid4().hex[:8]
    dbs = tuple(wire[f"mig_{tag}_{n}"] for n in ("src", "dst", "fsrc", "fdst"))
    yield dbs
    for db in dbs:
        wire.drop_database(db.name)


def test_copy_over_the_wire_is_byte_exact(wire_dbs: tuple[Any, Any, Any, Any], s3: Any) -> None:
    src, dst, fsrc, fdst = wire_dbs
    seed_source(src, s3, "mig-wire-src", gridfs_db=fsrc, scale=SCALE)
    copy_database(src, dst)
    copy_gridfs(fsrc, fdst)
    copy_bucket(s3, "mig-wire-src", s3, "mig-wire-dst")
    assert_same_database(src, dst)
    assert_same_database(fsrc, fdst)
    assert bucket(s3, "mig-wire-dst") == bucket(s3, "mig-wire-src")
    collation = {ix["name"]: ix for ix in dst["_User"].list_indexes()}["case_insensitive_email"]["collation"]
    assert collation["locale"] == "en_US" and collation["strength"] == 2


@pytest.mark.slow
def test_seed_and_migrate_the_default_scale_over_the_wire(
        wire_dbs: tuple[Any, Any, Any, Any], s3: Any) -> None:
    """The default sandbox (3,000 app objects): seed + migrate, timed; the copy must be exact."""
    src, dst, fsrc, fdst = wire_dbs
    started = time.monotonic()
    summary = seed_source(src, s3, "mig-default-src", gridfs_db=fsrc)
    seeded = time.monotonic()
    counts = copy_database(src, dst)
    copy_gridfs(fsrc, fdst)
    copy_bucket(s3, "mig-default-src", s3, "mig-default-dst")
    done = time.monotonic()
    print(f"seed {seeded - started:.1f} s, migrate {done - seeded:.1f} s, {sum(counts.values())} documents, "
          f"{len(summary.s3_files)} S3 files")
    assert counts == summary.counts
    assert_same_database(src, dst)
