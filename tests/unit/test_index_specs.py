"""cutover.data.indexes: normalizing listIndexes across servers, comparing, Parse's own indexes, `_SCHEMA`."""
from __future__ import annotations

from typing import Any

import mongomock

from cutover.data import indexes
from cutover.data.indexes import compare, missing_required, normalize, schema_index_mismatches

REAL_42 = {"v": 2, "key": {"expire": 1}, "name": "ttl", "ns": "app._Idempotency", "background": True,
           "expireAfterSeconds": 0, "sparse": True}
MONGOECO = {"name": "ttl", "key": {"expire": 1}, "unique": False, "expireAfterSeconds": 0.0, "sparse": True,
            "ns": "app._Idempotency"}


def spec(name: str, key: dict[str, Any], **opts: Any) -> indexes.IndexSpec:
    return normalize({"name": name, "key": key, **opts})


def test_server_dialects_normalize_to_the_same_spec() -> None:
    assert normalize(REAL_42) == normalize(MONGOECO)
    assert normalize(REAL_42).options == {"expireAfterSeconds": 0, "sparse": True}


def test_id_index_unique_flag_and_collation_version_are_ignored() -> None:
    assert normalize({"name": "_id_", "key": {"_id": 1}, "unique": True}) == spec("_id_", {"_id": 1})
    a = spec("ci", {"u": 1}, collation={"locale": "en_US", "strength": 2, "version": "57.1"})
    b = spec("ci", {"u": 1}, collation={"locale": "en_US", "strength": 2})
    assert a == b


def test_text_index_versions_are_ignored_but_weights_kept() -> None:
    a = spec("t", {"_fts": "text", "_ftsx": 1}, weights={"body": 1}, textIndexVersion=3)
    b = spec("t", {"_fts": "text", "_ftsx": 1}, weights={"body": 1})
    assert a == b and a.options == {"weights": {"body": 1}, "default_language": "english",
                                    "language_override": "language"}


def test_compare_reports_missing_different_and_extra() -> None:
    src = [spec("_id_", {"_id": 1}), spec("a_1", {"a": 1}),
           spec("ci", {"n": 1}, collation={"locale": "en", "strength": 2}),
           spec("ttl", {"e": 1}, expireAfterSeconds=604800)]
    dst = [spec("_id_", {"_id": 1}), spec("ci", {"n": 1}, collation={"locale": "en", "strength": 3}),
           spec("ttl", {"e": 1}, expireAfterSeconds=3600), spec("z_1", {"z": 1})]
    result = compare("C", src, dst)
    assert result.missing == ("a_1 {a: 1}",)
    assert [d.split(" vs ")[0] for d in result.different] == [
        'source ci {n: 1}, collation={"locale": "en", "strength": 2}', "source ttl {e: 1}, expireAfterSeconds=604800"]
    assert result.extra == ("z_1 {z: 1}",) and not result.ok


def test_key_order_matters_and_renamed_index_is_present() -> None:
    src = [spec("ab", {"a": 1, "b": -1})]
    assert compare("C", src, [spec("other_name", {"a": 1, "b": -1})]).ok
    assert not compare("C", src, [spec("ba", {"b": -1, "a": 1})]).ok


def test_parse_required_indexes() -> None:
    ok = [spec("username_1", {"username": 1}, unique=True, sparse=True),
          spec("case_insensitive_username", {"username": 1}, sparse=True, collation={"locale": "en_US", "strength": 2}),
          spec("email_1", {"email": 1}, unique=True, sparse=True),
          spec("case_insensitive_email", {"email": 1}, sparse=True, collation={"locale": "en_US", "strength": 2})]
    assert missing_required("_User", ok) == []
    assert missing_required("_User", ok[:1] + ok[2:]) == ["username case-insensitive"]
    assert missing_required("_Idempotency", [spec("reqId_1", {"reqId": 1}, unique=True)]) == ["expire TTL"]
    assert missing_required("GameScore", []) == []


def test_schema_metadata_indexes_must_exist_with_their_key() -> None:
    specs = [spec("_id_", {"_id": 1}), spec("score_1", {"score": 1})]
    doc = {"_id": "C", "_metadata": {"indexes": {"_id_": {"_id": 1}, "score_1": {"score": -1}, "ghost": {"g": 1}}}}
    assert schema_index_mismatches(doc, specs) == [
        '_SCHEMA declares score_1 {"score": -1}, index has {"score": 1}',
        '_SCHEMA declares ghost {"g": 1}, no such index']
    assert schema_index_mismatches(None, specs) == []


def test_list_indexes_reads_the_server() -> None:
    db: Any = mongomock.MongoClient().db
    db.c.create_index([("a", 1), ("b", -1)], name="ab", unique=True)
    assert spec("ab", {"a": 1, "b": -1}, unique=True) in indexes.list_indexes(db, "c")
