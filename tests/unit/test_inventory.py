"""cutover.data.inventory: collections, views, `_SCHEMA` classes, exact counts, error translation."""
from __future__ import annotations

from typing import Any

import mongomock
import pymongo
import pytest

from cutover.data import inventory
from cutover.errors import TargetUnreachable
from cutover.sandbox.process import free_port


def test_schema_classes_and_counts() -> None:
    db: Any = mongomock.MongoClient().db
    db.GameScore.insert_many([{"_id": str(i)} for i in range(3)])
    db["_SCHEMA"].insert_many([{"_id": "GameScore"}, {"_id": "_User"}])
    assert inventory.schema_classes(db) == ["GameScore", "_User"]
    assert (inventory.exact_count(db, "GameScore"), inventory.exact_count(db, "Nothing")) == (3, 0)


def test_compared_options_leave_out_copy_specific_ones() -> None:
    info = inventory.CollectionInfo("c", "collection", {"capped": True, "size": 4096, "uuid": "x", "idIndex": {}})
    assert info.compared_options == {"capped": True, "size": 4096}


def test_view_recognised_by_view_on() -> None:
    info = inventory.CollectionInfo("v", inventory._kind({"type": "collection", "options": {"viewOn": "c"}}),
                                    {"viewOn": "c", "pipeline": [{"$match": {}}]})
    assert info.kind == "view" and info.compared_options == {"viewOn": "c", "pipeline": [{"$match": {}}]}


@pytest.mark.parametrize(("name", "rest_countable"), [
    ("GameScore", True), ("_User", True), ("_SCHEMA", False), ("_Idempotency", False), ("fs.chunks", False),
    ("_Join:likes:Post", False),
])
def test_parse_classes(name: str, rest_countable: bool) -> None:
    assert inventory.is_parse_class(name) is rest_countable


def test_unreachable_server_is_could_not_verify() -> None:
    client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(
        f"mongodb://127.0.0.1:{free_port()}/db", serverSelectionTimeoutMS=200, connectTimeoutMS=200)
    with pytest.raises(TargetUnreachable, match="counting GameScore"):
        inventory.exact_count(client.get_default_database(), "GameScore")
