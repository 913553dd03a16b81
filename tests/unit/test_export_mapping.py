"""An export's objects mapped to storage form and judged: `_User`'s fields both ways (a hash compared), what cannot
be mapped an error naming file, object and field, Parse Server's internal classes left out and said so."""
from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import mongomock
import pytest

from cutover.data import internal_classes, inventory, user_fields
from cutover.data.content import Partition
from cutover.data.export_reader import ExportReader
from cutover.data.facade import DataFacade
from cutover.data.rest_storage import to_storage
from cutover.data.source_compare import JoinPartition, compare_join, diff_objects
from cutover.data.sources import ExportSource
from cutover.errors import CouldNotVerify, UnexpectedAnswer
from cutover.model import Database, Source, Target

HASH = "$2a$10$mouAo5ZyzqWsowxbYCgkZMouGB3ox/IFiHnZtxTgc08TsUEVuBuLw"


def export(tmp_path: Path, **files: list[dict[str, Any]]) -> Path:
    tmp_path.mkdir(exist_ok=True)
    for name, objects in files.items():
        (tmp_path / f"{name.replace('__', ':')}.json").write_text(json.dumps({"results": objects}), encoding="utf-8")
    return tmp_path


def test_user_fields_map_to_storage_and_back() -> None:
    exported = {"objectId": "u1", "username": "ada", "bcryptPassword": HASH, "sessionToken": "r:tok",
                "authData": {"facebook": {"id": "7"}, "twitter": None}}
    stored = to_storage("_User", exported, {})
    assert stored == {"_id": "u1", "username": "ada", "_hashed_password": HASH, "_session_token": "r:tok",
                      "_auth_data_facebook": {"id": "7"}}
    back = {key: user_fields.source_name(key) for key in stored}
    assert back == {"_id": None, "username": None, "_hashed_password": "bcryptPassword",
                    "_session_token": "sessionToken", "_auth_data_facebook": "authData.facebook"}
    assert user_fields.describe("_User", "_auth_data_facebook.id") == \
        "_auth_data_facebook.id (authData.facebook in the source)"
    assert user_fields.describe("Post", "_hashed_password") == "_hashed_password"
    assert to_storage("Post", {"bcryptPassword": "x"}, {}) == {"bcryptPassword": "x"}   # only `_User`'s


def test_an_exported_hash_is_compared_and_a_missing_one_is_only_checked_for_presence() -> None:
    source = [{"_id": "a", "username": "ada", "_hashed_password": HASH, "_session_token": "t"},
              {"_id": "b", "username": "bob"}, {"_id": "c", "username": "cy"}]
    target = {"a": {"_id": "a", "username": "ada", "_hashed_password": HASH[:-1] + "X", "_session_token": "t"},
              "b": {"_id": "b", "username": "bob", "_hashed_password": "$2b$10$other"},
              "c": {"_id": "c", "username": "cy"}}
    diff = diff_objects("_User", source, {k: dict(v) for k, v in target.items()}, "_User", 10, "export")
    assert dict(diff.content) == {
        "a": "_hashed_password (bcryptPassword in the source)",
        "c": "_hashed_password (absent on the target, and no authData; the source does not show the hash)"}
    same = {"a": {**target["a"], "_hashed_password": HASH}, "b": target["b"],
            "c": {**target["c"], "_hashed_password": "h"}}
    assert diff_objects("_User", source, same, "_User", 10, "export").ok


def test_what_the_export_carries_is_verifiable_and_the_rest_is_said_not_to_be(tmp_path: Path) -> None:
    with_hash = ExportReader(export(tmp_path / "a", _User=[{"objectId": "u", "bcryptPassword": HASH}]))
    without = ExportReader(export(tmp_path / "b", _User=[{"objectId": "u"}]))
    try:
        assert "_hashed_password" not in with_hash.not_verifiable("_User")
        assert {"_hashed_password", "_session_token"} <= set(without.not_verifiable("_User"))
        assert without.not_verifiable("Post") == []
    finally:
        with_hash.close()
        without.close()


@pytest.mark.parametrize(("obj", "field", "said"), [
    ({"when": {"__type": "Moment", "iso": "2014-01-01"}}, "when", "unknown __type 'Moment'"),
    ({"when": {"__type": "Date", "iso": "last tuesday"}}, "when", "not an ISO 8601 string"),
    ({"createdAt": 1391212800}, "createdAt", "not an ISO 8601 string"),
    ({"author": {"__type": "Pointer", "className": "_User"}}, "author", "objectId is None"),
    ({"list": [1, {"__type": "Pointer", "objectId": "x"}]}, r"list\[1\]", "className is None"),
    ({"meta": {"at": {"__type": "Date"}}}, "meta.at", "not an ISO 8601 string"),
    ({"where": {"__type": "GeoPoint", "latitude": "46.2", "longitude": 6}}, "where", "latitude is '46.2'"),
    ({"blob": {"__type": "Bytes", "base64": "not base64!"}}, "blob", "base64 does not decode"),
    ({"pic": {"__type": "File", "url": "http://files.parsetfss.com/k/n"}}, "pic", "name is None"),
    ({"tags": {"__type": "Relation"}}, "tags", "a Relation without a className"),
    ({"ACL": {"*": "read"}}, r"ACL\.\*", "expected"),
    ({"bcryptPassword": 12}, "bcryptPassword", "expected a String"),
    ({"authData": {"face book": {"id": "1"}}}, "authData.face book", "provider name"),
    ({"authData": ["facebook"]}, "authData", "expected an object of providers"),
])
def test_what_cannot_be_mapped_is_an_error_naming_file_object_and_field(tmp_path: Path, obj: dict[str, Any],
                                                                       field: str, said: str) -> None:
    reader = ExportReader(export(tmp_path, _User=[{"objectId": "ok1"}, {"objectId": "bad7", **obj}]))
    with pytest.raises(UnexpectedAnswer, match=rf"^export file _User\.json: object bad7: field {field}: .*{said}"):
        list(reader.documents("_User", None, None))
    reader.close()


def test_an_object_without_objectid_or_a_row_without_owningid_is_an_error_naming_it(tmp_path: Path) -> None:
    reader = ExportReader(export(tmp_path, Post=[{"objectId": "p1"}, {"title": "no id"}],
                                 _Join__likes__Post=[{"owningId": "p1", "relatedId": "u"},
                                                     {"objectId": "65a1b2", "relatedId": "u"}]))
    with pytest.raises(UnexpectedAnswer, match=r"export file Post\.json: object #2: field objectId is None"):
        list(reader.documents("Post", None, None))
    with pytest.raises(UnexpectedAnswer, match=r"export file _Join:likes:Post\.json: relation row 65a1b2: field "
                                               "owningId is None"):
        list(reader.relation_rows("Post", "likes", ["p1"]))
    reader.close()


def test_an_object_exported_twice_is_an_error_naming_both_files(tmp_path: Path) -> None:
    (tmp_path / "Post.json").write_text('[{"objectId": "p1"}, {"objectId": "p2"}]')
    (tmp_path / "Post (1).json").write_text('[{"objectId": "p3"}, {"objectId": "p2"}]')
    reader = ExportReader(tmp_path)
    with pytest.raises(UnexpectedAnswer, match=r"export files Post\.json and Post \(1\)\.json: objectId p2 is "
                                               "exported twice in class Post"):
        list(reader.documents("Post", None, None))
    reader.close()


def facts(tmp_path: Path, db: Any, source_kind: str = "export") -> DataFacade:
    target = Target(name="t", source=Source(kind=source_kind, export_dir=str(tmp_path)),
                    database=Database(uri="mongodb://x/db"))
    return DataFacade(SimpleNamespace(target=target, target_db=db, source=ExportSource(tmp_path)))  # type: ignore


def test_internal_classes_are_never_missing_or_extra_and_what_was_left_out_is_said(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    export(tmp_path, Article=[{"objectId": "a"}], _PushStatus=[{"objectId": "p"}])
    db: Any = mongomock.MongoClient().db
    monkeypatch.setattr(inventory, "collections", lambda d: {n: inventory.CollectionInfo(n, "collection")
                                                             for n in d.list_collection_names()})
    db.Article.insert_one({"_id": "a"})
    db["_SCHEMA"].insert_many([{"_id": name} for name in ("Article", "_User", "_Role", "_Idempotency")])
    for name in ("_Idempotency", "_JobStatus", "_Hooks", "_GlobalConfig"):
        db[name].insert_one({"_id": "x"})
    data = facts(tmp_path, db)
    assert data.classes() == ["Article", "_Role", "_User"]      # DB-01: the two empty ones count 0 on both sides
    assert data.listed_classes("source") == data.listed_classes("target") == {"Article"}       # DB-07
    left = data.left_out_classes()
    assert left["internal_classes"]["source"] == ["_PushStatus"]
    assert left["internal_classes"]["target"] == ["_GlobalConfig", "_Hooks", "_Idempotency", "_JobStatus",
                                                  "_SCHEMA"]
    assert left["created_by_the_target_server"] == ["_Role", "_User"]
    assert "SchemaController.js volatileClasses" in left["internal_classes"]["list"]
    db["_User"].insert_one({"_id": "u"})          # a `_User` with objects is the app's: the source must name it
    assert facts(tmp_path, db).listed_classes("target") == {"Article", "_User"}


def test_left_out_names_only_the_internal_classes_present() -> None:
    assert internal_classes.left_out(["_User", "_Idempotency", "Post", "_Audience"]) == ["_Audience", "_Idempotency"]
    assert internal_classes.without_internal(["_User", "_SCHEMA", "Post"]) == {"_User", "Post"}


def test_relation_rows_an_export_does_not_hold_are_an_error_only_when_the_target_has_some(tmp_path: Path) -> None:
    """The Dashboard exports no relation rows: the target's rows of such a relation cannot be verified."""
    reader = ExportReader(export(tmp_path, Post=[{"objectId": "p1"}]))
    db: Any = mongomock.MongoClient().db
    unit = JoinPartition("likes", Partition("Post", 0, 1))
    assert compare_join(reader, db, unit, 10).ok                     # none on either side
    db["_Join:likes:Post"].insert_one({"owningId": "p1", "relatedId": "u1"})
    with pytest.raises(CouldNotVerify, match=r"holds no rows of relation Post\.likes .* the target's 1 rows cannot "
                                             "be verified"):
        compare_join(reader, db, unit, 10)
    (tmp_path / "_Join\uff1alikes\uff1aPost.json").write_text('{"results": []}')    # held, and empty: a finding
    held = ExportReader(tmp_path)
    assert compare_join(held, db, unit, 10).extra == ("owningId p1 relatedId u1",)
    held.close()
    reader.close()
