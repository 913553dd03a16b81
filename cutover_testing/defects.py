"""The catalogue of plantable defects: each one breaks a migrated TARGET in one known, named way.

A scenario seeds the source, migrates it, plants one defect on the target and expects the check of the
named criterion to fail with a message naming what :class:`Planted` names. The source is never touched.
Every choice is deterministic (documents are picked in `_id` order), so a planted defect is reproducible.
Defects are meant to be planted one at a time on a fresh copy; combined, their picks may overlap.
"""
from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bson import Binary
from pymongo import ASCENDING
from pymongo.database import Database

from cutover.errors import SandboxError
from cutover.sandbox.migrate import normalize_index
from cutover.sandbox.seed import OLD_SDKS


@dataclass(frozen=True)
class Handles:
    """Where to plant: the databases, the S3 client and buckets, and the TARGET's GridFS database if any."""

    source_db: Database[Any]
    target_db: Database[Any]
    s3: Any
    source_bucket: str
    target_bucket: str
    gridfs_db: Database[Any] | None = None


@dataclass(frozen=True)
class Planted:
    """Exactly what a defect changed on the target (a check's message should name these)."""

    defect: str
    collection: str | None = None
    object_ids: tuple[str, ...] = ()
    field: str | None = None
    index: str | None = None
    file: str | None = None
    detail: str = ""


@dataclass(frozen=True)
class Defect:
    name: str
    description: str
    criteria: tuple[str, ...]  # the criteria (cutover.run.criteria) whose checks must catch it
    plant: Callable[[Handles], Planted]


DEFECTS: dict[str, Defect] = {}


def _defect(name: str, description: str, *criteria: str) -> Callable[[Callable[[Handles], Planted]], Any]:
    def register(plant: Callable[[Handles], Planted]) -> Callable[[Handles], Planted]:
        DEFECTS[name] = Defect(name, description, criteria, plant)
        return plant
    return register


def nth(db: Database[Any], coll: str, position: int = 0,
        query: dict[str, Any] | None = None) -> dict[str, Any]:
    """The document at ``position`` in `_id` order among those matching ``query``."""
    found = list(db[coll].find(query or {}).sort("_id", ASCENDING).skip(position).limit(1))
    if not found:
        raise SandboxError(f"cannot plant: {coll} has no document #{position} matching {query or {}}")
    return dict(found[0])


def _set(h: Handles, coll: str, object_id: Any, field: str, value: Any) -> None:
    h.target_db[coll].update_one({"_id": object_id}, {"$set": {field: value}})


def _recreate_index(db: Database[Any], coll: str, name: str, **changes: Any) -> dict[str, Any]:
    """Drop index ``name`` and create it again with ``changes`` applied; returns the old definition."""
    old = next((dict(ix) for ix in db[coll].list_indexes() if ix["name"] == name), None)
    if old is None:
        raise SandboxError(f"cannot plant: {coll} has no index {name}")
    db[coll].drop_index(name)
    db[coll].create_index(list(dict(old["key"]).items()), **{**normalize_index(old), "name": name, **changes})
    return old


@_defect("missing_document", "one GameScore document is absent from the target", "DB-01", "DB-02")
def missing_document(h: Handles) -> Planted:
    doc = nth(h.target_db, "GameScore")
    h.target_db["GameScore"].delete_one({"_id": doc["_id"]})
    return Planted("missing_document", "GameScore", (doc["_id"],), detail="deleted on the target")


EXTRA_ID = "zzzExtra01"


@_defect("extra_document", "the target holds a GameScore the source does not have", "DB-01", "DB-02")
def extra_document(h: Handles) -> Planted:
    doc = nth(h.target_db, "GameScore")
    h.target_db["GameScore"].insert_one({**doc, "_id": EXTRA_ID})
    return Planted("extra_document", "GameScore", (EXTRA_ID,), detail=f"copy of {doc['_id']}")


@_defect("changed_field_type", "a Long (Int64) became a Double on one GameScore", "DB-02")
def changed_field_type(h: Handles) -> Planted:
    doc = nth(h.target_db, "GameScore", 1)
    _set(h, "GameScore", doc["_id"], "playtimeMs", float(doc["playtimeMs"]))
    return Planted("changed_field_type", "GameScore", (doc["_id"],), "playtimeMs", detail="Int64 -> double")


@_defect("changed_value", "one GameScore's playerName differs on the target", "DB-02")
def changed_value(h: Handles) -> Planted:
    doc = nth(h.target_db, "GameScore", 2)
    _set(h, "GameScore", doc["_id"], "playerName", doc["playerName"] + "!")
    return Planted("changed_value", "GameScore", (doc["_id"],), "playerName", detail="'!' appended")


@_defect("dropped_index", "the app index GameScore.player_score is missing on the target", "DB-03")
def dropped_index(h: Handles) -> Planted:
    h.target_db["GameScore"].drop_index("player_score")
    return Planted("dropped_index", "GameScore", index="player_score")


@_defect("index_other_collation", "Player.name_ci has another collation (strength 3) on the target", "DB-03")
def index_other_collation(h: Handles) -> Planted:
    _recreate_index(h.target_db, "Player", "name_ci", collation={"locale": "en", "strength": 3})
    return Planted("index_other_collation", "Player", index="name_ci", detail="collation strength 2 -> 3")


@_defect("index_other_ttl", "AuditLog.expiresAt_ttl expires after 1 hour instead of 7 days", "DB-03")
def index_other_ttl(h: Handles) -> Planted:
    _recreate_index(h.target_db, "AuditLog", "expiresAt_ttl", expireAfterSeconds=3600)
    return Planted("index_other_ttl", "AuditLog", index="expiresAt_ttl",
                   detail="expireAfterSeconds 604800 -> 3600")


@_defect("dropped_parse_index", "Parse's _User case_insensitive_username index is missing", "DB-03")
def dropped_parse_index(h: Handles) -> Planted:
    h.target_db["_User"].drop_index("case_insensitive_username")
    return Planted("dropped_parse_index", "_User", index="case_insensitive_username")


LONG_VALUE_BYTES = 2000


@_defect("long_index_value", "a 2,000-byte playerName (indexed by playerName_1) on one GameScore", "DB-04")
def long_index_value(h: Handles) -> Planted:
    doc = nth(h.target_db, "GameScore", 3)
    _set(h, "GameScore", doc["_id"], "playerName", "L" * LONG_VALUE_BYTES)
    return Planted("long_index_value", "GameScore", (doc["_id"],), "playerName", "playerName_1",
                   detail=f"{LONG_VALUE_BYTES} bytes")


GHOST_INDEX = "score_by_day"


# From a MongoDB source DB-02 sees the changed `_SCHEMA` document too; DB-03 names the index it declares.
@_defect("schema_index_mismatch", "_SCHEMA names a GameScore index that does not exist", "DB-03", "DB-02")
def schema_index_mismatch(h: Handles) -> Planted:
    key = {"score": -1, "_created_at": -1}
    _set(h, "_SCHEMA", "GameScore", f"_metadata.indexes.{GHOST_INDEX}", key)
    return Planted("schema_index_mismatch", "GameScore", index=GHOST_INDEX,
                   detail="in _SCHEMA._metadata.indexes")


@_defect("missing_collection", "the relation collection _Join:likes:Post is missing", "DB-07", "DB-01",
         "DB-02")
def missing_collection(h: Handles) -> Planted:
    h.target_db.drop_collection("_Join:likes:Post")
    return Planted("missing_collection", "_Join:likes:Post")


EXTRA_COLLECTION = "Leaderboard_tmp"


@_defect("extra_collection", "the target has a collection the source does not", "DB-07", "DB-01", "DB-02")
def extra_collection(h: Handles) -> Planted:
    h.target_db[EXTRA_COLLECTION].insert_one({"_id": "tmp0000001", "note": "left over by a migration script"})
    return Planted("extra_collection", EXTRA_COLLECTION, ("tmp0000001",))


GHOST_CLASS = "Achievement"


# Which criteria see it depends on the source: from a REST or export source, a class the source does not declare
# (DB-07); from a MongoDB source, one `_SCHEMA` document more than the source's (DB-01 counts, DB-02 names it),
# while DB-07 lets a class without objects go without a collection as long as the source has none either. DB-08
# never sees it: it compares the types of the classes both sides declare (which classes exist is DB-07's).
@_defect("schema_class_without_collection", "_SCHEMA declares a class the source does not have, and no collection",
         "DB-07", "DB-01", "DB-02")
def schema_class_without_collection(h: Handles) -> Planted:
    h.target_db["_SCHEMA"].insert_one({"_id": GHOST_CLASS, "objectId": "string", "updatedAt": "date",
                                       "createdAt": "date", "title": "string"})
    return Planted("schema_class_without_collection", GHOST_CLASS, (GHOST_CLASS,), detail="in _SCHEMA only")


@_defect("schema_type_changed", "the target's _SCHEMA declares Player.level a string (the source: a number)",
         "DB-08", "DB-02")
def schema_type_changed(h: Handles) -> Planted:
    """Every Player's level is then a number where the schema says string: DB-08's document scan names them too.
    From a MongoDB source, DB-02 also sees the `_SCHEMA` document differ."""
    _set(h, "_SCHEMA", "Player", "level", "string")
    return Planted("schema_type_changed", "Player", field="level", detail="number -> string in _SCHEMA")


def _with_file(h: Handles, field: str, position: int) -> dict[str, Any]:
    return nth(h.target_db, "GameScore", position, {field: {"$exists": True}})


@_defect("deleted_s3_object", "the avatar of one GameScore is gone from the target bucket", "FILE-01")
def deleted_s3_object(h: Handles) -> Planted:
    doc = _with_file(h, "avatar", 0)
    h.s3.delete_object(Bucket=h.target_bucket, Key=doc["avatar"])
    return Planted("deleted_s3_object", "GameScore", (doc["_id"],), "avatar", file=doc["avatar"])


@_defect("truncated_s3_object", "the avatar of one GameScore is 0 bytes in the target bucket", "FILE-01")
def truncated_s3_object(h: Handles) -> Planted:
    doc = _with_file(h, "avatar", 1)
    h.s3.put_object(Bucket=h.target_bucket, Key=doc["avatar"], Body=b"", ContentType="image/png")
    return Planted("truncated_s3_object", "GameScore", (doc["_id"],), "avatar", file=doc["avatar"],
                   detail="0 bytes")


@_defect("nested_file_missing", "a file nested in GameScore.attachments is gone from the bucket", "FILE-01")
def nested_file_missing(h: Handles) -> Planted:
    doc = _with_file(h, "attachments", 0)
    name = doc["attachments"][0]["name"]
    h.s3.delete_object(Bucket=h.target_bucket, Key=name)
    return Planted("nested_file_missing", "GameScore", (doc["_id"],), "attachments", file=name)


@_defect("legacy_tfss_reference", "a GameScore.avatar names a legacy tfss- file absent from the store",
         "FILE-02", "FILE-01")
def legacy_tfss_reference(h: Handles) -> Planted:
    doc = _with_file(h, "avatar", 2)
    digest = hashlib.blake2b(str(doc["_id"]).encode(), digest_size=16).hexdigest()
    name = f"tfss-{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:]}-avatar.png"
    _set(h, "GameScore", doc["_id"], "avatar", name)
    return Planted("legacy_tfss_reference", "GameScore", (doc["_id"],), "avatar", file=name,
                   detail=f"was {doc['avatar']}")


def _s3_body(h: Handles, key: str) -> tuple[bytes, str]:
    obj = h.s3.get_object(Bucket=h.target_bucket, Key=key)
    return bytes(obj["Body"].read()), str(obj.get("ContentType", ""))


@_defect("same_size_corruption", "one GameScore avatar has a byte flipped in the target bucket (same size)",
         "FILE-01")
def same_size_corruption(h: Handles) -> Planted:
    doc = _with_file(h, "avatar", 3)
    body, kind = _s3_body(h, doc["avatar"])
    middle = len(body) // 2
    flipped = body[:middle] + bytes([body[middle] ^ 0xFF]) + body[middle + 1:]
    h.s3.put_object(Bucket=h.target_bucket, Key=doc["avatar"], Body=flipped, ContentType=kind)
    return Planted("same_size_corruption", "GameScore", (doc["_id"],), "avatar", file=doc["avatar"],
                   detail=f"byte {middle} flipped")


@_defect("swapped_s3_objects", "two GameScore avatars hold each other's bytes in the target bucket", "FILE-01")
def swapped_s3_objects(h: Handles) -> Planted:
    first, second = _with_file(h, "avatar", 4), _with_file(h, "avatar", 5)
    (a, kind), (b, _) = _s3_body(h, first["avatar"]), _s3_body(h, second["avatar"])
    h.s3.put_object(Bucket=h.target_bucket, Key=first["avatar"], Body=b, ContentType=kind)
    h.s3.put_object(Bucket=h.target_bucket, Key=second["avatar"], Body=a, ContentType=kind)
    return Planted("swapped_s3_objects", "GameScore", (first["_id"], second["_id"]), "avatar",
                   file=first["avatar"], detail=f"swapped with {second['avatar']}")


@_defect("content_type_changed", "one GameScore avatar (image/png) is stored as application/octet-stream",
         "FILE-01")
def content_type_changed(h: Handles) -> Planted:
    doc = _with_file(h, "avatar", 6)
    body, _ = _s3_body(h, doc["avatar"])
    h.s3.put_object(Bucket=h.target_bucket, Key=doc["avatar"], Body=body, ContentType="application/octet-stream")
    return Planted("content_type_changed", "GameScore", (doc["_id"],), "avatar", file=doc["avatar"],
                   detail="application/octet-stream")


@_defect("corrupted_gridfs_chunk", "a byte of a target GridFS file's first chunk is flipped (same length)",
         "FILE-01")
def corrupted_gridfs_chunk(h: Handles) -> Planted:
    if h.gridfs_db is None:
        raise SandboxError("cannot plant corrupted_gridfs_chunk: the sandbox was started without GridFS")
    meta = nth(h.gridfs_db, "fs.files", 1)
    chunk = h.gridfs_db["fs.chunks"].find_one({"files_id": meta["_id"], "n": 0})
    if chunk is None:
        raise SandboxError(f"cannot plant corrupted_gridfs_chunk: {meta['filename']} has no chunk 0")
    data = bytes(chunk["data"])
    flipped = Binary(bytes([data[0] ^ 0xFF]) + data[1:])
    h.gridfs_db["fs.chunks"].update_one({"_id": chunk["_id"]}, {"$set": {"data": flipped}})
    owner = h.target_db["Document"].find_one({"scan": meta["filename"]}, {"_id": 1})
    return Planted("corrupted_gridfs_chunk", "Document", (owner["_id"],) if owner else (), "scan",
                   file=meta["filename"], detail="byte 0 of chunk 0 flipped")


@_defect("deleted_gridfs_chunk", "a GridFS file on the target lost its last chunk", "FILE-03", "FILE-01")
def deleted_gridfs_chunk(h: Handles) -> Planted:
    if h.gridfs_db is None:
        raise SandboxError("cannot plant deleted_gridfs_chunk: the sandbox was started without GridFS")
    meta = nth(h.gridfs_db, "fs.files")
    last = next(h.gridfs_db["fs.chunks"].find({"files_id": meta["_id"]}).sort("n", -1).limit(1))
    h.gridfs_db["fs.chunks"].delete_one({"_id": last["_id"]})
    owner = h.target_db["Document"].find_one({"scan": meta["filename"]}, {"_id": 1})
    return Planted("deleted_gridfs_chunk", "Document", (owner["_id"],) if owner else (), "scan",
                   file=meta["filename"], detail=f"chunk n={last['n']} deleted")


OLD_SHARE = 0.20


@_defect("old_sdk_share", "20% of _Installation records run an SDK too old to change server URL", "CLI-01")
def old_sdk_share(h: Handles) -> Planted:
    coll = h.target_db["_Installation"]
    old_query = {"$or": [{"deviceType": d, "parseVersion": {"$in": list(v)}} for d, v in OLD_SDKS.items()]}
    total, old = coll.count_documents({}), coll.count_documents(old_query)
    needed = max(0, math.ceil(OLD_SHARE * total) - old)
    new_query = {"$nor": old_query["$or"], "deviceType": {"$in": list(OLD_SDKS)}}
    picked = list(coll.find(new_query, {"deviceType": 1}).sort("_id", ASCENDING).limit(needed))
    for device, versions in OLD_SDKS.items():
        ids = [d["_id"] for d in picked if d["deviceType"] == device]
        coll.update_many({"_id": {"$in": ids}}, {"$set": {"parseVersion": versions[0]}})
    return Planted("old_sdk_share", "_Installation", tuple(d["_id"] for d in picked), "parseVersion",
                   detail=f"old SDKs {old}/{total} -> {old + len(picked)}/{total}")
