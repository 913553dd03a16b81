"""The deploy gate: blockers and majors fail it, minors never do; verdict line (counted by criterion) and exit
code; a waiver never excuses an error; a run that reached nothing says so first."""
from __future__ import annotations

import pytest

from cutover.run.check_record import CheckRecord, WaiverNote
from cutover.run.gate import EXIT_INCOMPLETE, decide, judge


def entry(outcome: str, severity: str | None = "blocker", waived: bool = False,
          criterion: str = "DB-01") -> CheckRecord:
    return CheckRecord(f"t.py::t[{criterion}]", criterion, criterion, severity or "", outcome=outcome,
                       waiver=WaiverNote("known, ticket OPS-1", "2099-01-01") if waived else None)


def test_everything_passed() -> None:
    gate = decide([entry("passed"), entry("passed", "major"), entry("skipped", "minor")])
    assert gate.passed and gate.exit_code == 0 and gate.line == "GATE: PASS"
    assert gate.counts == {"passed": 2, "skipped": 1}
    assert gate.blocking == {}


def test_no_failing_test_is_a_pass_of_the_severity_verdict_alone() -> None:
    assert decide([]).line == "GATE: PASS"   # judge() adds coverage: a run with no check is NOT RUN


def test_minor_failures_never_fail_the_gate() -> None:
    gate = decide([entry("passed"), entry("failed", "minor"), entry("error", "minor")])
    assert gate.passed and gate.exit_code == 0 and gate.line == "GATE: PASS"
    assert gate.counts == {"passed": 1, "failed": 1, "error": 1}


@pytest.mark.parametrize("outcome", ["failed", "error"])
def test_one_blocker_fails_the_gate(outcome: str) -> None:
    gate = decide([entry("passed"), entry(outcome)])
    assert not gate.passed and gate.exit_code == 1
    assert gate.line == "GATE: FAIL - 1 blocker (DB-01)"


def test_counts_criteria_with_plurals_in_severity_and_catalogue_order() -> None:
    gate = decide([entry("failed", "major", criterion="DB-06"), entry("failed", criterion="DB-02"),
                   entry("error", criterion="DB-01"), entry("failed", "minor", criterion="FILE-04")])
    assert gate.blocking == {"blocker": ("DB-01", "DB-02"), "major": ("DB-06",)}
    assert gate.line == "GATE: FAIL - 2 blockers (DB-01, DB-02), 1 major (DB-06)"
    assert gate.exit_code == 1


def test_the_checks_of_one_criterion_count_once() -> None:
    """23 failing checks of DB-01 are one failing criterion, not 23 blockers (issue 29)."""
    gate = decide([entry("failed")] * 20 + [entry("error")] * 3 + [entry("error", "major", criterion="DB-06")] * 15)
    assert gate.line == "GATE: FAIL - 1 blocker (DB-01), 1 major (DB-06)"


def test_a_criterion_counts_under_its_most_severe_failing_check() -> None:
    assert decide([entry("failed", "major"), entry("failed")]).line == "GATE: FAIL - 1 blocker (DB-01)"


def test_only_majors() -> None:
    assert decide([entry("error", "major")] * 3).line == "GATE: FAIL - 1 major (DB-01)"


def test_missing_severity_counts_as_blocker() -> None:
    assert decide([entry("failed", None)]).line == "GATE: FAIL - 1 blocker (DB-01)"


def test_skipped_and_passed_blockers_do_not_gate() -> None:
    assert decide([entry("skipped"), entry("passed"), entry("xfailed")]).passed


def test_a_waived_blocker_does_not_fail_the_gate_and_is_counted() -> None:
    gate = decide([entry("passed"), entry("failed", waived=True)])
    assert gate.passed and gate.exit_code == 0 and gate.waived == 1
    assert gate.line == "GATE: PASS (1 waived)"


def test_a_waiver_on_a_passing_test_is_not_counted_and_unwaived_failures_still_gate() -> None:
    gate = decide([entry("passed", "major", waived=True), entry("failed", "major", waived=True, criterion="DB-06"),
                   entry("failed", "major")])
    assert gate.waived == 1 and gate.line == "GATE: FAIL - 1 major (DB-01)"


def test_a_waiver_never_excuses_an_error() -> None:
    """A waiver accepts a finding; 'could not verify' is no finding (CHECKS.md amendment of 2026-12-07)."""
    errored = entry("error", "major", waived=True, criterion="DB-06")
    gate = decide([errored])
    assert (gate.passed, gate.waived, gate.line) == (False, 0, "GATE: FAIL - 1 major (DB-06)")
    assert errored.verdict == "error" and not errored.excused


# -- judge: coverage and runs without a verdict ------------------------------------------------------------

ALL = {"DB-01": True, "DB-02": True, "API-02": True}


def test_every_criterion_verified_and_nothing_failing_is_a_pass() -> None:
    gate = judge([entry("passed")], ALL)
    assert (gate.status, gate.line, gate.exit_code) == ("PASS", "GATE: PASS", 0)
    assert (gate.verified, gate.total, gate.not_verified) == (3, 3, ())


def test_a_criterion_not_verified_makes_the_run_incomplete() -> None:
    gate = judge([entry("passed")], {**ALL, "API-02": False, "DB-02": False})
    assert gate.line == "GATE: INCOMPLETE - not verified: DB-02, API-02"
    assert gate.exit_code == EXIT_INCOMPLETE == 6 and gate.status == "INCOMPLETE"


def test_partial_lets_a_narrowed_run_pass_on_what_it_verified() -> None:
    gate = judge([entry("passed"), entry("failed", "major", waived=True)],
                 {**ALL, "API-02": False}, partial=True)
    assert (gate.line, gate.exit_code) == ("GATE: PARTIAL PASS (2/3 criteria, 1 waived)", 0)
    assert judge([], {**ALL, "API-02": False}, partial=True).line == "GATE: PARTIAL PASS (2/3 criteria)"


def test_partial_changes_nothing_when_every_criterion_was_verified() -> None:
    assert judge([entry("passed")], ALL, partial=True).line == "GATE: PASS"


def test_a_failure_outranks_missing_coverage() -> None:
    gate = judge([entry("failed")], {**ALL, "API-02": False})
    assert (gate.line, gate.exit_code) == ("GATE: FAIL - 1 blocker (DB-01)", 1)
    assert gate.not_verified == ("API-02",)


def test_unreachable_components_come_first_in_the_line() -> None:
    dead = ("source database", "target database", "Parse Server")
    gate = judge([entry("error"), entry("error", "major", criterion="DB-06")], ALL, unreachable=dead, components=3)
    assert gate.line == ("GATE: FAIL - not verified: 3 of 3 components unreachable (source database, target "
                         "database, Parse Server); 1 blocker (DB-01), 1 major (DB-06)")
    gate = judge([entry("passed")], {**ALL, "API-02": False}, unreachable=dead[:1], components=3)
    assert gate.line == ("GATE: INCOMPLETE - not verified: 1 of 3 components unreachable (source database); "
                         "API-02")


@pytest.mark.parametrize(("why", "code"), [("interrupted", 2), ("1 collection error", 2),
                                           ("no checks collected", 5), ("usage error", 4)])
def test_a_run_without_a_verdict_is_not_run_whatever_passed(why: str, code: int) -> None:
    gate = judge([entry("passed"), entry("failed")], ALL, partial=True, not_run=why, not_run_exit=code)
    assert (gate.status, gate.line, gate.exit_code) == ("NOT RUN", f"GATE: NOT RUN ({why})", code)
