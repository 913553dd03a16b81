"""The sandbox's load-and-copy pipeline: seed the source and migrate it to the target while it fills.

Order (see :mod:`cutover.sandbox.stack` for what runs beside it): the source gets every index, every
collection and _SCHEMA before any document; the target gets the source's options and indexes before any
document; then the source is loaded batch by batch and each batch is copied to the target as soon as it is
stored, read back from the source as raw BSON. The classes Parse Server's startup writes to
(``PARSE_INITIALISED``) are copied whole instead, once loaded. ``check_stopping`` raises when the sandbox
is being stopped, so a long load ends early.
"""
from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from cutover.errors import SandboxError
from cutover.sandbox.migrate import collection_infos, copy_bucket, copy_collection, prepare_collection, raw
from cutover.sandbox.s3_server import create_bucket
from cutover.sandbox.seed import Plan, create_indexes, index_map, schema_documents, upload_s3, write_gridfs

# Small enough that each Parse Server's startup commands, queued behind a batch on a single-threaded
# server, wait little; big enough that per-request costs stay small.
LOAD_BATCH = 100
# A loaded group is read back by position: mongoeco's skip walks the collection, so not too many groups.
COPY_GROUP = 500
COPY_BATCH = 5000
# What Parse Server's startup (performInitialization) writes to: indexes on the first three, index maps in
# _SCHEMA. Copied whole before the target Parse Server starts; every other class batch by batch.
PARSE_INITIALISED = ("_User", "_Role", "_Idempotency", "_SCHEMA")

StopCheck = Callable[[], None]


def prepare_source(db: Any, plan: Plan) -> tuple[tuple[str, str], ...]:
    """Before any document: every index, every collection, and _SCHEMA (which maps the indexes)."""
    indexes = create_indexes(db, plan.tenants)
    existing = set(db.list_collection_names())
    for name in [name for name, _ in plan.collections()] + ["_Idempotency"]:
        if name not in existing:
            db.create_collection(name)
    db["_SCHEMA"].insert_many(list(schema_documents(index_map(db, plan.tenants), plan.tenants)))
    return indexes


def prepare_target(src: Any, dst: Any, skip: tuple[str, ...]) -> None:
    """The first half of :func:`copy_collection` for every source collection but ``skip``: options, indexes."""
    for info in collection_infos(src):
        if str(info["name"]) not in skip:
            prepare_collection(src, dst, str(info["name"]), info)


def copy_parse_initialised(src: Any, dst: Any) -> None:
    """Copy whole the classes Parse Server's startup writes to (once they are loaded)."""
    for info in collection_infos(src):
        if info["name"] in PARSE_INITIALISED:
            copy_collection(src, dst, str(info["name"]), info, COPY_BATCH)


def copy_batch(src: Any, dst: Any, offset: int, ids: list[Any]) -> int:
    """Copy one loaded batch (``ids``, stored from position ``offset`` on) as raw BSON, as copy_documents
    does. Read back by position when the source keeps insertion order (mongoeco: an ``$in`` is a full
    scan there), else by ``_id``; either way exactly the batch's documents are copied."""
    docs = list(raw(src).find().skip(offset).limit(len(ids)))
    if [doc["_id"] for doc in docs] != ids:
        docs = list(raw(src).find({"_id": {"$in": ids}}))
    if len(docs) != len(ids):
        raise SandboxError(f"copying {src.name}: {len(ids)} documents were loaded, {len(docs)} read back")
    raw(dst).insert_many(docs, ordered=True, bypass_document_validation=True)
    return len(docs)


def seed_and_copy_files(s3: Any, plan: Plan, buckets: tuple[str, str], regions: tuple[str, str],
                        check_stopping: StopCheck) -> tuple[str, ...]:
    """Create the source and target buckets (in ``regions``), upload the plan's files, copy them across."""
    (source, target), (source_region, target_region) = buckets, regions
    create_bucket(s3, source, source_region)
    create_bucket(s3, target, target_region)
    names = upload_s3(s3, source, plan.s3_files())
    check_stopping()
    copy_bucket(s3, source, s3, target)
    return names


def load_and_copy(plan: Plan, src: Any, dst: Any, parse_classes: threading.Event,
                  check_stopping: StopCheck) -> tuple[dict[str, int], tuple[str, ...]]:
    """Load the source batch by batch; a copier (the target's own thread) copies each batch once it is
    in the source, reading it back from there. ``parse_classes`` is set once _User and _Role are in."""
    counts: dict[str, int] = {}
    pending = {name for name, _ in plan.collections() if name in PARSE_INITIALISED}
    with ThreadPoolExecutor(1, thread_name_prefix="sandbox-copy") as copier:
        copies: list[Future[Any]] = []
        for name, docs in plan.collections():
            counts[name] = 0
            for offset, ids in load_in_groups(src[name], docs, check_stopping):
                if name not in PARSE_INITIALISED:
                    copies.append(copier.submit(copy_batch, src[name], dst[name], offset, ids))
                counts[name] += len(ids)
            pending.discard(name)
            if not pending:
                parse_classes.set()
        gridfs_files = write_gridfs(src, plan.gridfs_files())
        gridfs = [info for info in collection_infos(src) if str(info["name"]).startswith("fs.")]
        copies += [copier.submit(copy_collection, src, dst, str(i["name"]), i, COPY_BATCH) for i in gridfs]
        for copy in copies:
            copy.result()
    return counts, gridfs_files


def load_in_groups(coll: Any, docs: Iterable[dict[str, Any]],
                   check_stopping: StopCheck) -> Iterator[tuple[int, list[Any]]]:
    """insert_many in batches of LOAD_BATCH; yields (position, ``_id``s) of every COPY_GROUP stored."""
    iterator, offset, group = iter(docs), 0, []
    while chunk := list(itertools.islice(iterator, LOAD_BATCH)):
        check_stopping()
        coll.insert_many(chunk, ordered=True)
        group += [doc["_id"] for doc in chunk]
        if len(group) >= COPY_GROUP:
            yield offset, group
            offset, group = offset + len(group), []
    if group:
        yield offset, group
