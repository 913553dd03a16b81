"""cutover.data.content: `_id` keys, type-aware field diff, capped document diff, partitions (mongomock)."""
from __future__ import annotations

import math
from typing import Any

import bson
import mongomock
import pytest
from bson import ObjectId
from bson.int64 import Int64

from cutover.data import content
from cutover.data.content import Partition, diff_documents, field_differences, id_key, id_text


def raw(doc: dict[str, Any]) -> bytes:
    return bson.encode(doc)


@pytest.mark.parametrize("value", ["abc", "ünïcode", ObjectId(), 7, Int64(7), 1.5, {"a": 1}, True])
def test_id_key_round_trips_and_keeps_type(value: Any) -> None:
    key = id_key(raw({"_id": value, "x": 1}))
    assert key == bson.encode({"_id": value})[4:-1]
    assert id_text(key) == str(value)


def test_id_key_tells_int32_from_int64() -> None:
    assert id_key(raw({"_id": 7})) != id_key(raw({"_id": Int64(7)}))


def test_id_key_when_id_is_not_first() -> None:
    assert id_key(raw({"x": 1, "_id": "k"})) == bson.encode({"_id": "k"})[4:-1]


def test_field_order_is_not_a_difference() -> None:
    assert field_differences({"a": 1, "b": {"c": 2, "d": 3}}, {"b": {"d": 3, "c": 2}, "a": 1}) == []


@pytest.mark.parametrize(("left", "right"), [
    (Int64(5), 5.0),          # Long that became a Double
    (5, Int64(5)),            # int32 vs Int64
    (1, True),                # bool is not int
    ("5", 5),
])
def test_bson_type_change_is_a_difference(left: Any, right: Any) -> None:
    assert field_differences({"n": left}, {"n": right}) == ["n"]


def test_types_survive_a_bson_round_trip() -> None:
    a = bson.decode(raw({"n": Int64(5)}))
    b = bson.decode(raw({"n": 5.0}))
    assert field_differences(a, b) == ["n"]


def test_nested_paths_missing_fields_and_lists() -> None:
    a = {"s": {"w": {"tier": 1}}, "tags": ["a", "b"], "gone": 1, "l": [1, 2]}
    b = {"s": {"w": {"tier": 2}}, "tags": ["a", "c"], "new": 1, "l": [1]}
    assert field_differences(a, b) == ["gone", "l", "new", "s.w.tier", "tags.1"]


def test_nan_equals_nan() -> None:
    assert field_differences({"x": math.nan}, {"x": math.nan}) == []


def test_diff_lists_missing_extra_and_content_with_paths() -> None:
    source = [raw({"_id": "a", "n": Int64(1)}), raw({"_id": "b", "n": 1}), raw({"_id": "c", "v": {"x": 1, "y": 2}})]
    target = [raw({"_id": "a", "n": 1.0}), raw({"_id": "c", "v": {"y": 2, "x": 1}}), raw({"_id": "z"})]
    diff = diff_documents(source, target, "C", cap=10)
    assert (diff.missing, diff.extra, diff.content) == (("b",), ("z",), (("a", "n"),))
    assert (diff.source_docs, diff.target_docs, diff.ok) == (3, 3, False)
    assert "missingOnTarget 1: _id b" in diff.summary() and "_id a at n" in diff.summary()


def test_equal_partitions_are_ok() -> None:
    docs = [raw({"_id": i, "v": i}) for i in range(50)]
    diff = diff_documents(docs, list(reversed(docs)), "C", cap=10)
    assert diff.ok and diff.summary() == "C: equal"


def test_huge_mismatch_is_capped_with_exact_totals() -> None:
    source = [raw({"_id": i}) for i in range(5000)]
    diff = diff_documents(source, [raw({"_id": -1})], "C", cap=100)
    assert (len(diff.missing), diff.missing_total, diff.extra_total) == (100, 5000, 1)
    assert "(first 100 of each listed)" in diff.summary()
    assert len(diff.summary()) < 2000


def test_partition_filters_and_labels() -> None:
    only = Partition("C", 0, 1)
    first, mid, last = Partition("C", 0, 3, None, "k"), Partition("C", 1, 3, "k", "t"), Partition("C", 2, 3, "t")
    assert (only.filter(), only.label) == ({}, "C")
    assert first.filter() == {"_id": {"$not": {"$gte": "k"}}}
    assert mid.filter() == {"_id": {"$gte": "k", "$lt": "t"}} and mid.label == "C:p2of3"
    assert last.filter() == {"_id": {"$gte": "t"}}


def test_partitions_cover_every_document_once() -> None:
    db: Any = mongomock.MongoClient().db
    db.c.insert_many([{"_id": f"id{i:04d}"} for i in range(1000)])
    parts = content.partitions(db, "c", 1000, 300, 60)
    assert [p.label for p in parts] == ["c:p1of4", "c:p2of4", "c:p3of4", "c:p4of4"]
    assert [p.upper for p in parts[:3]] == ["id0300", "id0600", "id0900"]
    seen = [d["_id"] for p in parts for d in db.c.find(p.filter())]
    assert sorted(seen) == sorted(f"id{i:04d}" for i in range(1000)) and len(seen) == 1000


@pytest.mark.parametrize("ids", [
    [*range(30), *(f"s{i:03d}" for i in range(500)), *(ObjectId() for _ in range(7))],   # strings walked
    [*range(500), *(f"s{i:03d}" for i in range(40)), 2.5, Int64(700), *(ObjectId() for _ in range(3))],  # numbers
    [*(f"s{i:03d}" for i in range(120)), *(ObjectId() for _ in range(380))],   # the walk leaves its bracket early
], ids=["strings", "numbers", "bracket-ends"])
def test_mixed_id_types_land_in_exactly_one_partition(ids: list[Any]) -> None:
    db: Any = mongomock.MongoClient().db
    db.c.insert_many([{"_id": i} for i in ids])
    parts = content.partitions(db, "c", len(ids), 100, 60)
    seen = [d["_id"] for p in parts for d in db.c.find(p.filter())]
    assert len(parts) > 1 and len(seen) == len(ids) and set(map(repr, seen)) == set(map(repr, ids))


class Walked:
    """A collection of sorted string `_id`s that counts the index entries each query reads (its skip + 1)."""

    def __init__(self, n: int) -> None:
        self.ids, self.read, self.read_preference = [f"id{i:06d}" for i in range(n)], 0, None
        self.query: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Walked:
        return self

    def command(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return {"ok": 1}

    def find(self, filt: dict[str, Any], projection: Any) -> Walked:
        self.query = filt
        return self

    def sort(self, *args: Any) -> Walked:
        return self

    def skip(self, n: int) -> Walked:
        self.skipped = n
        return self

    def limit(self, n: int) -> list[dict[str, Any]]:
        lower = self.query.get("_id", {}).get("$gte", "")
        rest = [i for i in self.ids if i >= lower][self.skipped:self.skipped + 1]
        self.read += self.skipped + 1
        return [{"_id": i} for i in rest]


def test_boundaries_walk_from_the_previous_one_reading_each_entry_once() -> None:
    coll = Walked(100_000)
    points = content.boundaries(coll, "c", 100_000, 1000, 60)  # type: ignore[arg-type]
    assert points == [f"id{i:06d}" for i in range(1000, 100_000, 1000)]
    assert coll.read <= 100_000     # skipping from the start each time: 1000 x (1 + ... + 99) = 4,950,000


def test_listings_are_in_id_order_whatever_order_the_documents_came_in() -> None:
    ids = ["k", "b", "x", "a", "m", "c", "z", "e"]
    source = [bson.encode({"_id": i, "v": 1}) for i in ids]
    target = [bson.encode({"_id": i, "v": 2}) for i in reversed(ids)]
    extra = [bson.encode({"_id": f"n{i}"}) for i in ids]
    for order in (1, -1):
        diff = diff_documents(source[::order], target[::order] + extra[::order], "Post", cap=3)
        assert diff.content == (("a", "v"), ("b", "v"), ("c", "v")) and diff.content_total == 8
        assert diff.extra == ("na", "nb", "nc") and diff.extra_total == 8
    missing = diff_documents(source, [], "Post", cap=2)
    assert missing.missing == ("a", "b") and missing.missing_total == 8
