"""Exports as teams hold them (issue 28): each real-shaped export (tests/fixtures/exports) is imported into a target
by parse-server 9.10.0's own code (cutover_testing/parse_import.js: its startup, schema validation,
DatabaseController.create and addRelation write the storage form, not the suite's mapping), then declared as the
source, in the form the team holds it: Parse.com's zip itself, Back4App's folder, the Dashboard's parts.

A clean import passes DB-01, DB-02 and DB-07 with no false failure; the only failures of the Parse.com import's
file criteria are the real finding of its data (its `tfss-` files were never moved). Planted on the real objects
(one fork, one run): a relation row deleted, a password hash changed, a user missing are each caught and named;
Parse Server's internal collections written on the target are never "extra".
"""
from __future__ import annotations

import dataclasses
import re
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from cutover.data import internal_classes
from cutover.model import Database, Source, Target
from cutover.sandbox.migrate import copy_database
from cutover.sandbox.node_env import NODE_DIR_NAME
from cutover.sandbox.s3_server import create_bucket
from cutover.sandbox.stack import REGION, Sandbox, with_database
from cutover_testing.parse_import import ImportPlan, drop, import_export
from tests.fixtures.exports import parse_com_2014 as parse_com

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "exports"
DATA = ("-k", "test_data")
HASHED = "$2b$10$1Vb3Jr8LqZ0tXk5Wm2Yc9eQpS7nHfA4gUuD6oT3iR1wE0yK8lMvNa"   # the host's copy carried hashes
Checks = Callable[..., Any]


@pytest.fixture(scope="module")
def exports(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Target]]:
    """name -> a target whose database parse-server imported from that export, declaring it as the source."""
    work = tmp_path_factory.mktemp("real-exports")
    archive = parse_com.write_zip(work / "newsroom.zip")
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(work / "newsroom")
    plans = {"parse_com": (parse_com_plan(work / "newsroom"), Source(kind="export", export_file=str(archive))),
             "back4app": (back4app_plan(), Source(kind="export", export_dir=str(FIXTURES / "back4app_2022"))),
             "dashboard": (dashboard_plan(), Source(kind="export", export_dir=str(FIXTURES / "dashboard_parts")))}
    uris: list[str] = []
    try:
        targets = {}
        for name, (plan, source) in plans.items():
            uris.append(import_export(sandbox, f"imported_{name}_{id(work) % 10_000}", plan))
            targets[name] = as_target(sandbox, f"real-{name}", uris[-1], source)
        yield targets
    finally:
        for uri in uris:
            drop(uri)


def parse_com_plan(folder: Path) -> ImportPlan:
    return ImportPlan({cls: [folder / f"{cls}.json"] for cls in ("_User", "_Role", "Tag", "Article", "_Installation")},
                      [("Article", "tags", [folder / "_Join:tags:Article.json"]),
                       ("_Role", "users", [folder / "_Join:users:_Role.json"])])


def back4app_plan() -> ImportPlan:
    folder = FIXTURES / "back4app_2022"
    return ImportPlan({cls: [folder / f"{cls}.json"] for cls in ("_User", "Tag", "Article")},
                      [("Article", "tags", [folder / "_Join\ua789tags\ua789Article.json"])],
                      {"_User": {oid: {"_hashed_password": HASHED} for oid in ("kR2mW8zQpL", "aV5nB1xYtC")}})


def dashboard_plan() -> ImportPlan:
    folder = FIXTURES / "dashboard_parts"
    comments = [folder / name for name in ("Comment.json", "Comment (1).json", "Comment (2).json")]
    return ImportPlan({"_User": [folder / "_User.json"], "Comment": comments}, [],
                      {"_User": {"Bn3kLp8XwQ": {"_hashed_password": HASHED}}})


def as_target(sandbox: Sandbox, name: str, uri: str, source: Source) -> Target:
    """The sandbox's target Parse Server, on the imported database, with an empty bucket of its own (an import
    moves no file) and no source bucket (the export's files were Parse.com's or the host's)."""
    base = sandbox.target(name)
    assert base.files is not None
    bucket = f"{name.replace('_', '-')}-{sandbox.ep.s3_url.rsplit(':', 1)[-1]}"
    create_bucket(sandbox.s3, bucket, REGION)
    return dataclasses.replace(base, source=source, database=Database(uri=uri), queries=(), cloud_functions=(),
                               files=dataclasses.replace(base.files, bucket=bucket, source_bucket=""))


def facts_of(result: Any, label: str) -> dict[str, Any]:
    return next(t.get("facts", {}) for t in result.record["tests"] if t["label"] == label)


def passed(result: Any) -> set[str]:
    return {label for label, outcome in result.outcomes.items() if outcome == "passed"}


@pytest.mark.parametrize(("name", "expected"), [
    ("parse_com", {"DB-01[_User]", "DB-01[_Installation]", "DB-02[_User]", "DB-02[Article]",
                   "DB-02[_Join:tags:Article]", "DB-02[_Join:users:_Role]", "DB-07[same_collections]",
                   "DB-07[schema_matches_collections]", "FILE-01[Article.cover]", "FILE-04"}),
    ("back4app", {"DB-01[Article]", "DB-02[_User]", "DB-02[_Join:tags:Article]", "DB-07[same_collections]"}),
    ("dashboard", {"DB-01[Comment]", "DB-02[Comment]", "DB-02[_User]", "DB-07[same_collections]"}),
])
def test_a_clean_import_of_a_real_export_passes_with_no_false_failure(exports: dict[str, Target], run_checks: Checks,
                                                                      name: str, expected: set[str]) -> None:
    """DB-01, DB-02, DB-07 pass; for Parse.com's export the files criteria run too, and the one failure is the real
    finding of its data: its files lived at files.parsetfss.com and the import did not move them (FILE-02)."""
    result = run_checks(exports[name], "-k", "test_data or test_files" if name == "parse_com" else "test_data")
    found = result.failing()
    if name == "parse_com":
        assert list(found) == ["FILE-02[Article]"], found
        assert parse_com.COVER in found["FILE-02[Article]"] and parse_com.MATCH in found["FILE-02[Article]"]
    else:
        assert not found, found
    assert expected <= passed(result), sorted(passed(result))
    left_out = facts_of(result, "DB-07[same_collections]")["left_out"]
    assert "_Idempotency" in left_out["internal_classes"]["target"], left_out
    hidden = facts_of(result, "DB-02[_User]").get("not_verifiable_from_source", [])
    assert ("_hashed_password" in hidden) is (name != "parse_com"), hidden   # Parse.com's hashes are compared


def test_planted_defects_on_real_objects_are_caught_and_internal_collections_are_not_extra(
        sandbox: Sandbox, exports: dict[str, Target], run_checks: Checks) -> None:
    clean = exports["parse_com"]
    uri = with_database(clean.database.uri, f"{Path(clean.database.uri.split('?')[0]).name}_defects")
    db, clean_db = sandbox.db(uri), sandbox.db(clean.database.uri)
    copy_database(clean_db, db)
    try:
        plant(db)
        result = run_checks(dataclasses.replace(clean, name="real-parse-com-defects", database=Database(uri=uri)),
                            *DATA)
    finally:
        drop(uri)
    found = result.failing()
    assert set(found) == {"DB-01", "DB-01[_User]", "DB-02[_User]", "DB-02[_Join:tags:Article]"}, found
    assert f"owningId {parse_com.HIGGS} relatedId {parse_com.POLITICS}" in found["DB-02[_Join:tags:Article]"]
    user = found["DB-02[_User]"]
    assert f"missingOnTarget 1: _id {parse_com.LINUS}" in user, user
    assert f"_id {parse_com.GRACE} at _hashed_password (bcryptPassword in the source)" in user, user
    assert "target holds 2 documents, source 3" in found["DB-01[_User]"]
    assert not any(re.search(r"_(JobStatus|PushStatus|Hooks|GlobalConfig|GraphQLConfig|Audience|JobSchedule)\b", m)
                   for m in [*found, *found.values()]), found
    left_out = facts_of(result, "DB-07[same_collections]")["left_out"]["internal_classes"]["target"]
    assert set(PLANTED_INTERNAL) <= set(left_out), left_out


PLANTED_INTERNAL = ("_JobStatus", "_PushStatus", "_Hooks", "_GlobalConfig", "_GraphQLConfig", "_Audience",
                    "_JobSchedule")


def plant(db: Any) -> None:
    """On the real objects: one relation row gone, one hash changed, one user gone; the server's own collections
    written as a running Parse Server writes them (push and job status, hooks, config, an audience)."""
    db["_Join:tags:Article"].delete_one({"owningId": parse_com.HIGGS, "relatedId": parse_com.POLITICS})
    db["_User"].update_one({"_id": parse_com.GRACE}, {"$set": {"_hashed_password": HASHED}})
    db["_User"].delete_one({"_id": parse_com.LINUS})
    for name in PLANTED_INTERNAL:
        db[name].insert_one({"_id": f"{name[1:].lower()}1"})
    db["_SCHEMA"].insert_many([{"_id": name, "objectId": "string"} for name in ("_PushStatus", "_Audience")])


def test_the_one_list_of_internal_classes_is_what_the_installed_parse_server_declares(sandbox: Sandbox) -> None:
    """Provenance kept true: parse-server 9.10.0's volatileClasses, plus `_SCHEMA` (its schema collection)."""
    lib = sandbox.cache_dir / NODE_DIR_NAME / "node_modules" / "parse-server" / "lib"
    schema_js = (lib / "Controllers" / "SchemaController.js").read_text(encoding="utf-8")
    declared = re.search(r"const volatileClasses = Object\.freeze\(\[([^\]]*)\]\)", schema_js)
    assert declared is not None, "SchemaController.js no longer declares volatileClasses"
    volatile = set(re.findall(r"'(_\w+)'", declared.group(1)))
    assert "_SCHEMA" in (lib / "Adapters" / "Storage" / "Mongo" / "MongoStorageAdapter.js").read_text(encoding="utf-8")
    assert volatile | {"_SCHEMA"} == internal_classes.INTERNAL_CLASSES
