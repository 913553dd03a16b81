"""Discovery of file references: top-level bare names from _SCHEMA, nested File values anywhere."""
from __future__ import annotations

from typing import Any

import mongomock
import pytest

from cutover.files.integrity import only_fields
from cutover.files.refs import (
    FileField,
    FileRef,
    count_refs,
    file_fields,
    iter_all_refs,
    iter_class_refs,
    iter_field_refs,
    schema_file_fields,
)


def _file(name: str) -> dict[str, str]:
    return {"__type": "File", "name": name, "url": f"http://old/files/app/{name}"}


@pytest.fixture
def db() -> Any:
    database: Any = mongomock.MongoClient().db
    database["_SCHEMA"].insert_many([
        {"_id": "Post", "objectId": "string", "photo": "file", "cover": "file", "meta": "object",
         "gallery": "array", "plain": "object", "title": "string", "_metadata": {"indexes": {}}},
        {"_id": "Tag", "objectId": "string", "name": "string"},
    ])
    database["Post"].insert_many([
        {"_id": "p1", "photo": "a_photo.png", "meta": {"thumb": _file("a_thumb.png"), "n": 1},
         "gallery": [_file("g1.png"), {"deep": [_file("g2.png")]}], "plain": {"x": 1}},
        {"_id": "p2", "photo": "b_photo.png", "cover": None, "gallery": []},
        {"_id": "p3", "title": "no files"},
    ])
    database["Tag"].insert_one({"_id": "t1", "name": "x"})
    return database


def test_schema_file_fields_reads_file_and_container_types(db: Any) -> None:
    [post] = schema_file_fields(db)
    assert (post.cls, post.files, post.containers) == ("Post", ("cover", "photo"), ("gallery", "meta", "plain"))


def test_file_fields_keeps_only_containers_that_nest_a_file(db: Any) -> None:
    assert file_fields(db) == [
        FileField("Post", "cover", False), FileField("Post", "photo", False),
        FileField("Post", "gallery", True), FileField("Post", "meta", True),
    ]


def test_iter_field_refs_top_level_and_nested_paths(db: Any) -> None:
    assert list(iter_field_refs(db, FileField("Post", "photo", False))) == [
        FileRef("Post", "p1", "photo", "photo", "a_photo.png"),
        FileRef("Post", "p2", "photo", "photo", "b_photo.png"),
    ]
    gallery = list(iter_field_refs(db, FileField("Post", "gallery", True)))
    assert [(r.object_id, r.path, r.name) for r in gallery] == [
        ("p1", "gallery.0", "g1.png"), ("p1", "gallery.1.deep.0", "g2.png")]
    assert gallery[0].url == "http://old/files/app/g1.png"


def test_iter_all_refs_and_counts(db: Any) -> None:
    counts = count_refs(iter_all_refs(db))
    assert counts == {("Post", "photo"): 2, ("Post", "meta"): 1, ("Post", "gallery"): 2}


def test_streaming_reads_in_batches(db: Any) -> None:
    db["_SCHEMA"].insert_one({"_id": "Big", "f": "file"})
    db["Big"].insert_many([{"_id": f"b{i}", "f": f"n{i}.png"} for i in range(2500)])
    refs = iter_field_refs(db, FileField("Big", "f", False), batch_size=100)
    assert next(refs).name == "n0.png"
    assert sum(1 for _ in refs) == 2499


def test_a_class_is_read_only_for_the_fields_that_hold_files(db: Any) -> None:
    """FILE-01 leaves out an Object field that holds no file ('plain'): it no longer makes a document match."""
    db["Post"].insert_one({"_id": "p4", "plain": {"x": 2}})
    spec = only_fields(schema_file_fields(db)[0], {ff.field for ff in file_fields(db)})
    assert (spec.files, spec.containers) == (("cover", "photo"), ("gallery", "meta"))
    seen: list[str] = []
    real_find = db["Post"].find

    def spy(query: Any, projection: Any, **kwargs: Any) -> Any:
        seen.extend(sorted(projection))
        return real_find(query, projection, **kwargs)
    db["Post"].find = spy
    assert {r.object_id for r in iter_class_refs(db, spec)} == {"p1", "p2"}
    assert seen and "plain" not in seen
