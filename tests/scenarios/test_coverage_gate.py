"""The coverage gate on the bundled catalogue against the live sandbox: a run narrowed by -k, -m, a path or
--read-only never passes, whatever passed in it; --partial makes it a PARTIAL PASS; the record says which
criteria were not verified and why. (The full catalogue passing is tests/scenarios/test_scale_out.py's and the
demo's; team checks and runs without a verdict are tests/plugin/test_coverage_gate.py's.)
"""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from cutover.run.criteria import CRITERIA
from cutover.sandbox.stack import Sandbox

pytestmark = pytest.mark.sandbox
RunResult = Any   # tests/scenarios/conftest.py's RunResult (conftest modules are not importable by name)
FILES = [cid for cid in CRITERIA if cid.startswith("FILE-")]
WRITERS = ["API-02", "API-03", "API-04", "API-06", "API-07"]   # criteria with a check that writes probes


def verdicts(result: RunResult, ids: list[str]) -> dict[str, str]:
    return {cid: result.record["criteria"][cid]["verdict"] for cid in ids}


def test_a_run_narrowed_by_k_is_incomplete_and_names_the_rest(sandbox: Sandbox,
                                                               run_checks: Callable[..., RunResult]) -> None:
    result = run_checks(sandbox.target("coverage-k"), "-k", "test_files")
    others = [cid for cid in CRITERIA if cid not in FILES]
    assert result.exit_code == 6, result.output[-3000:]
    assert result.record["verdict"] == "GATE: INCOMPLETE - not verified: " + ", ".join(others)
    assert verdicts(result, FILES) == dict.fromkeys(FILES, "pass")
    assert all(result.record["criteria"][cid]["reason"].endswith("deselected") for cid in others)
    assert f"GATE: INCOMPLETE - not verified: {others[0]}" in result.output


def test_partial_lets_the_same_run_pass_on_what_it_verified(sandbox: Sandbox,
                                                            run_checks: Callable[..., RunResult]) -> None:
    result = run_checks(sandbox.target("coverage-partial"), "-k", "test_files", "--partial")
    line = f"GATE: PARTIAL PASS ({len(FILES)}/{len(CRITERIA)} criteria)"
    assert (result.exit_code, result.record["verdict"], result.record["partial"]) == (0, line, True)
    assert json.loads((result.run_dir / "manifest.json").read_text(encoding="utf-8"))["partial"] is True
    assert "partial: true" in (result.run_dir.parent / "index.html").read_text(encoding="utf-8")


def test_a_run_narrowed_by_marker_verifies_only_the_criteria_it_ran_whole(
        sandbox: Sandbox, run_checks: Callable[..., RunResult]) -> None:
    result = run_checks(sandbox.target("coverage-m"), "-m", "writes")
    assert result.exit_code == 6, result.output[-3000:]
    assert verdicts(result, WRITERS) == {"API-02": "pass", "API-03": "not run", "API-04": "pass",
                                         "API-06": "not run", "API-07": "pass"}
    assert result.record["criteria"]["API-03"]["reason"].endswith("checks deselected")


def test_a_run_narrowed_by_path_is_incomplete(sandbox: Sandbox, run_checks: Callable[..., RunResult]) -> None:
    result = run_checks(sandbox.target("coverage-path"), "test_secrets.py")   # a bundled module, named alone
    assert result.exit_code == 6, result.output[-3000:]
    assert [cid for cid in CRITERIA if cid not in result.record["not_verified"]] == ["SEC-01", "SEC-02"]
    assert result.record["criteria"]["DB-01"]["reason"] == "not selected: the run was narrowed to the paths given"


def test_read_only_leaves_the_writing_criteria_not_verified(sandbox: Sandbox,
                                                            run_checks: Callable[..., RunResult]) -> None:
    result = run_checks(sandbox.target("coverage-read-only"), "--read-only", only=("test_rest.py",))
    assert result.exit_code == 0 and result.record["verdict"].startswith("GATE: PARTIAL PASS ("), result.output
    criteria = result.record["criteria"]
    assert set(WRITERS) <= set(result.record["not_verified"])
    assert {cid: criteria[cid]["reason"] for cid in ("API-02", "API-06")} == {
        "API-02": "2 checks skipped by --read-only", "API-06": "1 check skipped by --read-only"}   # REST, JS SDK
    assert criteria["API-01"]["verdict"] == "pass"
