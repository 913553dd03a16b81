"""DB-02's fast path that takes no lock: a digest of each `_id` partition, computed by an ordinary aggregation.

Each document is turned, on the server, into an exact, type-tagged representation; the server hashes it
with ``$toHashedIndexKey`` (MongoDB's hashed-index hash, an ordinary expression since 4.2.24/4.4/5.0
patch releases) and sums the hashes of the partition. Equal digests on both sides clear the partition
without shipping a document; anything else sends the partition to the document stream (content.py).

Soundness first (a false "equal" is a missed defect, a false "differs" only costs a stream):
- ``$toHashedIndexKey`` alone is unsound: it folds every number to a truncated 64-bit integer (1, Int64(1)
  and 1.0 hash alike, so do 1.2 and 1.7). So no number reaches it raw: each value is tagged with its BSON
  ``$type``; int and long are exact as they are; a double is written as (k, d x 2^k) with k chosen so that
  d x 2^k is an integer below 2^62 (power-of-two scaling is exact), and the server must prove the scaling
  exact (integral, in range, scales back to d) or the document counts as undigestable; a decimal is written
  by ``$toString`` (exact for Decimal128). Doubles cannot take the same road: ``$toString`` prints them with
  ``%g`` (six digits) and ``$toDecimal`` rounds them to 15 digits, hence the scaling. (``$hash``/``$hexHash``
  arrive only in 8.3 and take strings or BinData, so they would need the same exact form first.)
- Field order does not count: fields are sorted by name (``$sortArray``) at every level.
- Containers nest to ``MAX_DEPTH``; deeper documents and types that hide numbers (code with scope, or types
  this module does not know) are undigestable: such a partition is always streamed.
- Before trusting a server, :func:`support` runs a known-answer test (``KNOWN``) through ``$documents``:
  Int64 vs Double, neighbouring doubles, reordered fields... If any verdict is wrong, or the server lacks
  an operator, the digest is off for the run and the reason is recorded.
The partition's digest is (documents, exact Decimal128 sum of the hashes, undigestable documents).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bson import Binary, Decimal128, Int64, ObjectId
from pymongo.database import Database

from cutover.data.inventory import call, within

MAX_DEPTH = 10         # containers; each level nests the pipeline 9 BSON levels deeper (servers cap near 180-200)
_OFFSET = 500
POWERS = [math.ldexp(1.0, i) for i in range(-_OFFSET, 601)]  # 2^-500 .. 2^600, exact doubles
SAME = ["int", "long", "bool", "string", "objectId", "date", "binData", "null", "regex", "timestamp",
        "minKey", "maxKey", "javascript", "symbol", "undefined", "dbPointer"]   # hashed exactly as they are
_BAD = {"r": None, "x": {"$literal": 1}}


def _ok(rep: Any) -> dict[str, Any]:
    return {"r": rep, "x": {"$literal": 0}}


def _let(name: str, value: Any, body: Any) -> dict[str, Any]:
    return {"$let": {"vars": {name: value}, "in": body}}


def double_rep(v: str, d: int) -> dict[str, Any]:
    """["double", k, d x 2^k as a long], exact or undigestable; zero and non-finite values by name."""
    k, h, s, p, q = (f"$${n}{d}" for n in "khspq")
    index = {"$add": [h, _OFFSET]}
    exact = {"$and": [{"$isNumber": s}, {"$eq": [s, {"$toDouble": {"$trunc": [s]}}]}, {"$lt": [{"$abs": s}, 2 ** 62]},
                      {"$eq": [{"$divide": [{"$divide": [s, q]}, p]}, v]}]}
    scaled = {"$cond": [exact, _ok(["double", k, {"$toLong": s}]), _BAD]}
    body = _let(f"s{d}", {"$multiply": [{"$multiply": [v, p]}, q]}, scaled)
    body = {"$let": {"vars": {f"p{d}": {"$arrayElemAt": ["$$pow2", index]},
                              f"q{d}": {"$arrayElemAt": ["$$pow2", {"$add": [{"$subtract": [k, h]}, _OFFSET]}]}},
                     "in": body}}
    body = _let(f"h{d}", {"$floor": {"$divide": [k, 2]}}, body)
    body = _let(f"k{d}", {"$subtract": [56, {"$floor": {"$log": [{"$abs": v}, 2]}}]}, body)
    finite = {"$and": [{"$gt": [v, -math.inf]}, {"$lt": [v, math.inf]}]}
    named = _ok(["double", {"$toString": v}])   # "NaN", "Infinity", "-Infinity"; 0 and -0 alike
    return {"$cond": [{"$eq": [v, 0.0]}, _ok(["double", "0"]), {"$cond": [finite, body, named]}]}


def container_rep(v: str, d: int) -> dict[str, Any]:
    """[type, [[name or null, rep], ...]]: fields sorted by name, array elements in order."""
    items = {"$cond": [{"$isArray": v}, {"$map": {"input": v, "as": f"a{d}", "in": {"k": None, "v": f"$$a{d}"}}},
                       {"$sortArray": {"input": {"$objectToArray": v}, "sortBy": {"k": 1}}}]}
    children = {"$map": {"input": f"$$i{d}", "as": f"j{d}", "in": node_rep(f"$$j{d}.v", d - 1)}}
    keys = {"$map": {"input": f"$$i{d}", "as": f"j{d}", "in": f"$$j{d}.k"}}
    reps = {"$map": {"input": f"$$c{d}", "as": f"j{d}", "in": f"$$j{d}.r"}}
    bad = {"$sum": {"$map": {"input": f"$$c{d}", "as": f"j{d}", "in": f"$$j{d}.x"}}}
    body = {"r": [{"$type": v}, {"$zip": {"inputs": [keys, reps]}}], "x": bad}
    return _let(f"i{d}", items, _let(f"c{d}", children, body))


def node_rep(v: str, d: int) -> dict[str, Any]:
    """{r: exact type-tagged representation of the value ``v``, x: undigestable values inside it}.

    Containers come first, in a plain ``$cond``: each level nests the pipeline 9 BSON levels deeper."""
    t = {"$type": v}
    leaf = {"$switch": {"branches": [{"case": {"$in": [t, SAME]}, "then": _ok([t, v])},
                                     {"case": {"$eq": [t, "double"]}, "then": double_rep(v, d)},
                                     {"case": {"$eq": [t, "decimal"]}, "then": _ok(["decimal", {"$toString": v}])}],
                        "default": _BAD}}
    if d == 0:
        return leaf     # a container this deep falls to the default: undigestable
    return {"$cond": [{"$in": [t, ["object", "array"]]}, container_rep(v, d), leaf]}


def document_rep(root: str = "$$ROOT") -> dict[str, Any]:
    return _let("pow2", POWERS, node_rep(root, MAX_DEPTH))


def _hash(rep_path: str) -> dict[str, Any]:
    return {"$toHashedIndexKey": {"r": rep_path}}


def digest_pipeline(filt: dict[str, Any]) -> list[dict[str, Any]]:
    """The partition's digest: documents, exact sum of their hashes, undigestable documents."""
    return [{"$match": filt}, {"$project": {"_id": 0, "e": document_rep()}},
            {"$group": {"_id": None, "n": {"$sum": 1}, "h": {"$sum": {"$toDecimal": _hash("$e.r")}},
                        "x": {"$sum": "$e.x"}}}]


def rep_pipeline(filt: dict[str, Any]) -> list[dict[str, Any]]:
    """Each document's representation (no hash): proves the representation on servers without the hash."""
    return [{"$match": filt}, {"$project": {"e": document_rep()}}]


@dataclass(frozen=True)
class Digest:
    docs: int
    total: str                 # exact decimal sum of the documents' hashes
    undigestable: int = 0

    def matches(self, other: Digest) -> bool:
        return self.undigestable == 0 == other.undigestable and (self.docs, self.total) == (other.docs, other.total)

    def describe(self) -> str:
        bad = f", {self.undigestable} undigestable" if self.undigestable else ""
        return f"{self.docs} documents{bad}"


def partition_digest(db: Database[Any], cls: str, filt: dict[str, Any], budget_s: float) -> Digest:
    pipeline = digest_pipeline(filt)
    rows = call(f"digest of {cls}", lambda: within(db, budget_s, lambda: list(db[cls].aggregate(pipeline))))
    if not rows:
        return Digest(0, "0")
    row = rows[0]
    return Digest(int(row["n"]), str(row["h"]), int(row["x"]))


_DAY = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
# (what, document a, document b, must the digests be equal)
KNOWN: list[tuple[str, dict[str, Any], dict[str, Any], bool]] = [
    ("field order", {"a": 1, "b": {"c": 2.5, "d": [1, 2]}}, {"b": {"d": [1, 2], "c": 2.5}, "a": 1}, True),
    ("Int64 vs Double", {"v": Int64(1)}, {"v": 1.0}, False),
    ("Int32 vs Int64", {"v": 1}, {"v": Int64(1)}, False),
    ("1.2 vs 1.7", {"v": 1.2}, {"v": 1.7}, False),
    ("neighbouring doubles", {"v": 1.0}, {"v": math.nextafter(1.0, 2.0)}, False),
    ("0.1 + 0.2 vs 0.3", {"v": 0.1 + 0.2}, {"v": 0.3}, False),
    ("7 significant digits", {"v": 1.234567}, {"v": 1.234568}, False),
    ("huge doubles", {"v": 1e300}, {"v": math.nextafter(1e300, math.inf)}, False),
    ("subnormal doubles", {"v": 5e-324}, {"v": 1e-323}, False),
    ("nested double", {"a": {"b": [{"c": 1.25}]}}, {"a": {"b": [{"c": math.nextafter(1.25, 2.0)}]}}, False),
    ("nested Int64 vs Double", {"a": [{"n": Int64(7)}]}, {"a": [{"n": 7.0}]}, False),
    ("bool vs int", {"v": True}, {"v": 1}, False),
    ("string vs number", {"v": "1"}, {"v": 1}, False),
    ("array order", {"v": [1, 2]}, {"v": [2, 1]}, False),
    ("array vs object", {"v": [1]}, {"v": {"0": 1}}, False),
    ("date by a millisecond", {"v": _DAY}, {"v": _DAY.replace(microsecond=679000)}, False),
    ("binary subtype", {"v": Binary(b"\x01\x02", 0)}, {"v": Binary(b"\x01\x02", 5)}, False),
    ("null vs missing", {"v": None}, {}, False),
    ("decimal", {"v": Decimal128("1.10")}, {"v": Decimal128("1.1")}, False),
    ("object id", {"v": ObjectId("0123456789abcdef01234567")}, {"v": ObjectId("0123456789abcdef01234568")}, False),
]


def known_answer_pipeline() -> list[dict[str, Any]]:
    docs = [{"i": i, "d": doc} for i, (_, a, b, _) in enumerate(KNOWN) for doc in (a, b)]
    return [{"$documents": docs}, {"$project": {"_id": 0, "i": 1, "e": document_rep("$d")}},
            {"$project": {"i": 1, "h": _hash("$e.r"), "x": "$e.x"}}]


@dataclass(frozen=True)
class Support:
    available: bool
    reason: str = ""           # why not, when not


def support(db: Database[Any], budget_s: float) -> Support:
    """Whether ``db``'s server computes sound digests: it must run the known-answer test and pass it."""
    try:
        rows = within(db, budget_s, lambda: list(db.aggregate(known_answer_pipeline())))
    except Exception as exc:  # an unknown operator or stage only disables the fast path
        return Support(False, f"the server cannot run the digest ({str(exc).split(', full error')[0][:160]})")
    return judge_known_answers(rows)


def judge_known_answers(rows: list[dict[str, Any]]) -> Support:
    pairs: dict[int, list[Any]] = {}
    for row in rows:
        pairs.setdefault(int(row["i"]), []).append((row["h"], row["x"]))
    for i, (what, _, _, equal) in enumerate(KNOWN):
        got = pairs.get(i, [])
        if len(got) != 2 or any(x for _, x in got):
            return Support(False, f"known-answer test '{what}': not digested")
        if (got[0][0] == got[1][0]) is not equal:
            return Support(False, f"known-answer test '{what}': digests {'differ' if equal else 'collide'}")
    return Support(True)
