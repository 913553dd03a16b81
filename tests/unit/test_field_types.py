"""The Parse field-type classifier (DB-08), both ways: every type in storage form and in REST form, each stored
value accepted by its own type and refused by the others (parse-server 9.10.0's MongoSchemaCollection.js and
MongoTransform.js are the reference for both forms)."""
from __future__ import annotations

from datetime import datetime

import pytest
from bson import Binary, Decimal128, Int64, ObjectId

from cutover.data import field_types as ft

# storage form -> REST form, one of each Parse type (pointers and relations name their class)
FORMS = {
    "string": {"type": "String"}, "number": {"type": "Number"}, "boolean": {"type": "Boolean"},
    "date": {"type": "Date"}, "object": {"type": "Object"}, "array": {"type": "Array"},
    "geopoint": {"type": "GeoPoint"}, "file": {"type": "File"}, "bytes": {"type": "Bytes"},
    "polygon": {"type": "Polygon"}, "*Player": {"type": "Pointer", "targetClass": "Player"},
    "relation<_User>": {"type": "Relation", "targetClass": "_User"},
}
# storage type -> (a stored value of it as Parse writes it, its BSON type name as $type gives it)
STORED = {
    "string": ("Mario", "string"), "number": (Int64(7), "long"), "boolean": (True, "bool"),
    "date": (datetime(2024, 1, 2), "date"), "object": ({"kills": 3}, "object"), "array": (["a", "b"], "array"),
    "geopoint": ([2.35, 48.85], "array"), "file": ("0123abcd_avatar.png", "string"),
    "bytes": (Binary(b"\x00\x01"), "binData"),
    "polygon": ({"type": "Polygon", "coordinates": [[[0, 0], [0, 1], [1, 1], [0, 0]]]}, "object"),
}


@pytest.mark.parametrize("stored", sorted(FORMS))
def test_each_type_maps_between_storage_and_rest_form(stored: str) -> None:
    assert ft.storage_type(FORMS[stored]) == stored
    assert ft.rest_type(stored) == FORMS[stored]


def test_acl_is_never_stored_and_map_is_an_old_object() -> None:
    assert ft.storage_type({"type": "ACL"}) is None
    assert ft.rest_type("map") == {"type": "Object"} and ft.normalized("map") == "object"
    assert ft.rest_fields({"ACL": {"type": "ACL"}, "score": {"type": "Number", "required": True}}) == {
        "score": "number"}


@pytest.mark.parametrize("stored", sorted(STORED))
def test_a_stored_value_is_accepted_by_its_own_type_and_refused_by_the_others(stored: str) -> None:
    value, bson_type = STORED[stored]
    assert ft.accepts(stored, bson_type)
    assert stored in ft.candidates("field", value)
    # a bare name is a string, a [lng, lat] pair an array, a GeoJSON polygon an object: storage cannot tell
    same_storage = {other for other, (_, kind) in STORED.items() if kind == bson_type}
    for other in set(STORED) - same_storage:
        assert not ft.accepts(other, bson_type), (stored, other)
    assert not ft.accepts("*Player", bson_type)


def test_every_number_type_is_a_number_and_nothing_else_is() -> None:
    assert all(ft.accepts("number", kind) for kind in ("double", "int", "long"))
    assert not any(ft.accepts("number", kind) for kind in ("decimal", "string", "bool", "date"))
    assert ft.candidates("n", 1.5) == {"number"} and ft.candidates("n", True) == {"boolean"}


def test_null_and_missing_fit_every_type() -> None:
    for stored in (*STORED, "*Player"):
        assert ft.accepts(stored, "null") and ft.accepts(stored, "missing")
    assert ft.candidates("score", None) == frozenset()


def test_a_pointer_is_its_class_prefix_under_the_p_key() -> None:
    assert ft.stored_key("player", "*Player") == "_p_player"
    assert ft.stored_key("likes", "relation<_User>") is None and ft.stored_key("score", "number") == "score"
    assert ft.accepts("*Player", ft.POINTER_OK)
    assert not ft.accepts("*Player", ft.POINTER_OTHER) and not ft.accepts("*Player", "string")
    assert ft.candidates("_p_player", "Player$x1") == {"*Player"}


def test_values_parse_has_no_type_for_are_named_by_their_bson_type() -> None:
    assert ft.found_type("objectId") == "BSON objectId" and ft.found_type("double") == "number"
    assert ft.found_type(ft.POINTER_OTHER) == ft.POINTER_OTHER
    assert ft.candidates("x", ObjectId("5f1d7f0c2f8fb814b56fa181")) == {"BSON ObjectId"}
    assert ft.candidates("x", Decimal128("1.5")) == {"BSON Decimal128"}


def test_implicit_fields_are_left_out_and_defaults_filled_in() -> None:
    stored = {"_id": "_User", "objectId": "string", "createdAt": "string", "updatedAt": "date",
              "password": "string", "authData": "object", "_hashed_password": "string", "nickname": "map",
              "_metadata": {"indexes": {}}}
    fields = ft.declared_fields("_User", ft.schema_document_fields(stored))
    assert fields == {"username": "string", "email": "string", "emailVerified": "boolean", "nickname": "object"}
    assert ft.declared_fields("_User", {"email": "number"})["email"] == "number"   # declared wins over default
