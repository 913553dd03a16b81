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
    assert {"DB-02[GameScore]", "DB-02[_Join:likes:Post]", "DB-03[GameScore]", "DB-07[class_permissions]"} <= passed


def test_planted_defects_are_caught_from_an_export(sandbox: Sandbox, run_checks: Checks) -> None:
    """Three defects on one fork (distinct objects), each named under DB-02."""
    fork = dataclasses.replace(sandbox.fork_target("export_defects"), cloud_functions=())
    target = with_source(sandbox, fork, "export")
    handles = Handles(sandbox.db(sandbox.ep.source_uri), sandbox.db(fork.database.uri), sandbox.s3, SOURCE_BUCKET, "")
    planted = [DEFECTS[d].plant(handles) for d in ("missing_document", "lost_relation_row", "number_became_string")]
    problems = _problems(run_checks(target, *DATA_TESTS))
    text = " ".join(message for _, label, message in problems if label.startswith("DB-02"))
    for p in planted:
        assert all(str(n) in text for n in (p.collection, *p.object_ids)), (p.defect, problems)


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
