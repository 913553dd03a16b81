"""REST-source scenarios (issue 13): the sandbox's source Parse Server read through its API as the source.

A clean migration passes the gate; each planted defect fails its criterion, naming the class, the object and
the field (or the index, the relation row, the permission), and no data criterion beyond its group's fails.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from cutover.data.content import field_differences
from cutover.data.rest_reader import RestReader
from cutover.data.rest_storage import comparable
from cutover.model import Target
from cutover.sandbox.sources import with_source
from cutover.sandbox.stack import SOURCE_BUCKET, Sandbox
from cutover_testing import rest_defects  # noqa: F401  (registers the defects below)
from cutover_testing.defects import DEFECTS, Handles

DATA_TESTS = ("-k", "test_data or test_indexes")
Checks = Callable[..., Any]


def _rest_fork(sandbox: Sandbox, label: str) -> tuple[Target, Handles]:
    target = dataclasses.replace(sandbox.fork_target(label), cloud_functions=())
    handles = Handles(source_db=sandbox.db(sandbox.ep.source_uri), target_db=sandbox.db(target.database.uri),
                      s3=sandbox.s3, source_bucket=SOURCE_BUCKET, target_bucket=target.files.bucket if target.files
                      else "")
    return with_source(sandbox, target, "rest"), handles


def _failures(result: Any) -> list[tuple[str, str, str]]:
    return [(t["criterion"], t["label"], t.get("message", "")) for t in result.record["tests"]
            if t["outcome"] in ("failed", "error") and str(t["criterion"]).startswith("DB-")]


def test_clean_rest_migration_passes_the_gate(sandbox: Sandbox, run_checks: Checks) -> None:
    result = run_checks(with_source(sandbox, sandbox.target("rest-clean"), "rest"))
    assert result.exit_code == 0 and "GATE: PASS" in result.output, result.output[-3000:]
    labels = {t["label"] for t in result.record["tests"] if t["outcome"] == "passed"}
    assert {"DB-02[GameScore]", "DB-02[_Join:likes:Post]", "DB-03[GameScore]", "DB-07[class_permissions]",
            "DB-08", "DB-08[GameScore]"} <= labels
    options = [t for t in result.record["tests"] if t["label"] == "DB-07[collection_options]"]
    assert options and options[0]["outcome"] == "skipped"


# Planted together on one fork (their picks are distinct objects): each must be named under its criterion, and
# no data criterion outside the group's may fail. Split by criterion, so a DB-02 defect that also broke DB-03 or
# DB-07 would still show. A number that became a string is a DB-08 finding too (the documents' types), the
# `_SCHEMA` type change only DB-08's (a REST source's DB-02 compares objects, not `_SCHEMA`), the `_SCHEMA` class
# the source lacks only DB-07's.
GROUPS = {
    "DB-02": (("missing_document", "DB-02"), ("changed_value", "DB-02"), ("number_became_string", "DB-02"),
              ("lost_acl", "DB-02"), ("lost_pointer", "DB-02"), ("lost_relation_row", "DB-02")),
    "DB-03+DB-07+DB-08": (("dropped_index", "DB-03"), ("changed_clp", "DB-07"),
                          ("schema_class_without_collection", "DB-07"), ("schema_type_changed", "DB-08")),
}


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_planted_defects_are_caught_from_a_rest_source(sandbox: Sandbox, run_checks: Checks, group: str) -> None:
    assert_caught_from_a_rest_source(sandbox, run_checks, f"rest_{group.replace('+', '_').replace('-', '')}",
                                     GROUPS[group])


def assert_caught_from_a_rest_source(sandbox: Sandbox, run_checks: Checks, label: str,
                                     defects: tuple[tuple[str, str], ...]) -> None:
    """``defects`` (name, criterion) planted on one fork whose source is ``sandbox``'s source Parse Server: each is
    named under its criterion, and no data criterion beyond theirs fails (also run on demo-skew's sandbox)."""
    target, handles = _rest_fork(sandbox, label)
    planted = [(DEFECTS[defect].plant(handles), criterion) for defect, criterion in defects]
    result = run_checks(target, *DATA_TESTS)
    failures = _failures(result)
    allowed = {c for defect, criterion in defects for c in (criterion, *DEFECTS[defect].criteria)}
    assert {f[0] for f in failures} <= allowed, f"criteria beyond {sorted(allowed)} failed: {failures}"
    for p, criterion in planted + [(p, "DB-08") for p, _ in planted if p.defect == "number_became_string"]:
        names = [p.collection or "", *p.object_ids, *([p.field] if p.field else []), *([p.index] if p.index else [])]
        text = " ".join(f[2] for f in failures if f[0] == criterion)
        assert all(str(name) in text for name in names), \
            f"{p.defect}: {names} not all named under {criterion}: {failures}\n{result.output[-2000:]}"


def test_rest_pages_equal_the_source_database_through_the_mapping(sandbox: Sandbox) -> None:
    """Small pages (7 objects), ranges and re-reads: every object the source database holds, in objectId order,
    equal to its stored document through the mapping; every relation row of the join tables."""
    parse = sandbox.target().source_parse
    assert parse is not None
    reader = RestReader(parse.server_url, parse.app_id, parse.master_key, page=7)
    source_db = sandbox.db(sandbox.ep.source_uri)
    for cls in ("_User", "_Role", "_Session", "_Installation", "Player", "GameScore", "Post", "AuditLog"):
        stored = {d["_id"]: d for d in source_db[cls].find({})}
        got = list(reader.documents(cls, None, None))
        assert [d["_id"] for d in got] == sorted(stored), cls
        wrong = [d["_id"] for d in got if field_differences(comparable(cls, d), comparable(cls, stored[d["_id"]]))]
        assert not wrong, f"{cls}: {wrong[:5]}"
    ids = sorted(source_db["Player"].distinct("_id"))
    middle = [d["_id"] for d in reader.documents("Player", ids[3], ids[20])]
    assert middle == ids[3:20]
    assert sorted(reader.fetch("Player", [ids[0], ids[5], "nosuchid"])) == [ids[0], ids[5]]
    rows = set(reader.relation_rows("Post", "likes", sorted(source_db["Post"].distinct("_id"))))
    assert rows == {(d["owningId"], d["relatedId"]) for d in source_db["_Join:likes:Post"].find({})}
    assert reader.requests_made > len(ids) // 7
