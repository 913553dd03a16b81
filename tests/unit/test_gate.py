"""The deploy gate: blockers and majors fail it, minors never do; verdict line and exit code."""
from __future__ import annotations

from typing import Any

import pytest

from cutover.gate import decide


def entry(outcome: str, severity: str | None = "blocker") -> dict[str, Any]:
    return {"outcome": outcome} if severity is None else {"outcome": outcome, "severity": severity}


def test_everything_passed() -> None:
    gate = decide([entry("passed"), entry("passed", "major"), entry("skipped", "minor")])
    assert gate.passed and gate.exit_code == 0 and gate.line == "GATE: PASS"
    assert gate.counts == {"passed": 2, "skipped": 1}
    assert gate.blocking == {}


def test_no_tests_pass_the_gate() -> None:
    assert decide([]).line == "GATE: PASS"


def test_minor_failures_never_fail_the_gate() -> None:
    gate = decide([entry("passed"), entry("failed", "minor"), entry("error", "minor")])
    assert gate.passed and gate.exit_code == 0 and gate.line == "GATE: PASS"
    assert gate.counts == {"passed": 1, "failed": 1, "error": 1}


@pytest.mark.parametrize("outcome", ["failed", "error"])
def test_one_blocker_fails_the_gate(outcome: str) -> None:
    gate = decide([entry("passed"), entry(outcome)])
    assert not gate.passed and gate.exit_code == 1
    assert gate.line == "GATE: FAIL - 1 blocker"


def test_counts_and_plurals_in_severity_order() -> None:
    gate = decide([entry("failed", "major"), entry("failed"), entry("error"), entry("failed", "minor")])
    assert gate.blocking == {"blocker": 2, "major": 1}
    assert gate.line == "GATE: FAIL - 2 blockers, 1 major"
    assert gate.exit_code == 1


def test_only_majors() -> None:
    assert decide([entry("error", "major")] * 3).line == "GATE: FAIL - 3 majors"


def test_missing_severity_counts_as_blocker() -> None:
    assert decide([entry("failed", None)]).line == "GATE: FAIL - 1 blocker"


def test_skipped_and_passed_blockers_do_not_gate() -> None:
    assert decide([entry("skipped"), entry("passed"), entry("xfailed")]).passed


def test_a_waived_blocker_does_not_fail_the_gate_and_is_counted() -> None:
    waived = {"outcome": "failed", "severity": "blocker", "waiver": {"reason": "known, ticket OPS-1"}}
    gate = decide([entry("passed"), waived])
    assert gate.passed and gate.exit_code == 0 and gate.waived == 1
    assert gate.line == "GATE: PASS (1 waived)"


def test_a_waiver_on_a_passing_test_is_not_counted_and_unwaived_failures_still_gate() -> None:
    gate = decide([{"outcome": "passed", "severity": "major", "waiver": {"reason": "x"}},
                   {"outcome": "error", "severity": "major", "waiver": {"reason": "y"}}, entry("failed", "major")])
    assert gate.waived == 1 and gate.line == "GATE: FAIL - 1 major"
