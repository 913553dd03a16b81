"""DB-08's schema half: the target `_SCHEMA`'s field types against the source's, declared or implied."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from cutover.data import schema_types as st
from cutover.data.rest_reader import ClassSchema

SOURCE = {"_id": "GameScore", "objectId": "string", "score": "number", "player": "*Player", "avatar": "file",
          "likes": "relation<_User>"}


def _target(**changes: Any) -> dict[str, dict[str, str]]:
    doc = {**SOURCE, **changes}
    return st.target_types({"GameScore": {k: v for k, v in doc.items() if v is not None}})


def _compare(target: dict[str, dict[str, str]], **source: st.SourceTypes) -> st.SchemaTypes:
    declared = source or {"GameScore": st.declared("GameScore", {k: v for k, v in SOURCE.items() if k != "_id"})}
    return st.compare("the source's _SCHEMA", declared, target)


def test_equal_schemas_agree() -> None:
    found = _compare(_target())
    assert found.ok and found.compared == ("GameScore",) and not found.left_out


def test_a_changed_type_is_named_with_both_sides() -> None:
    found = _compare(_target(score="string", player="*Other"))
    assert [d.describe() for d in found.differences] == [
        "GameScore.player: target _SCHEMA *Other, source *Player",
        "GameScore.score: target _SCHEMA string, source number"]


def test_a_field_the_target_lacks_fails_one_only_the_target_declares_does_not() -> None:
    found = _compare(_target(avatar=None, nickname="string"))
    assert [d.as_fact() for d in found.differences] == [
        {"class": "GameScore", "field": "avatar", "source": "file", "target": st.NOT_DECLARED}]
    assert found.target_only == ("GameScore.nickname (string)",)


def test_only_classes_both_sides_declare_are_compared() -> None:
    """A `_SCHEMA` class the source lacks (cutover_testing's schema_class_without_collection) is DB-07's."""
    target = {**_target(), "Achievement": {"title": "string"}}
    found = _compare(target)
    assert found.ok and found.compared == ("GameScore",) and found.left_out == ("Achievement",)


def test_probes_are_left_out_by_the_caller_s_filter() -> None:
    target = {**_target(), "CutoverProbe": {"cutoverRun": "string"}}
    found = st.compare("x", {"CutoverProbe": st.SourceTypes("CutoverProbe", {"cutoverRun": frozenset({"number"})})},
                       target, lambda names: sorted(n for n in names if n != "CutoverProbe"))
    assert found.ok and not found.compared and found.left_out == ("GameScore",)


def test_a_rest_source_s_defaults_match_a_target_that_omits_them() -> None:
    """/schemas injects Parse's default columns (_User.emailVerified...); a `_SCHEMA` may lack them."""
    rest = ClassSchema("_User", {"objectId": {"type": "String"}, "ACL": {"type": "ACL"},
                                 "username": {"type": "String"}, "emailVerified": {"type": "Boolean"},
                                 "password": {"type": "String"}, "authData": {"type": "Object"},
                                 "nickname": {"type": "String"}})
    target = st.target_types({"_User": {"_id": "_User", "nickname": "string", "password": "string"}})
    found = st.compare("/schemas", {"_User": st._from_rest(rest)}, target)
    assert found.ok, found.differences
    assert st.declares_types(rest) and not st.declares_types(ClassSchema("Post", {"likes": {"type": "Relation"}}))


def test_types_implied_by_objects() -> None:
    docs = [{"_id": "a", "_created_at": datetime(2024, 1, 1), "score": 3, "name": "x", "loc": [1.0, 2.0],
             "_p_player": "Player$p1", "_rperm": ["*"], "tags": [1, 2], "note": None},
            {"_id": "b", "score": 4.5, "name": "y", "loc": [3.0, 4.0], "tags": [1, 2, 3], "mixed": "s"},
            {"_id": "c", "mixed": 5}]
    implied = st.implied_types("GameScore", docs)
    assert implied.implied and implied.fields == {
        "score": {"number"}, "name": {"string", "file"}, "loc": {"array", "geopoint"}, "player": {"*Player"},
        "tags": {"array"}, "mixed": {"string", "file", "number"}}


def test_implied_types_accept_any_type_the_objects_allow_and_nothing_else() -> None:
    implied = {"GameScore": st.implied_types("GameScore", [{"avatar": "f_a.png", "score": 1, "_p_player": "Player$1"}])}
    assert st.compare("objects", implied, _target()).ok      # avatar: a file is a bare name
    found = st.compare("objects", implied, _target(score="string"))
    assert [d.describe() for d in found.differences] == ["GameScore.score: target _SCHEMA string, source number"]
    assert not found.target_only     # implied types never list what the target declares beyond them
