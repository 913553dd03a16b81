"""The seeded source app: a realistic Parse app stored exactly as Parse Server stores it in MongoDB.

Storage facts (parse-server MongoTransform, MongoSchemaCollection, DatabaseController): `_id` is the
objectId; `_created_at`/`_updated_at` are dates; a top-level File is its bare name, a nested one keeps
`{"__type": "File", "name", "url"}`; a GeoPoint is `[longitude, latitude]`; Bytes are BSON binary; a Pointer
is `_p_<field>: "Class$id"`; a Relation lives in `_Join:<field>:<Class>` as `{relatedId, owningId}` with an
ObjectId `_id`; ACLs are `_rperm`, `_wperm` and the legacy `_acl`; `_SCHEMA` maps field -> type, `_metadata`
holds `indexes` (name -> key, as updateSchemaWithIndexes writes them) and `class_permissions`.

Indexes are created BEFORE loading (unique index builds on existing data are quadratic on mongoeco) and
documents are streamed from generators into insert_many batches, so `scale` can reach 1,000,000. Files are
written for at most FILE_OBJECT_CAP objects whatever the scale. Everything derives from `seed`.
"""
from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING
from pymongo.database import Database

from cutover.errors import SandboxError
from cutover.sandbox import tenants
from cutover.sandbox.migrate import ensure_bucket
from cutover.sandbox.seed_docs import (
    APP_ID,
    BASE,
    FILE_OBJECT_CAP,
    GRIDFS_CHUNK,
    OLD_SDKS,
    PASSWORD,
    PASSWORD_HASH,
    Plan,
    content_type,
    file_body,
    mongo_object_id,
)

__all__ = [  # the document generators live in seed_docs; these names stay importable from here
    "APP_ID", "FILE_OBJECT_CAP", "GRIDFS_CHUNK", "OLD_SDKS", "PASSWORD", "PASSWORD_HASH", "Plan", "SeedSummary",
    "create_indexes", "file_body", "index_map", "load", "schema_documents", "seed_source", "upload_s3",
    "write_gridfs",
]

BATCH = 5000
UPLOAD_THREADS = 8
_OWNER_CLP = {op: {"*": True} for op in ("find", "count", "get", "create", "update", "delete", "addField")}
_AUDIT_CLP = {**{op: {"role:Auditor": True} for op in ("find", "count", "get")},
              **{op: {} for op in ("create", "update", "delete", "addField")}}


@dataclass(frozen=True)
class SeedSummary:
    """What was seeded: documents per collection, file names per store, indexes made (collection, name)."""

    counts: dict[str, int]
    s3_files: tuple[str, ...]
    gridfs_files: tuple[str, ...]
    indexes: tuple[tuple[str, str], ...]
    bucket: str


def seed_source(db: Database[Any], s3: Any, bucket: str, *, gridfs_db: Database[Any] | None = None,
                scale: int = 3000, seed: int = 7, classes: int = 0) -> SeedSummary:
    """Create indexes, load every class (and ``classes`` small ones of a multi-tenant app), upload the files;
    the same seed always gives the same data."""
    if scale < 100:
        raise SandboxError(f"seed scale {scale} is too small: use at least 100 app objects")
    plan = Plan.for_scale(scale, seed, with_gridfs=gridfs_db is not None, classes=classes)
    with ThreadPoolExecutor(1) as background:  # S3 uploads overlap the database load
        uploads = background.submit(upload_s3, s3, bucket, plan.s3_files())
        indexes = create_indexes(db, plan.tenants)
        counts = {name: load(db, name, docs) for name, docs in plan.collections()}
        counts["_Idempotency"] = 0  # exists, empty, through its indexes
        counts["_SCHEMA"] = load(db, "_SCHEMA", schema_documents(index_map(db, plan.tenants), plan.tenants))
        gridfs_files = write_gridfs(gridfs_db, plan.gridfs_files()) if gridfs_db is not None else ()
        s3_files = uploads.result()
    return SeedSummary(counts, s3_files, gridfs_files, indexes, bucket)


def load(db: Database[Any], name: str, docs: Iterable[dict[str, Any]]) -> int:
    """insert_many in batches of BATCH, never holding more than one batch in memory."""
    total, iterator = 0, iter(docs)
    while chunk := list(itertools.islice(iterator, BATCH)):
        db[name].insert_many(chunk, ordered=True)
        total += len(chunk)
    return total


# (collection, keys, options). Parse's own come from DatabaseController.performInitialization.
_CI = {"locale": "en_US", "strength": 2}
_UNIQUE = {"unique": True, "sparse": True, "background": True}
PARSE_INDEXES: tuple[tuple[str, list[tuple[str, int]], dict[str, Any]], ...] = (
    ("_User", [("username", ASCENDING)], _UNIQUE),
    ("_User", [("username", ASCENDING)],
     {"name": "case_insensitive_username", "collation": _CI, "sparse": True, "background": True}),
    ("_User", [("email", ASCENDING)], _UNIQUE),
    ("_User", [("email", ASCENDING)],
     {"name": "case_insensitive_email", "collation": _CI, "sparse": True, "background": True}),
    ("_Role", [("name", ASCENDING)], _UNIQUE),
    ("_Idempotency", [("reqId", ASCENDING)], _UNIQUE),
    ("_Idempotency", [("expire", ASCENDING)],
     {"name": "ttl", "expireAfterSeconds": 0, "sparse": True, "background": True}),
)
APP_INDEXES: tuple[tuple[str, list[tuple[str, int]], dict[str, Any]], ...] = (
    ("GameScore", [("_p_player", ASCENDING), ("score", DESCENDING)], {"name": "player_score"}),
    ("GameScore", [("score", DESCENDING)],
     {"name": "cheaters_by_score", "partialFilterExpression": {"cheatMode": True}}),
    ("GameScore", [("playerName", ASCENDING)], {"name": "playerName_1"}),
    ("Player", [("name", ASCENDING)], {"name": "name_ci", "collation": {"locale": "en", "strength": 2}}),
    ("Player", [("country", ASCENDING)], {"name": "country_sparse", "sparse": True}),
    ("Post", [("_p_author", ASCENDING), ("publishedAt", DESCENDING)], {"name": "author_published"}),
    ("AuditLog", [("expiresAt", ASCENDING)], {"name": "expiresAt_ttl", "expireAfterSeconds": 604800}),
    ("_Session", [("_session_token", ASCENDING)], {"name": "_session_token_1"}),
)


def create_indexes(db: Database[Any], tenant_classes: int = 0) -> tuple[tuple[str, str], ...]:
    """Every Parse and app index, created on empty collections (before any document is loaded)."""
    specs = PARSE_INDEXES + APP_INDEXES + tenants.indexes(tenant_classes)
    return tuple((coll, db[coll].create_index(keys, **opts)) for coll, keys, opts in specs)


def index_map(db: Database[Any], tenant_classes: int = 0) -> dict[str, dict[str, dict[str, Any]]]:
    """class -> {index name: key} for every class that has indexes besides `_id_`."""
    classes = sorted({coll for coll, _, _ in PARSE_INDEXES + APP_INDEXES + tenants.indexes(tenant_classes)})
    return {cls: {ix["name"]: dict(ix["key"]) for ix in db[cls].list_indexes()} for cls in classes}


_FIELDS: dict[str, dict[str, str]] = {
    "_User": {"username": "string", "password": "string", "email": "string", "emailVerified": "boolean",
              "authData": "object"},
    "_Role": {"name": "string", "users": "relation<_User>", "roles": "relation<_Role>"},
    "_Session": {"sessionToken": "string", "user": "*_User", "createdWith": "object", "restricted": "boolean",
                 "installationId": "string", "expiresAt": "date"},
    "_Installation": {"installationId": "string", "deviceToken": "string", "channels": "array",
                      "deviceType": "string", "pushType": "string", "GCMSenderId": "string",
                      "timeZone": "string",
                      "localeIdentifier": "string", "badge": "number", "appVersion": "string",
                      "appName": "string", "appIdentifier": "string", "parseVersion": "string"},
    "_Idempotency": {"reqId": "string", "expire": "date"},
    "GameScore": {"score": "number", "playerName": "string", "cheatMode": "boolean", "tags": "array",
                  "stats": "object", "location": "geopoint", "player": "*Player", "avatar": "file",
                  "attachments": "array", "blob": "bytes", "playtimeMs": "number", "comment": "string"},
    "Player": {"name": "string", "level": "number", "country": "string", "joinedAt": "date"},
    "Post": {"title": "string", "body": "string", "author": "*_User", "published": "boolean",
             "publishedAt": "date", "likes": "relation<_User>"},
    "AuditLog": {"action": "string", "actor": "*_User", "at": "date", "details": "object",
                 "expiresAt": "date"},
    "Document": {"title": "string", "scan": "file", "pages": "number"},
}


def schema_documents(indexes: dict[str, dict[str, dict[str, Any]]],
                     tenant_classes: int = 0) -> Iterator[dict[str, Any]]:
    """One `_SCHEMA` document per class; AuditLog is closed to the public by its CLP."""
    for cls, fields in {**_FIELDS, **tenants.fields(tenant_classes)}.items():
        metadata: dict[str, Any] = {"class_permissions": {**(_AUDIT_CLP if cls == "AuditLog" else _OWNER_CLP),
                                                          "protectedFields": {"*": []}}}
        if cls in indexes:
            metadata["indexes"] = indexes[cls]
        yield {"_id": cls, "objectId": "string", "updatedAt": "date", "createdAt": "date",
               **fields, "_metadata": metadata}


def upload_s3(s3: Any, bucket: str, files: Iterator[tuple[str, bytes]]) -> tuple[str, ...]:
    """Create the bucket if needed and put every file through a bounded pool; fail on the first error."""
    ensure_bucket(s3, bucket)
    names: list[str] = []

    def put(name: str, body: bytes) -> None:
        s3.put_object(Bucket=bucket, Key=name, Body=body, ContentType=content_type(name))

    with ThreadPoolExecutor(UPLOAD_THREADS) as pool:
        futures = []
        for name, body in files:
            names.append(name)
            futures.append(pool.submit(put, name, body))
        for future in futures:
            future.result()
    return tuple(names)


def write_gridfs(db: Database[Any], files: Iterator[tuple[ObjectId, str, bytes]]) -> tuple[str, ...]:
    """Files in the layout GridFS drivers write (fs.files + fs.chunks), with deterministic ids and dates."""
    db["fs.files"].create_index([("filename", ASCENDING), ("uploadDate", ASCENDING)])
    db["fs.chunks"].create_index([("files_id", ASCENDING), ("n", ASCENDING)], unique=True)
    names = []
    for k, (file_id, name, body) in enumerate(files):
        offsets = range(0, len(body), GRIDFS_CHUNK)
        chunks = [{"_id": mongo_object_id(0, file_id, n), "files_id": file_id, "n": n,
                   "data": body[off:off + GRIDFS_CHUNK]} for n, off in enumerate(offsets)]
        db["fs.chunks"].insert_many(chunks)
        db["fs.files"].insert_one({"_id": file_id, "length": len(body), "chunkSize": GRIDFS_CHUNK,
                                   "uploadDate": BASE + timedelta(days=k), "filename": name, "metadata": {}})
        names.append(name)
    return tuple(names)
