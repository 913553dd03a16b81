"""cutover.data.inventory: collections, views, `_SCHEMA` classes, exact counts, error translation."""
from __future__ import annotations

import time
from typing import Any

import mongomock
import pymongo
import pytest
from pymongo import errors as mongo_errors

from cutover.data import inventory
from cutover.errors import TargetTimeout, TargetUnreachable
from cutover.sandbox.process import free_port


def test_schema_classes_and_counts() -> None:
    db: Any = mongomock.MongoClient().db
    db.GameScore.insert_many([{"_id": str(i)} for i in range(3)])
    db["_SCHEMA"].insert_many([{"_id": "GameScore"}, {"_id": "_User"}])
    assert inventory.schema_classes(db) == ["GameScore", "_User"]
    assert (inventory.exact_count(db, "GameScore", 60), inventory.exact_count(db, "Nothing", 60)) == (3, 0)


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


def failing(db: Any, exc: Exception, after_s: float = 0.0) -> None:
    def count_documents(*args: Any, **kwargs: Any) -> int:
        time.sleep(after_s)
        raise exc
    db.GameScore.count_documents = count_documents


def test_a_count_that_outlives_its_budget_says_so_naming_class_budget_and_setting() -> None:
    db: Any = mongomock.MongoClient().db
    failing(db, mongo_errors.ExecutionTimeout("operation exceeded time limit", 50))
    with pytest.raises(TargetTimeout, match=r"counting GameScore: took longer than the operation budget of 7 s "
                                            r".*maxTimeMS.*raise .*scans\] aggregation_timeout_s"):
        inventory.exact_count(db, "GameScore", 7)
    failing(db, mongo_errors.NetworkTimeout("timed out"), after_s=0.06)    # the socket gave up with the budget
    with pytest.raises(TargetTimeout, match=r"budget of 0.06 s \(no answer before the budget ended: NetworkTimeout"):
        inventory.exact_count(db, "GameScore", 0.06)


def test_an_early_network_timeout_is_a_timeout_not_an_unreachable_database() -> None:
    db: Any = mongomock.MongoClient().db
    failing(db, mongo_errors.NetworkTimeout("127.0.0.1:1: timed out"))
    with pytest.raises(TargetTimeout, match=r"counting GameScore: the server did not answer in time \(NetworkTimeout"
                                            r".*socketTimeoutMS") as caught:
        inventory.exact_count(db, "GameScore", 60)
    assert "took longer" not in str(caught.value) and "unreachable" not in str(caught.value)


def test_unreachable_server_is_could_not_verify() -> None:
    client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(
        f"mongodb://127.0.0.1:{free_port()}/db", serverSelectionTimeoutMS=200, connectTimeoutMS=200)
    with pytest.raises(TargetUnreachable, match="counting GameScore"):
        inventory.exact_count(client.get_default_database(), "GameScore", 60)
