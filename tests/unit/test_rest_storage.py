"""The REST -> storage mapping (parse-server 9.10.0 MongoTransform) and the REST comparison form."""
from __future__ import annotations

from datetime import datetime

from bson import Int64

from cutover.data.content import field_differences
from cutover.data.rest_storage import acl_fields, comparable, equivalent, to_storage
from cutover.data.source_compare import diff_objects

FIELDS = {"likes": {"type": "Relation", "targetClass": "_User"}, "player": {"type": "Pointer"}}


def test_every_parse_type_maps_to_its_storage_form() -> None:
    rest = {
        "objectId": "a1", "createdAt": "2023-01-02T03:04:05.678Z", "updatedAt": "2023-01-03T00:00:00.000Z",
        "when": {"__type": "Date", "iso": "2024-05-06T07:08:09.010Z"},
        "player": {"__type": "Pointer", "className": "Player", "objectId": "p9"},
        "avatar": {"__type": "File", "name": "abc_avatar.png", "url": "http://x/files/app/abc_avatar.png"},
        "where": {"__type": "GeoPoint", "latitude": 48.5, "longitude": 2.25},
        "blob": {"__type": "Bytes", "base64": "AQID"},
        "area": {"__type": "Polygon", "coordinates": [[0, 0], [0, 1], [1, 1]]},
        "likes": {"__type": "Relation", "className": "_User"},
        "stats": {"at": {"__type": "Date", "iso": "2024-01-01T00:00:00.000Z"}, "b": {"__type": "Bytes",
                                                                                   "base64": "AA=="}},
        "files": [{"__type": "File", "name": "n", "url": "u"}], "n": 5, "x": 1.5, "flag": True, "none": None,
        "ACL": {"*": {"read": True}, "u1": {"read": True, "write": True}},
    }
    stored = to_storage("GameScore", rest, FIELDS)
    assert stored == {
        "_id": "a1", "_created_at": datetime(2023, 1, 2, 3, 4, 5, 678000), "_updated_at": datetime(2023, 1, 3),
        "when": datetime(2024, 5, 6, 7, 8, 9, 10000), "_p_player": "Player$p9", "avatar": "abc_avatar.png",
        "where": [2.25, 48.5], "blob": b"\x01\x02\x03",
        "area": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]},
        "stats": {"at": datetime(2024, 1, 1), "b": b"\x00"},
        "files": [{"__type": "File", "name": "n", "url": "u"}], "n": 5, "x": 1.5, "flag": True, "none": None,
        "_rperm": ["*", "u1"], "_wperm": ["u1"], "_acl": {"*": {"r": True}, "u1": {"r": True, "w": True}},
    }


def test_user_auth_data_and_session_token_map_to_their_storage_fields() -> None:
    rest = {"objectId": "u1", "authData": {"facebook": {"id": "7"}}, "sessionToken": "r:abc", "username": "a"}
    assert to_storage("_User", rest, {}) == {"_id": "u1", "_auth_data_facebook": {"id": "7"},
                                             "_session_token": "r:abc", "username": "a"}


def test_an_empty_acl_keeps_empty_permission_lists() -> None:
    assert acl_fields({}) == {"_rperm": [], "_wperm": [], "_acl": {}}


def test_json_cannot_tell_number_types_apart_but_a_string_or_bool_still_differs() -> None:
    stored = {"a": Int64(5), "b": 2.0, "c": 1.5, "d": [Int64(1)]}
    assert not field_differences(comparable("C", {"a": 5, "b": 2, "c": 1.5, "d": [1]}), comparable("C", stored))
    assert field_differences(comparable("C", {"a": 5}), comparable("C", {"a": "5"})) == ["a"]
    assert field_differences(comparable("C", {"a": 1}), comparable("C", {"a": True})) == ["a"]
    assert field_differences(comparable("C", {"a": 1.5}), comparable("C", {"a": 1.25})) == ["a"]
    when = to_storage("C", {"d": {"__type": "Date", "iso": "2024-01-01T00:00:00.000Z"}}, {})
    assert field_differences(comparable("C", when), comparable("C", {"d": "2024-01-01T00:00:00.000Z"})) == ["d"]


def test_permission_order_does_not_count_and_hidden_user_fields_are_not_compared() -> None:
    ours = {"_rperm": ["*", "u"], "username": "a"}
    theirs = {"_rperm": ["u", "*"], "username": "a", "_hashed_password": "$2b$..", "_email_verify_token": "t"}
    assert not field_differences(comparable("_User", ours), comparable("_User", theirs))
    assert field_differences(comparable("Post", ours), comparable("Post", {**theirs, "_rperm": ["u"]}))


def test_diff_names_missing_extra_changed_objects_and_a_user_that_cannot_log_in() -> None:
    source = [{"_id": "a", "v": 1}, {"_id": "b", "v": 2}, {"_id": "u", "username": "x"}]
    hashed = {"_hashed_password": "$2b$.."}
    target = {"a": {"_id": "a", "v": 1, **hashed}, "b": {"_id": "b", "v": "2", **hashed}, "z": {"_id": "z"},
              "u": {"_id": "u", "username": "x"}}
    diff = diff_objects("_User", source, target, "_User", 10, "rest")
    assert (diff.missing, diff.extra) == ((), ("z",))
    assert dict(diff.content)["b"] == "v"
    assert "_hashed_password" in dict(diff.content)["u"]
    assert diff_objects("C", [{"_id": "a"}], {}, "C", 10, "rest").missing == ("a",)


def test_the_fast_equivalence_agrees_with_the_comparison_form() -> None:
    base = {"_id": "a", "n": Int64(3), "f": 2.0, "x": 1.5, "s": "t", "b": True, "d": datetime(2024, 1, 1),
            "o": {"k": [1, {"z": None}]}, "_rperm": ["*", "u"], "bin": b"\x01"}
    variants = [{}, {"n": 3}, {"n": "3"}, {"f": 2}, {"x": 1.25}, {"b": 1}, {"d": "2024-01-01"}, {"o": {"k": [1]}},
                {"o": {"k": [1, {"z": 0}]}}, {"_rperm": ["u", "*"]}, {"_rperm": ["u"]}, {"bin": b"\x02"},
                {"extra": 1}, {"_hashed_password": "h"}, {"nan": float("nan")}]
    for change in variants:
        other = {**base, **change}
        for cls in ("C", "_User"):
            slow = not field_differences(comparable(cls, base), comparable(cls, other))
            assert equivalent(cls, base, other) is slow, (cls, change)
            assert equivalent(cls, other, other) is not (change == {"nan": 0})
