"""Export-source scenarios (issue 13): a Parse JSON export written from the sandbox's source Parse Server.

A clean migration passes the gate; planted defects are caught from the export; a truncated or malformed class
file is an ERROR naming that file for that class only.
"""
from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cutover.model import Source, Target
from cutover.sandbox.sources import with_source
from cutover.sandbox.stack import SOURCE_BUCKET, Sandbox
from cutover_testing import rest_defects  # noqa: F401  (registers the defects below)
from cutover_testing.defects import DEFECTS, Handles

DATA_TESTS = ("-k", "test_data or test_indexes")
Checks = Callable[..., Any]


def _problems(result: Any) -> list[tuple[str, str, str]]:
    return [(t["outcome"], t["label"], t.get("message", "")) for t in result.record["tests"]
            if t["outcome"] in ("failed", "error")]


def test_clean_export_migration_passes_the_gate(sandbox: Sandbox, run_checks: Checks) -> None:
    result = run_checks(with_source(sandbox, sandbox.target("export-clean"), "export"))
    assert result.exit_code == 0 and "GATE: PASS" in result.output, result.output[-3000:]
    passed = {t["label"] for t in result.record["tests"] if t["outcome"] == "passed"}
    assert {"DB-02[GameScore]", "DB-02[_Join:likes:Post]", "DB-03[GameScore]", "DB-07[class_permissions]",
            "DB-08", "DB-08[GameScore]"} <= passed


def _named_under(problems: list[tuple[str, str, str]], criterion: str, *names: Any) -> bool:
    text = " ".join(message for _, label, message in problems if label.split("[")[0] == criterion)
    return all(str(name) in text for name in names)


def test_planted_defects_are_caught_from_an_export(sandbox: Sandbox, run_checks: Checks, tmp_path: Path) -> None:
    """Four defects on one fork (distinct objects): three named under DB-02; the number that became a string and
    the `_SCHEMA` type change under DB-08, against the export's _SCHEMA.json and then, with that file left out,
    against the types the export's objects imply (where the type change is the only difference)."""
    fork = dataclasses.replace(sandbox.fork_target("export_defects"), cloud_functions=())
    target = with_source(sandbox, fork, "export")
    handles = Handles(sandbox.db(sandbox.ep.source_uri), sandbox.db(fork.database.uri), sandbox.s3, SOURCE_BUCKET, "")
    planted = {d: DEFECTS[d].plant(handles) for d in ("missing_document", "lost_relation_row", "number_became_string",
                                                      "schema_type_changed")}
    problems = _problems(run_checks(target, *DATA_TESTS))
    for p in list(planted.values())[:3]:
        assert _named_under(problems, "DB-02", p.collection, *p.object_ids), (p.defect, problems)
    number, schema = planted["number_became_string"], planted["schema_type_changed"]
    assert _named_under(problems, "DB-08", number.collection, *number.object_ids, number.field, schema.collection,
                        f"{schema.collection}.{schema.field}: target _SCHEMA string, source number"), problems

    objects_only = tmp_path / "export"
    shutil.copytree(target.source.export_dir, objects_only, ignore=shutil.ignore_patterns("_SCHEMA.json"))
    implied = dataclasses.replace(target, source=Source(kind="export", export_dir=str(objects_only)))
    result = run_checks(implied, "-k", "test_schema_field_types")
    [(outcome, _, message)] = [p for p in _problems(result) if p[1] == "DB-08"]
    assert outcome == "failed" and message.startswith("1 field type differs between the target's _SCHEMA and the "
                                                      "types the export's objects imply"), message
    assert "Player.level: target _SCHEMA string, source number" in message


@pytest.mark.parametrize("damage", ["truncated", "malformed"])
def test_a_damaged_class_file_is_one_clear_error_for_that_class(sandbox: Sandbox, run_checks: Checks,
                                                                tmp_path: Path, damage: str) -> None:
    clean = with_source(sandbox, sandbox.target("export-damaged"), "export")
    export = tmp_path / "export"
    shutil.copytree(clean.source.export_dir, export)
    body = (export / "Player.json").read_text(encoding="utf-8")
    broken = body[: len(body) // 2] if damage == "truncated" else body.replace('"name":', '"name" ', 1)
    (export / "Player.json").write_text(broken, encoding="utf-8")
    target: Target = dataclasses.replace(clean, cloud_functions=(),
                                         source=Source(kind="export", export_dir=str(export)))
    result = run_checks(target, *DATA_TESTS)
    problems = _problems(result)
    assert problems, "a damaged export file went unnoticed"
    passed = {t["label"] for t in result.record["tests"] if t["outcome"] == "passed"}
    assert {"DB-02[GameScore]", "DB-01[GameScore]"} <= passed
    for outcome, label, message in problems:   # DB-01[Player], its table, DB-02[Player]: nothing else
        assert outcome == "error" and ("Player" in label or label == "DB-01"), (label, message)
        assert "export file Player.json" in message and "at byte" in message and "\n" not in message.strip()
