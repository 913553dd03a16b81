"""Each plantable defect changes the migrated target exactly the way its Planted record says, and only that.

The source is seeded once over the wire (the sandbox's mongoeco server, or CUTOVER_TEST_MONGODB_URI) with
files in a real moto_server; every test migrates a fresh target, plants one defect, and compares the whole
target (collections, documents byte by byte, normalized indexes, S3 objects, GridFS chunks) to the source.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import bson
import pytest
from bson.raw_bson import RawBSONDocument

from cutover.errors import SandboxError
from cutover.sandbox.migrate import copy_bucket, copy_database, copy_gridfs, normalized_indexes, raw
from cutover.sandbox.seed import OLD_SDKS, seed_source
from cutover_testing import rest_defects  # noqa: F401  (registers the REST-source defects: the whole catalogue)
from cutover_testing.defects import DEFECTS, EXTRA_COLLECTION, EXTRA_ID, GHOST_CLASS, Handles, Planted

pytestmark = pytest.mark.sandbox
SOURCE_BUCKET = "defects-source"
Change = tuple[str, ...]


@pytest.fixture(scope="module")
def source(wire: Any, s3: Any) -> Iterator[tuple[Any, Any]]:
    tag = uuid.uuid4().hex[:8]
    db, files = wire[f"def_{tag}_src"], wire[f"def_{tag}_fsrc"]
    seed_source(db, s3, SOURCE_BUCKET, gridfs_db=files, scale=300)
    yield db, files
    wire.drop_database(db.name)
    wire.drop_database(files.name)


@pytest.fixture()
def handles(wire: Any, s3: Any, source: tuple[Any, Any]) -> Iterator[Handles]:
    """A freshly migrated target."""
    tag = uuid.uuid4().hex[:8]
    target, files = wire[f"def_{tag}_dst"], wire[f"def_{tag}_fdst"]
    copy_database(source[0], target)
    copy_gridfs(source[1], files)
    copy_bucket(s3, SOURCE_BUCKET, s3, f"defects-{tag}")
    yield Handles(source[0], target, s3, SOURCE_BUCKET, f"defects-{tag}", files)
    wire.drop_database(target.name)
    wire.drop_database(files.name)


def _documents(db: Any, name: str) -> dict[Any, RawBSONDocument]:
    return {d["_id"]: d for d in raw(db[name]).find()}


def _field_changes(name: str, src: RawBSONDocument, dst: RawBSONDocument) -> set[Change]:
    """Top-level fields whose BSON differs (type-aware: a Long and a Double of the same value differ)."""
    fields = set(src.keys()) | set(dst.keys())
    return {("doc-changed", name, str(src["_id"]), f) for f in fields
            if f not in src or f not in dst or bson.encode({f: src[f]}) != bson.encode({f: dst[f]})}


def _database_changes(src: Any, dst: Any) -> set[Change]:
    src_names, dst_names = set(src.list_collection_names()), set(dst.list_collection_names())
    changes: set[Change] = {("coll-missing", n) for n in src_names - dst_names}
    changes |= {("coll-extra", n) for n in dst_names - src_names}
    for name in src_names & dst_names:
        a, b = _documents(src, name), _documents(dst, name)
        changes |= {("doc-missing", name, str(i)) for i in a.keys() - b.keys()}
        changes |= {("doc-extra", name, str(i)) for i in b.keys() - a.keys()}
        for i in a.keys() & b.keys():
            if a[i].raw != b[i].raw:
                changes |= _field_changes(name, a[i], b[i])
        ia, ib = normalized_indexes(src[name]), normalized_indexes(dst[name])
        changes |= {("index-missing", name, n) for n in ia.keys() - ib.keys()}
        changes |= {("index-extra", name, n) for n in ib.keys() - ia.keys()}
        changes |= {("index-changed", name, n) for n in ia.keys() & ib.keys() if ia[n] != ib[n]}
    return changes


def _bucket(s3: Any, name: str) -> dict[str, tuple[bytes, str]]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=name)
    return {o["Key"]: _object(s3, name, o["Key"]) for page in pages for o in page.get("Contents", [])}


def _object(s3: Any, bucket: str, key: str) -> tuple[bytes, str]:
    answer = s3.get_object(Bucket=bucket, Key=key)
    return answer["Body"].read(), answer.get("ContentType", "")


def _chunk_data(db: Any) -> dict[tuple[str, str], bytes]:
    names = {f["_id"]: f["filename"] for f in db["fs.files"].find()}
    return {(names[c["files_id"]], str(c["n"])): bytes(c["data"]) for c in db["fs.chunks"].find({})}


def _file_changes(h: Handles, source_files: Any) -> set[Change]:
    a, b = _bucket(h.s3, h.source_bucket), _bucket(h.s3, h.target_bucket)
    changes: set[Change] = {("s3-missing", k) for k in a.keys() - b.keys()}
    changes |= {("s3-extra", k) for k in b.keys() - a.keys()}
    changes |= {("s3-changed", k) for k in a.keys() & b.keys() if a[k][0] != b[k][0]}
    changes |= {("s3-type-changed", k) for k in a.keys() & b.keys() if a[k][1] != b[k][1]}
    assert h.gridfs_db is not None
    src, dst = _chunk_data(source_files), _chunk_data(h.gridfs_db)
    changes |= {("chunk-missing", *c) for c in src.keys() - dst.keys()}
    changes |= {("chunk-changed", *c) for c in src.keys() & dst.keys() if src[c] != dst[c]}
    return changes


def everything_changed(h: Handles, source_files: Any) -> set[Change]:
    return _database_changes(h.source_db, h.target_db) | _file_changes(h, source_files)


def _docs(kind: str, p: Planted) -> set[Change]:
    return {(kind, str(p.collection), i) for i in p.object_ids}


def _fields(p: Planted) -> set[Change]:
    return {("doc-changed", str(p.collection), i, str(p.field)) for i in p.object_ids}


EXPECTED: dict[str, Callable[[Planted], set[Change]]] = {
    "missing_document": lambda p: _docs("doc-missing", p),
    "extra_document": lambda p: _docs("doc-extra", p),
    "changed_field_type": _fields,
    "changed_value": _fields,
    "long_index_value": _fields,
    "legacy_tfss_reference": _fields,
    "old_sdk_share": _fields,
    "dropped_index": lambda p: {("index-missing", str(p.collection), str(p.index))},
    "dropped_parse_index": lambda p: {("index-missing", str(p.collection), str(p.index))},
    "index_other_collation": lambda p: {("index-changed", str(p.collection), str(p.index))},
    "index_other_ttl": lambda p: {("index-changed", str(p.collection), str(p.index))},
    "schema_index_mismatch": lambda p: {("doc-changed", "_SCHEMA", str(p.collection), "_metadata")},
    "missing_collection": lambda p: {("coll-missing", str(p.collection))},
    "extra_collection": lambda p: {("coll-extra", str(p.collection))},
    "schema_class_without_collection": lambda p: {("doc-extra", "_SCHEMA", str(p.collection))},
    "schema_type_changed": lambda p: {("doc-changed", "_SCHEMA", str(p.collection), str(p.field))},
    "deleted_s3_object": lambda p: {("s3-missing", str(p.file))},
    "nested_file_missing": lambda p: {("s3-missing", str(p.file))},
    "truncated_s3_object": lambda p: {("s3-changed", str(p.file))},
    "same_size_corruption": lambda p: {("s3-changed", str(p.file))},
    "swapped_s3_objects": lambda p: {("s3-changed", str(p.file)), ("s3-changed", p.detail.split()[-1])},
    "content_type_changed": lambda p: {("s3-type-changed", str(p.file))},
    "corrupted_gridfs_chunk": lambda p: {("chunk-changed", str(p.file), "0")},
    "deleted_gridfs_chunk": lambda p: {("chunk-missing", str(p.file), p.detail.split("=")[1].split()[0])},
    "number_became_string": _fields,
    "lost_pointer": _fields,
    "lost_acl": lambda p: {("doc-changed", str(p.collection), i, f) for i in p.object_ids
                           for f in ("_rperm", "_wperm", "_acl")},
    "lost_relation_row": lambda p: {("doc-missing", str(p.collection), p.detail.split()[2])},
    "changed_clp": lambda p: {("doc-changed", "_SCHEMA", str(p.collection), "_metadata")},
}


def test_the_catalogue_has_every_defect_the_scenarios_need() -> None:
    assert set(DEFECTS) == set(EXPECTED)
    assert all(d.description and d.criteria and d.name == name for name, d in DEFECTS.items())


def test_a_clean_migration_changes_nothing(handles: Handles, source: tuple[Any, Any]) -> None:
    assert everything_changed(handles, source[1]) == set()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_defect_changes_exactly_what_it_names(name: str, handles: Handles, source: tuple[Any, Any]) -> None:
    planted = DEFECTS[name].plant(handles)
    assert planted.defect == name and planted.collection
    assert everything_changed(handles, source[1]) == EXPECTED[name](planted)


def test_changed_field_type_turns_a_long_into_a_double(handles: Handles) -> None:
    planted = DEFECTS["changed_field_type"].plant(handles)
    before, after = (db["GameScore"].find_one({"_id": planted.object_ids[0]}) or {}
                     for db in (handles.source_db, handles.target_db))
    assert isinstance(before["playtimeMs"], bson.Int64) and isinstance(after["playtimeMs"], float)


def test_long_index_value_exceeds_the_index_key_limit(handles: Handles) -> None:
    planted = DEFECTS["long_index_value"].plant(handles)
    doc = handles.target_db["GameScore"].find_one({"_id": planted.object_ids[0]}) or {}
    assert len(doc["playerName"].encode()) >= 1013 and planted.index == "playerName_1"


def test_old_sdk_share_reaches_twenty_percent(handles: Handles) -> None:
    DEFECTS["old_sdk_share"].plant(handles)
    installs = list(handles.target_db["_Installation"].find())
    old = [d for d in installs if d["parseVersion"] in OLD_SDKS[d["deviceType"]]]
    assert len(old) / len(installs) >= 0.20


def test_planted_names_are_stable_constants(handles: Handles) -> None:
    assert DEFECTS["extra_document"].plant(handles).object_ids == (EXTRA_ID,)
    assert DEFECTS["extra_collection"].plant(handles).collection == EXTRA_COLLECTION
    assert DEFECTS["schema_class_without_collection"].plant(handles).collection == GHOST_CLASS


def test_gridfs_defect_without_gridfs_says_so(handles: Handles) -> None:
    without = Handles(handles.source_db, handles.target_db, handles.s3, handles.source_bucket,
                      handles.target_bucket, None)
    with pytest.raises(SandboxError, match="without GridFS"):
        DEFECTS["deleted_gridfs_chunk"].plant(without)
