"""The sandbox's migration, done the way a real one is: same collections, same indexes, same bytes.

Per collection: create it with the source's options, create every index with the same key and options
(before loading, as a restore does), then copy the documents in insert_many batches as RawBSONDocument so
that every value keeps its exact BSON type and bytes (a Long stays a Long, field order is kept).
Files: every object of the source bucket is copied with its content type; GridFS is copied as its two
collections (fs.files, fs.chunks), which is what a dump/restore of a GridFS database does.
"""
from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import PyMongoError

from cutover.errors import SandboxError

COPY_THREADS = 8
GRIDFS_COLLECTIONS = ("fs.files", "fs.chunks")
# listIndexes noise that is not part of an index's definition (server-version and stand-in dependent)
_NOISE = ("ns", "v", "key", "name")


def copy_database(src_db: Database[Any], dst_db: Database[Any], batch: int = 5000) -> dict[str, int]:
    """Copy every collection (options, indexes, documents) of ``src_db`` into ``dst_db``; counts copied."""
    counts = {}
    for info in collection_infos(src_db):
        name = str(info["name"])
        try:
            counts[name] = copy_collection(src_db, dst_db, name, info, batch)
        except PyMongoError as exc:
            raise SandboxError(f"copying collection {name} to {dst_db.name} failed: {exc}") from exc
    return counts


def collection_infos(db: Database[Any]) -> list[dict[str, Any]]:
    """listCollections (name, type, options), by name, without `system.*`."""
    try:
        infos = [dict(info) for info in db.list_collections()]
    except NotImplementedError:  # mongomock: names only, and it supports no collection options anyway
        infos = [{"name": name} for name in db.list_collection_names()]
    kept = [i for i in infos if not str(i["name"]).startswith("system.")]
    return sorted(kept, key=lambda i: str(i["name"]))


def copy_collection(src_db: Database[Any], dst_db: Database[Any], name: str, info: Mapping[str, Any],
                    batch: int) -> int:
    """Options first, then indexes, then documents (views are recreated, not copied)."""
    if not prepare_collection(src_db, dst_db, name, info):
        return 0
    return copy_documents(src_db[name], dst_db[name], batch)


def prepare_collection(src_db: Database[Any], dst_db: Database[Any], name: str, info: Mapping[str, Any]) -> bool:
    """Create the collection with the source's options, then its indexes; False for a view (no indexes)."""
    dst_db.create_collection(name, **dict(info.get("options") or {}))
    if info.get("type") == "view":
        return False
    for keys, index_options in index_definitions(src_db[name]):
        dst_db[name].create_index(keys, **index_options)
    return True


def copy_documents(src: Collection[Any], dst: Collection[Any], batch: int) -> int:
    total = 0
    cursor = raw(src).find({}, batch_size=batch)
    while chunk := list(itertools.islice(cursor, batch)):
        raw(dst).insert_many(chunk, ordered=True, bypass_document_validation=True)
        total += len(chunk)
    return total


def raw(coll: Collection[Any]) -> Collection[Any]:
    """The collection reading and writing undecoded BSON, so that types and bytes survive the copy."""
    try:
        return coll.with_options(codec_options=CodecOptions(document_class=RawBSONDocument))
    except NotImplementedError:
        # in-process doubles (mongomock) have no raw codec; pymongo's default codec round-trips our types
        return coll


def normalize_index(spec: Mapping[str, Any]) -> dict[str, Any]:
    """An index's definition as options, without listIndexes noise (`ns`, `v`, mongoeco's `unique: false`)."""
    options = {k: v for k, v in spec.items() if k not in _NOISE}
    if options.get("unique") is False:
        del options["unique"]
    return options


def normalized_indexes(coll: Collection[Any]) -> dict[str, dict[str, Any]]:
    """name -> {"key": [(field, direction), ...], **options} for every index but `_id_`."""
    return {
        str(spec["name"]): {"key": list(dict(spec["key"]).items()), **normalize_index(spec)}
        for spec in coll.list_indexes() if spec["name"] != "_id_"
    }


def index_definitions(coll: Collection[Any]) -> Iterator[tuple[list[tuple[str, Any]], dict[str, Any]]]:
    """(keys, create_index options including the name) for every index but `_id_`."""
    for name, spec in normalized_indexes(coll).items():
        options = {k: v for k, v in spec.items() if k != "key"}
        yield spec["key"], {**options, "name": name}


def copy_gridfs(src_db: Database[Any], dst_db: Database[Any]) -> int:
    """Copy a GridFS store (fs.files and fs.chunks, with their indexes); returns the number of files.

    For GridFS kept in its own database. When it shares the app's database, copy_database already copied it.
    """
    present = set(src_db.list_collection_names())
    if "fs.files" not in present:
        return 0
    for name in GRIDFS_COLLECTIONS:
        if name in present:
            try:
                copy_collection(src_db, dst_db, name, {}, 5000)
            except PyMongoError as exc:
                raise SandboxError(f"copying GridFS {name} to {dst_db.name} failed: {exc}") from exc
    return int(dst_db["fs.files"].count_documents({}))


def copy_bucket(src_client: Any, src_bucket: str, dst_client: Any, dst_bucket: str) -> int:
    """Copy every object (bytes, content type, metadata) to another bucket; returns the number copied.

    Through one client (same endpoint and account) objects are copied server-side; across clients each
    object is downloaded and uploaded again.
    """
    try:
        ensure_bucket(dst_client, dst_bucket)
        keys = list(bucket_keys(src_client, src_bucket))
        with ThreadPoolExecutor(COPY_THREADS) as pool:
            list(pool.map(lambda k: _copy_object(src_client, src_bucket, dst_client, dst_bucket, k), keys))
    except (BotoCoreError, ClientError) as exc:
        raise SandboxError(f"copying bucket {src_bucket} to {dst_bucket} failed: {exc}") from exc
    return len(keys)


def bucket_keys(client: Any, bucket: str) -> Iterator[str]:
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            yield str(item["Key"])


def ensure_bucket(client: Any, bucket: str) -> None:
    if bucket not in {b["Name"] for b in client.list_buckets().get("Buckets", [])}:
        client.create_bucket(Bucket=bucket)


def _copy_object(src: Any, src_bucket: str, dst: Any, dst_bucket: str, key: str) -> None:
    if src is dst:  # one endpoint and account: a server-side copy, as `aws s3 sync` does between buckets
        dst.copy_object(Bucket=dst_bucket, Key=key, CopySource={"Bucket": src_bucket, "Key": key})
        return
    obj = src.get_object(Bucket=src_bucket, Key=key)
    body = obj["Body"].read()
    content_type = obj.get("ContentType", "binary/octet-stream")
    dst.put_object(Bucket=dst_bucket, Key=key, Body=body, ContentType=content_type,
                   Metadata=obj.get("Metadata", {}))
