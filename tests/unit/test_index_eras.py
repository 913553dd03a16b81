"""DB-03 and DB-07 across eras: an mLab-era source (MongoDB 3.6/4.0) and a 7.0/8.0 target list the same indexes and
collections differently (v:1 vs v:2, ns, text and 2dsphere versions, collation short or full, numbers as doubles,
time-series bucketing); they agree. A real difference planted on the target still fails, naming the index."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from cutover.data import indexes, inventory, normal_form
from cutover.run import catalogue
from tests.reply_corpus import Reply, one

PAIRS = [("3.6", "8.0"), ("3.6", "7.0"), ("4.0", "8.0"), ("4.0", "7.0"), ("3.6", "4.4")]
CLASSES = {"listIndexes_user": "_User", "listIndexes_idempotency": "_Idempotency",
           "listIndexes_gamescore": "GameScore"}


def specs(reply: Reply, batch: list[dict[str, Any]] | None = None) -> list[indexes.IndexSpec]:
    return [indexes.normalize(spec, reply.server) for spec in (batch or reply.batch())]


@pytest.mark.parametrize("name", sorted(CLASSES))
@pytest.mark.parametrize(("source", "target"), PAIRS, ids=[f"{s}-to-{t}" for s, t in PAIRS])
def test_the_same_indexes_listed_by_two_eras_agree(source: str, target: str, name: str) -> None:
    old, new = one(source, name), one(target, name)
    result = indexes.compare(CLASSES[name], specs(old), specs(new))
    assert (result.missing, result.different, result.extra) == ((), (), ())
    assert indexes.missing_required(CLASSES[name], specs(old)) == []     # Parse's own indexes, as 3.6 lists them


def _set(index: str, **changes: Any) -> Callable[[dict[str, Any]], None]:
    def change(spec: dict[str, Any]) -> None:
        if spec["name"] == index:
            for key, value in changes.items():
                if value is None:
                    spec.pop(key, None)
                else:
                    spec[key] = value
    return change


PLANTED = [
    ("listIndexes_user", "username_1", _set("username_1", unique=None), "unique lost"),
    ("listIndexes_user", "email_1", _set("email_1", sparse=None), "sparse lost"),
    ("listIndexes_user", "case_insensitive_username",
     _set("case_insensitive_username", collation={**normal_form.COLLATION_DEFAULTS, "locale": "en_US", "strength": 3,
                                                  "version": "57.1"}), "collation strength 2 -> 3"),
    ("listIndexes_user", "case_insensitive_email", _set("case_insensitive_email", collation=None),
     "collation lost"),
    ("listIndexes_idempotency", "ttl", _set("ttl", expireAfterSeconds=3600), "TTL 0 -> 3600 s"),
    ("listIndexes_idempotency", "ttl", _set("ttl", expireAfterSeconds=None), "TTL lost"),
    ("listIndexes_gamescore", "cheaters_by_score",
     _set("cheaters_by_score", partialFilterExpression={"cheatMode": True}), "partial filter narrowed"),
    ("listIndexes_gamescore", "player_score", _set("player_score", key={"score": -1, "playerName": 1}),
     "key order lost"),
    ("listIndexes_gamescore", "player_score", _set("player_score", key={"playerName": 1, "score": 1}),
     "direction lost"),
    ("listIndexes_gamescore", "title_text", _set("title_text", weights={"title": 1, "tags": 1}), "weights lost"),
    ("listIndexes_gamescore", "title_text", _set("title_text", default_language="none"), "language changed"),
    ("listIndexes_gamescore", "playerName_hashed", _set("playerName_hashed", key={"playerName": 1}),
     "hashed became ascending"),
]


@pytest.mark.parametrize(("name", "index", "change", "what"), PLANTED, ids=[p[3] for p in PLANTED])
@pytest.mark.parametrize(("source", "target"), [("3.6", "8.0"), ("4.0", "7.0")], ids=["3.6-to-8.0", "4.0-to-7.0"])
def test_a_real_difference_still_fails_naming_the_index(source: str, target: str, name: str, index: str,
                                                        change: Callable[[dict[str, Any]], None], what: str) -> None:
    new = one(target, name)
    batch = new.batch()
    for spec in batch:
        change(spec)
    result = indexes.compare(CLASSES[name], specs(one(source, name)), specs(new, batch))
    assert not result.ok, what
    named = [s.name for s, _ in result.different_specs] + [s.name for s in result.missing_specs]
    assert named == [index], (what, result.different, result.missing)


def test_declared_and_stand_in_forms_agree_with_what_servers_list() -> None:
    """The short collation (Parse declares it so; the stand-in lists it so), a text index declared by its fields,
    the simple locale, numbers of any BSON type: what the server stores is the same index."""
    listed = {s.name: s for s in specs(one("8.0", "listIndexes_user"))}
    short = indexes.normalize({"name": "ci", "key": {"username": 1}, "sparse": True, "background": True,
                               "collation": {"locale": "en_US", "strength": 2}})
    assert short.same_definition(listed["case_insensitive_username"])
    declared_text = indexes.normalize({"name": "title_text", "key": {"title": "text", "tags": "text"},
                                       "weights": {"title": 10}})
    real_text = {s.name: s for s in specs(one("4.0", "listIndexes_gamescore"))}["title_text"]
    assert declared_text.key == real_text.key and declared_text.options["default_language"] == "english"
    plain = indexes.normalize({"name": "a", "key": {"a": 1.0}})
    assert plain.same_definition(indexes.normalize({"name": "a", "key": {"a": 1}, "collation": {"locale": "simple"}}))
    assert normal_form.collation({"locale": "fr_CA"})["backwards"] is True
    assert indexes.declared_mismatches({"title_text": {"title": "text"}}, [real_text]) == []


def test_the_declared_schema_index_of_a_text_field_matches_the_stored_key() -> None:
    real = specs(one("8.0", "listIndexes_gamescore"))
    doc = {"_id": "GameScore", "_metadata": {"indexes": {"title_text": {"title": "text"}, "player_score":
                                                         {"playerName": 1, "score": -1}}}}
    assert indexes.schema_index_mismatches(doc, real) == []


def collections(reply: Reply, batch: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    found = [inventory.collection_info(e, reply.server) for e in (batch or reply.batch())
             if not inventory.is_system(e["name"])]
    return {c.name: (c.kind, c.compared_options) for c in found}


def test_collections_listed_by_two_eras_agree() -> None:
    old, new = collections(one("4.0", "listCollections")), collections(one("8.0", "listCollections"))
    assert {name: new[name] for name in old} == old
    assert collections(one("5.0", "listCollections"))["Metrics"] == new["Metrics"]    # 8.0 adds bucketRounding
    assert collections(one("6.0", "listCollections"))["Event"] == new["Event"]


@pytest.mark.parametrize(("name", "option", "value"), [
    ("AuditLog", "size", 4096), ("Invoice", "validationLevel", "moderate"), ("TopScores", "pipeline", []),
    ("Metrics", "timeseries", {"timeField": "t", "metaField": "m", "granularity": "minutes",
                               "bucketMaxSpanSeconds": 86400, "bucketRoundingSeconds": 3600}),
])
def test_a_real_collection_difference_still_fails(name: str, option: str, value: Any) -> None:
    batch = one("8.0", "listCollections").batch()
    next(e for e in batch if e["name"] == name)["options"][option] = value
    old, new = collections(one("5.0", "listCollections")), collections(one("8.0", "listCollections"), batch)
    assert old[name] != new[name]


def test_the_normalisation_table_is_rendered_into_the_catalogue() -> None:
    text = catalogue.render()
    assert "## Cross-version index comparison (DB-03)" in text
    for rule in normal_form.NORMALISED:
        assert f"| {rule.what} | {rule.how} | {rule.why} |" in text
    assert all(item in text for item in normal_form.COMPARED)
