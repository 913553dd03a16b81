"""DB-02 content equality: `_id`-range partitions, then a type-aware document diff.

How a partition is judged (the order lives in :func:`cutover.data.facade.content_diff`):
1. Only for a target with ``allow_blocking_commands = true`` (a quiesced copy): equal ``dbHash`` values
   (:func:`server_hash`; the command locks the database against writes) clear the whole class.
2. Where both servers compute a sound digest (:mod:`cutover.data.digest`, an ordinary aggregation), equal
   digests clear the partition without shipping a document.
3. Otherwise both sides of the partition are streamed as raw BSON (at most ``max_docs_per_s``); documents
   whose bytes are equal are equal. Only documents whose bytes differ are decoded and compared field by
   field: BSON types count (an Int64 that became a Double differs, bool is not int), field order does not.
Mismatch listings are capped (first ``cap`` plus totals) so a huge mismatch never floods the run.
"""
from __future__ import annotations

import math
import struct
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import bson
from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument
from pymongo.collection import Collection
from pymongo.database import Database

from cutover.data.inventory import call, within
from cutover.data.pace import UNCAPPED, Pace
from cutover.errors import CommandRefused
from cutover.listing import Capped

RAW = CodecOptions(document_class=RawBSONDocument)
# Documents per reply: real servers cap a reply at 16 MB on their own, some stand-ins do not.
BATCH = 2000
# Value sizes of fixed-width BSON types that an `_id` commonly has (type byte -> bytes).
_FIXED = {0x01: 8, 0x07: 12, 0x08: 1, 0x09: 8, 0x10: 4, 0x11: 8, 0x12: 8, 0x13: 16}


@dataclass(frozen=True)
class Partition:
    """Documents of ``cls`` whose `_id` is in [lower, upper); None is an open end."""

    cls: str
    index: int
    total: int
    lower: Any = None
    upper: Any = None
    exclude: dict[str, Any] = field(default_factory=dict, hash=False)   # never compared: the suite's probes

    @property
    def label(self) -> str:
        return self.cls if self.total == 1 else f"{self.cls}:p{self.index + 1}of{self.total}"

    def filter(self) -> dict[str, Any]:
        return {**self._range(), **self.exclude}

    def _range(self) -> dict[str, Any]:
        if self.lower is None and self.upper is None:
            return {}
        if self.lower is None:
            # `$not` also takes `_id`s of other BSON types, which a range would skip (type bracketing)
            return {"_id": {"$not": {"$gte": self.upper}}}
        if self.upper is None:
            return {"_id": {"$gte": self.lower}}
        return {"_id": {"$gte": self.lower, "$lt": self.upper}}


def boundaries(db: Database[Any], cls: str, count: int, size: int, budget_s: float) -> list[Any]:
    """Every ``size``-th `_id` in the server's `_id` order (never the documents), at most ``count // size``,
    under the operation budget. Each is found from the one before (``$gte`` it, skip ``size``): the walk reads
    about ``count`` index entries in all, where skipping from the start each time read ``count²/2size``.

    The first comes from the whole `_id` order, the others from its BSON type bracket (on a MongoDB a ``$gte``
    matches only its own bracket): every boundary has one bracket, so the partitions' ranges cover that bracket
    and the first partition's ``$not`` takes every `_id` of another bracket. A server that orders all types in
    one line (mongoeco) walks on across them, and its ranges follow the same line."""
    coll = db[cls]

    def after(prev: Any) -> Any:
        found = list(coll.find({} if prev is None else {"_id": {"$gte": prev}}, {"_id": 1})
                     .sort("_id", 1).skip(size).limit(1))
        return found[0]["_id"] if found else None

    def walk() -> list[Any]:
        points: list[Any] = []
        for _ in range(size, count, size):
            point = after(points[-1] if points else None)
            if point is None:
                break
            points.append(point)
        return points
    return call(f"partitioning {cls}", lambda: within(db, budget_s, walk))


def partitions(db: Database[Any], cls: str, count: int, size: int, budget_s: float,
               exclude: dict[str, Any] | None = None) -> list[Partition]:
    """Partitions of about ``size`` documents of `_id`s of one BSON type bracket (the first partition also
    takes every `_id` of another bracket). ``exclude`` (a filter such as ``{"$nor": [...]}``) leaves
    documents out of every partition; ``budget_s`` bounds the walk that finds the boundaries."""
    points = boundaries(db, cls, count, size, budget_s) if count > size else []
    edges: list[Any] = [None, *points, None]
    total = len(edges) - 1
    return [Partition(cls, i, total, edges[i], edges[i + 1], dict(exclude or {})) for i in range(total)]


def server_hash(db: Database[Any], cls: str) -> str | None:
    """The server's ``dbHash`` of one collection, or None when the server does not offer it.

    dbHash takes a shared lock on the database that stops every write until it is done: the suite's clients
    refuse to send it (CommandRefused) unless the target set ``allow_blocking_commands = true``."""
    try:
        reply = db.command("dbHash", collections=[cls])
    except CommandRefused:
        raise
    except Exception:  # a missing command or privilege only disables the fast path
        return None
    value = reply.get("collections", {}).get(cls)
    return str(value) if value else None


@dataclass(frozen=True)
class ContentDiff:
    """The outcome of one partition (or sample): listings capped, totals exact."""

    label: str
    source_docs: int
    target_docs: int
    missing: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()
    content: tuple[tuple[str, str], ...] = ()      # (_id, field paths that differ)
    missing_total: int = 0
    extra_total: int = 0
    content_total: int = 0
    method: str = "documents"
    digest: str = ""           # what the server digests said, when they were asked
    sync: Any = None           # under a live sync: the rechecks' facts (cutover.data.live_content.SyncFacts)

    @property
    def ok(self) -> bool:
        return not (self.missing_total or self.extra_total or self.content_total)

    def summary(self) -> str:
        parts = []
        if self.missing_total:
            parts.append(f"missingOnTarget {self.missing_total}: _id {', '.join(self.missing)}")
        if self.extra_total:
            parts.append(f"extraOnTarget {self.extra_total}: _id {', '.join(self.extra)}")
        if self.content_total:
            shown = "; ".join(f"_id {i} at {p}" for i, p in self.content)
            parts.append(f"content {self.content_total}: {shown}")
        listed = max(len(self.missing), len(self.extra), len(self.content))
        capped = (self.missing_total, self.extra_total, self.content_total) != (
            len(self.missing), len(self.extra), len(self.content))
        cap = f" (first {listed} of each listed)" if capped else ""
        return f"{self.label}: " + " | ".join(parts) + cap if parts else f"{self.label}: equal"


def id_key(raw: bytes) -> bytes:
    """The `_id` element's bytes (type, name, value): an exact, hashable identity of the `_id`."""
    if raw[5:9] == b"_id\x00":
        kind, start = raw[4], 9
        if kind == 0x02:
            return raw[4:start + 4 + struct.unpack_from("<i", raw, start)[0]]
        if kind in _FIXED:
            return raw[4:start + _FIXED[kind]]
    return bson.encode({"_id": bson.decode(raw)["_id"]})[4:-1]


def id_text(key: bytes) -> str:
    """A readable `_id` for messages."""
    doc = bson.decode(struct.pack("<i", len(key) + 5) + key + b"\x00")
    return str(doc["_id"])


def raw_documents(coll: Collection[Any], filt: dict[str, Any], pace: Pace = UNCAPPED) -> Iterator[bytes]:
    raw_coll = coll.with_options(codec_options=RAW)
    for doc in pace.paced(raw_coll.find(filt, batch_size=BATCH)):
        yield bytes(doc.raw)


def field_differences(a: Any, b: Any, path: str = "") -> list[str]:
    """Field paths where ``a`` and ``b`` differ in value or BSON type; dict key order is ignored."""
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[str] = []
        for key in sorted(a.keys() | b.keys(), key=str):
            sub = f"{path}.{key}" if path else str(key)
            out += field_differences(a[key], b[key], sub) if key in a and key in b else [sub]
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [path or "(document)"]
        pairs = enumerate(zip(a, b, strict=True))
        return [p for i, (x, y) in pairs for p in field_differences(x, y, f"{path}.{i}")]
    if type(a) is not type(b):
        return [path or "(document)"]
    if isinstance(a, float) and math.isnan(a) and math.isnan(b):
        return []
    return [] if a == b else [path or "(document)"]


class _Collector:
    """Accumulates mismatches, keeping the first ``cap`` of each kind in `_id` order (whatever order the
    server returned documents in, the listing is the same on every run)."""

    def __init__(self, cap: int) -> None:
        self.kinds: dict[str, Capped[Any]] = {kind: Capped(cap, key=str) for kind in ("missing", "extra", "content")}

    def add(self, kind: str, item: Any) -> None:
        self.kinds[kind].add(item)

    def result(self, label: str, source_docs: int, target_docs: int, method: str, digest: str) -> ContentDiff:
        missing, extra, content = (self.kinds[k] for k in ("missing", "extra", "content"))
        return ContentDiff(label, source_docs, target_docs, tuple(missing.listed()), tuple(extra.listed()),
                           tuple(content.listed()), missing.total, extra.total, content.total, method, digest)


def diff_documents(source: Iterable[bytes], target: Iterable[bytes], label: str, cap: int,
                   method: str = "documents", digest: str = "") -> ContentDiff:
    """Match raw documents by `_id`; compare bytes, and fields only where the bytes differ."""
    pending = {id_key(raw): raw for raw in source}
    source_docs, target_docs = len(pending), 0
    found = _Collector(cap)
    for raw in target:
        target_docs += 1
        key = id_key(raw)
        theirs = pending.pop(key, None)
        if theirs is None:
            found.add("extra", id_text(key))
        elif theirs != raw:
            paths = field_differences(bson.decode(theirs), bson.decode(raw))
            if paths:
                found.add("content", (id_text(key), ", ".join(paths)))
    for key in pending:
        found.add("missing", id_text(key))
    return found.result(label, source_docs, target_docs, method, digest)


def compare_partition(src: Database[Any], dst: Database[Any], part: Partition, cap: int,
                      paces: tuple[Pace, Pace] = (UNCAPPED, UNCAPPED), digest: str = "") -> ContentDiff:
    """The content verdict of one partition by its documents, read-only on both sides. Both sides are read at
    the same time (the target's in a second thread), so the partition's documents are held in memory twice."""
    filt = part.filter()

    def run() -> ContentDiff:
        with ThreadPoolExecutor(max_workers=1) as pool:
            theirs = pool.submit(lambda: list(raw_documents(dst[part.cls], filt, paces[1])))
            ours = list(raw_documents(src[part.cls], filt, paces[0]))
            return diff_documents(ours, theirs.result(), part.label, cap, digest=digest)
    return call(f"comparing {part.label}", run)


def compare_sample(src: Database[Any], dst: Database[Any], cls: str, size: int, cap: int,
                   budget_s: float = 600.0) -> ContentDiff:
    """Quick mode: ``size`` random source documents looked up on the target (extras are not seen)."""
    def run() -> ContentDiff:
        pipeline = [{"$sample": {"size": size}}]
        raw_src = src[cls].with_options(codec_options=RAW)
        sampled = within(src, budget_s, lambda: [bytes(d.raw) for d in raw_src.aggregate(pipeline)])
        ids = [bson.decode(raw)["_id"] for raw in sampled]
        theirs = raw_documents(dst[cls], {"_id": {"$in": ids}}) if ids else iter(())
        return diff_documents(sampled, theirs, f"{cls}:sample{size}", cap, method=f"sample of {size}")
    return call(f"sampling {cls}", run)
