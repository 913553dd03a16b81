"""cutover.data.digest over the wire: the sandbox's mongoeco server, or a real MongoDB (CUTOVER_TEST_MONGODB_URI).

On every server the representation (the part before the hash) is computed by the server itself and must tell
apart every case of the known-answer test. Only a real MongoDB has ``$toHashedIndexKey`` (and db-level
``$documents``): there the digest must be available, equal on equal partitions and different after a planted
defect; on the stand-in it must be reported unavailable, with the reason, so DB-02 streams.
"""
from __future__ import annotations

import math
import os
import secrets
import time
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

import pytest
from bson.int64 import Int64

from cutover.data import content, digest
from cutover.data.digest import KNOWN
from cutover.data.pace import Pace

pytestmark = pytest.mark.sandbox
REAL = bool(os.environ.get("CUTOVER_TEST_MONGODB_URI"))
# mongoeco 4.11.0's $type answers "int" for an Int64 (it keeps small Int64s as Python ints); a real server
# answers "long". The stand-in cannot show that the representation tells Int32 from Int64 (it never digests).
STAND_IN_TYPE_GAP = {"Int32 vs Int64"}


@pytest.fixture(scope="module")
def dbs(wire: Any) -> Iterator[tuple[Any, Any]]:
    names = [f"digest_{secrets.token_hex(3)}_{side}" for side in ("src", "dst")]
    pair = (wire[names[0]], wire[names[1]])
    docs = [{"_id": f"k{i:04d}", "n": Int64(i), "score": i * 1.1, "tags": ["a", str(i)],
             "acl": {"u1": {"r": True, "w": i % 2 == 0}}} for i in range(200)]
    for db in pair:
        db.C.insert_many(docs)
        db.K.insert_many([{"_id": f"{i}{side}", "d": doc}
                          for i, (_, a, b, _) in enumerate(KNOWN) for side, doc in (("a", a), ("b", b))])
    yield pair
    for name in names:
        wire.drop_database(name)


def test_the_server_computes_a_representation_that_tells_the_known_cases_apart(dbs: tuple[Any, Any]) -> None:
    src, _ = dbs
    rows = {r["_id"]: r["e"] for r in src.K.aggregate([{"$project": {"e": digest.document_rep("$d")}}])}
    wrong = []
    for i, (what, _, _, equal) in enumerate(KNOWN):
        a, b = rows[f"{i}a"], rows[f"{i}b"]
        if a["x"] or b["x"] or (a == b) is not equal:
            wrong.append(what)
    assert wrong == ([] if REAL else sorted(STAND_IN_TYPE_GAP)), wrong


def _doubles(rep: Any) -> Iterator[list[Any]]:
    if isinstance(rep, list) and len(rep) == 3 and rep[0] == "double":
        yield rep
    elif isinstance(rep, list):
        for item in rep:
            yield from _doubles(item)


@pytest.mark.parametrize("value", [1.1, 0.1 + 0.2, 5e-324, 1.7976931348623157e308, -2.5e-300, 123456.789])
def test_doubles_come_back_scaled_exactly(dbs: tuple[Any, Any], value: float) -> None:
    src, _ = dbs
    src.D.delete_many({})
    src.D.insert_one({"_id": 1, "v": value})
    try:
        row = next(src.D.aggregate(digest.rep_pipeline({})))
        (_, k, s), = list(_doubles(row["e"]["r"]))
        assert Fraction(int(s)) / Fraction(2) ** int(k) == Fraction(value)
    finally:
        src.D.drop()


def test_too_deep_documents_are_undigestable(dbs: tuple[Any, Any]) -> None:
    src, _ = dbs
    deep: dict[str, Any] = {"leaf": 1}
    for _ in range(digest.MAX_DEPTH + 1):
        deep = {"d": deep}
    src.D.insert_one({"_id": 1, **deep})
    try:
        assert next(src.D.aggregate(digest.rep_pipeline({})))["e"]["x"] == 1
    finally:
        src.D.drop()


def test_support_is_measured_not_assumed(dbs: tuple[Any, Any]) -> None:
    src, _ = dbs
    found = digest.support(src, 60)
    if REAL:
        assert found.available, found.reason
    else:
        assert not found.available and "cannot run the digest" in found.reason


@pytest.mark.skipif(not REAL, reason="needs $toHashedIndexKey: a real MongoDB (CUTOVER_TEST_MONGODB_URI)")
def test_partition_digests_equal_then_differ_on_a_planted_type_change(dbs: tuple[Any, Any]) -> None:
    src, dst = dbs
    parts = content.partitions(src, "C", 200, 80, 60)
    before = [(digest.partition_digest(src, "C", p.filter(), 60), digest.partition_digest(dst, "C", p.filter(), 60))
              for p in parts]
    assert all(a.matches(b) and a.docs == b.docs for a, b in before) and sum(a.docs for a, _ in before) == 200
    dst.C.update_one({"_id": "k0100"}, {"$set": {"n": 100.0}})          # Int64 -> Double
    dst.C.update_one({"_id": "k0010"}, {"$set": {"score": math.nextafter(11.0, 12.0)}})
    try:
        after = [digest.partition_digest(dst, "C", p.filter(), 60) for p in parts]
        changed = [p.label for p, (a, _), b in zip(parts, before, after, strict=True) if not a.matches(b)]
        assert changed == ["C:p1of3", "C:p2of3"]
    finally:
        dst.C.update_one({"_id": "k0100"}, {"$set": {"n": Int64(100)}})
        dst.C.update_one({"_id": "k0010"}, {"$set": {"score": 10 * 1.1}})


def test_a_paced_stream_stays_under_the_cap(dbs: tuple[Any, Any]) -> None:
    src, _ = dbs
    cap = 400
    started = time.monotonic()
    n = sum(1 for _ in content.raw_documents(src.C, {}, Pace(cap)))
    elapsed = time.monotonic() - started
    assert n == 200 and n / elapsed <= cap, f"{n / elapsed:.0f} documents/s, cap {cap}"
