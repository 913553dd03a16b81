"""GridFS files read in batches: chunk census and a server-side digest of the chunks, one aggregation a batch.

The digest: each chunk's ``{n, data}`` hashed on the server by ``$toHashedIndexKey`` (MongoDB's hashed-index
hash, 64 bits; see :mod:`cutover.data.digest`), summed exactly as Decimal128 per file. It binds every byte
to its chunk number, so a changed byte, a swapped chunk or a swapped file changes it (barring a 64-bit
collision); it is comparable only between stores with the same ``chunkSize``. A server without the
operator gets the census alone, and the content is then sampled.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pymongo.database import Database
from pymongo.errors import OperationFailure, PyMongoError

from cutover.errors import TargetUnreachable
from cutover.files.digests import StoreObject
from cutover.files.storage import GridFSFile

_FIELDS = {"filename": 1, "length": 1, "chunkSize": 1, "uploadDate": 1, "md5": 1, "contentType": 1}
_HASH = {"$sum": {"$toDecimal": {"$toHashedIndexKey": {"n": "$n", "d": "$data"}}}}


@dataclass(frozen=True)
class GridFSState:
    file: GridFSFile
    obj: StoreObject
    raw_id: Any = None      # the ``_id`` as stored, to read chunks


def gridfs_states(db: Database[Any], names: Iterable[str], bucket: str = "fs",
                  budget_s: float = 600.0) -> dict[str, GridFSState]:
    """The newest file of each name (absent names are left out), with its census and digests."""
    try:
        docs = _newest(db[f"{bucket}.files"].find({"filename": {"$in": sorted(set(names))}}, _FIELDS))
        if not docs:
            return {}
        groups = _chunk_groups(db, bucket, [d["_id"] for d in docs.values()], budget_s)
    except PyMongoError as exc:
        raise TargetUnreachable(f"reading GridFS {bucket} of {db.name} failed: {exc}") from exc
    return {name: _state(doc, groups.get(str(doc["_id"]))) for name, doc in docs.items()}


def _newest(cursor: Any) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for doc in cursor:
        name = str(doc.get("filename"))
        if name not in out or (doc.get("uploadDate") or 0) > (out[name].get("uploadDate") or 0):
            out[name] = doc
    return out


def _chunk_groups(db: Database[Any], bucket: str, ids: list[Any], budget_s: float) -> dict[str, dict[str, Any]]:
    group: dict[str, Any] = {"_id": "$files_id", "count": {"$sum": 1}, "maxn": {"$max": "$n"}}
    try:
        rows = _aggregate(db, bucket, ids, {**group, "h": _HASH}, budget_s)
    except OperationFailure:   # no $toHashedIndexKey on this server: census only, content gets sampled
        rows = _aggregate(db, bucket, ids, group, budget_s)
    return {str(r["_id"]): r for r in rows}


def _aggregate(db: Database[Any], bucket: str, ids: list[Any], group: dict[str, Any],
               budget_s: float) -> list[dict[str, Any]]:
    pipeline = [{"$match": {"files_id": {"$in": ids}}}, {"$group": group}]
    return list(db[f"{bucket}.chunks"].aggregate(pipeline, maxTimeMS=int(budget_s * 1000)))


def _state(doc: dict[str, Any], row: dict[str, Any] | None) -> GridFSState:
    length, size = int(doc.get("length", 0)), int(doc.get("chunkSize") or 1)
    expected = -(-length // size)
    count, maxn = (int(row["count"]), row["maxn"]) if row else (0, None)
    complete = count == expected and (not expected or maxn == expected - 1)
    name = str(doc.get("filename"))
    census = GridFSFile(str(doc["_id"]), name, length, size, expected, count, complete)
    digest = f"{size}:{count}:{row['h']}" if row and row.get("h") is not None else ""
    md5 = str(doc.get("md5") or "").lower()
    obj = StoreObject(length, md5=md5, chunks=digest, content_type=str(doc.get("contentType") or ""))
    return GridFSState(census, obj, doc["_id"])


def gridfs_range(db: Database[Any], file_id: Any, chunk_size: int, start: int, end: int,
                 bucket: str = "fs") -> bytes:
    """Bytes ``start`` .. ``end`` - 1 of one GridFS file, from the chunks that hold them."""
    first, last = start // chunk_size, (end - 1) // chunk_size
    cursor = db[f"{bucket}.chunks"].find({"files_id": file_id, "n": {"$gte": first, "$lte": last}},
                                         {"n": 1, "data": 1}).sort("n", 1)
    data = b"".join(bytes(c["data"]) for c in cursor)
    offset = start - first * chunk_size
    return data[offset:offset + (end - start)]
