"""Per criterion of the catalogue: a verdict from its checks' outcomes, how the user narrowed the run, and
where it applies (the registry)."""
from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from cutover.run.check_record import CheckRecord, WaiverNote
from cutover.run.criteria import CRITERIA
from cutover.run.verification import criterion_results, describe_exclusions, not_verified


def entry(criterion: str, outcome: str | None, message: str = "", waiver: bool = False) -> CheckRecord:
    return CheckRecord(f"t.py::{criterion}", criterion, criterion, "blocker", outcome=outcome, message=message,
                       waiver=WaiverNote("j", "2099-01-01") if waiver else None)


def check_verdict(record: CheckRecord) -> str:
    return record.verdict


def results(*entries: CheckRecord, excluded: dict[str, str] | None = None, kind: str = "mongodb",
            store: str | None = "s3", unselected: str = "") -> dict[str, Any]:
    return criterion_results(entries, excluded or {}, kind, store, unselected)


def test_check_verdicts() -> None:
    assert check_verdict(entry("DB-01", "passed")) == "pass"
    assert check_verdict(entry("DB-01", "failed")) == "fail"
    assert check_verdict(entry("DB-01", "error")) == "error"
    assert check_verdict(entry("DB-01", "failed", waiver=True)) == "waived"
    assert check_verdict(entry("DB-06", "skipped", "not applicable: no quota declared")) == "not applicable"
    assert check_verdict(entry("DB-04", "skipped", "could not verify on this server")) == "not run"
    assert check_verdict(entry("API-02", "skipped", "--read-only: this check writes probe objects")) == "not run"
    assert check_verdict(entry("DB-01", None)) == "not run"   # collected, never reported


def test_every_criterion_of_the_catalogue_gets_a_verdict_and_unseen_ones_are_not_run() -> None:
    found = results(entry("DB-01", "passed"))
    assert list(found) == list(CRITERIA)
    assert found["DB-01"].verdict == "pass" and found["DB-01"].verified
    assert (found["DB-02"].verdict, found["DB-02"].reason) == ("not run", "no check of this criterion was collected")
    assert not_verified(found) == [cid for cid in CRITERIA if cid != "DB-01"]


def test_one_failing_check_decides_the_criterion_whatever_else() -> None:
    found = results(entry("DB-01", "passed"), entry("DB-01", "failed"), entry("DB-01", "error"),
                    excluded={"DB-01": "3 checks deselected"})
    assert found["DB-01"].verdict == "fail" and found["DB-01"].checks == {"pass": 1, "fail": 1, "error": 1}
    assert results(entry("DB-01", "passed"), entry("DB-01", "error"))["DB-01"].verdict == "error"
    assert results(entry("DB-01", "failed", waiver=True))["DB-01"].verdict == "waived"


def test_a_criterion_the_user_narrowed_is_not_run_even_when_the_rest_passed() -> None:
    found = results(entry("API-03", "passed"), excluded={"API-03": "1 check skipped by --read-only"})
    assert (found["API-03"].verdict, found["API-03"].reason) == ("not run", "1 check skipped by --read-only")


def test_a_check_skipping_itself_does_not_undo_a_pass_of_its_criterion() -> None:
    found = results(entry("DB-04", "passed"), entry("DB-04", "skipped", "could not verify on this server"))
    assert found["DB-04"].verdict == "pass" and found["DB-04"].checks == {"pass": 1, "not run": 1}


def test_without_node_the_rest_round_trip_decides_api_02_04_07() -> None:
    """The JS SDK round-trips skip (not run) without Node.js: the REST round-trip beside them decides; a failing
    SDK round-trip fails the criterion whatever REST says; the SDK skip alone verifies nothing."""
    no_node = "no Node.js to run the Parse JavaScript SDK 8.6.2: install the sandbox extra ..."
    for cid in ("API-02", "API-04", "API-07"):
        found = results(entry(cid, "passed"), entry(cid, "skipped", no_node))[cid]
        assert (found.verdict, found.checks) == ("pass", {"pass": 1, "not run": 1})
        assert results(entry(cid, "passed"), entry(cid, "failed"))[cid].verdict == "fail"
        assert results(entry(cid, "skipped", no_node))[cid].verdict == "not run"


def test_only_skipped_checks_leave_the_criterion_not_run_with_the_first_reason() -> None:
    found = results(entry("SEC-01", "skipped", "no app_source_dir declared"))
    assert (found["SEC-01"].verdict, found["SEC-01"].reason) == ("not run", "no app_source_dir declared")


def test_not_applicable_needs_every_check_not_applicable() -> None:
    found = results(entry("DB-05", "skipped", "not applicable: no query pattern declared"))
    assert (found["DB-05"].verdict, found["DB-05"].reason) == ("not applicable", "no query pattern declared")
    assert found["DB-05"].verified
    mixed = results(entry("DB-06", "passed"), entry("DB-06", "skipped", "not applicable: no quota"))
    assert mixed["DB-06"].verdict == "pass"


def test_the_registry_says_not_applicable_where_no_check_ran() -> None:
    found = results(kind="export")
    assert found["API-08"].verdict == "not applicable"
    assert "a Parse JSON export has no server left to ask" in found["API-08"].reason
    assert found["API-07"].verdict == "not run"


def test_a_run_narrowed_by_path_says_so_for_criteria_it_did_not_select() -> None:
    found = results(entry("FILE-01", "passed"), unselected="not selected: the run was narrowed to the paths given")
    assert found["DB-01"].reason == "not selected: the run was narrowed to the paths given"
    assert found["FILE-01"].verdict == "pass"


def test_exclusions_are_described_per_criterion() -> None:
    counts = {"API-02": Counter({"skipped by --read-only": 1}), "DB-01": Counter({"deselected": 3}),
              "DB-02": Counter()}
    assert describe_exclusions(counts) == {"API-02": "1 check skipped by --read-only",
                                           "DB-01": "3 checks deselected"}


def test_a_pass_says_which_checks_did_not_run_and_which_rest_on_the_stand_in() -> None:
    limit = {"stand_in": {"server": "the stand-in", "cannot": "plans no queries", "verdict": "inferred"}}
    found = results(entry("DB-04", "passed"), entry("DB-04", "skipped", "could not verify on this server\nmore"),
                    entry("DB-04", "skipped", "could not verify on this server"),
                    CheckRecord("t.py::q", "DB-05", "DB-05", "major", outcome="passed", facts=limit),
                    entry("DB-01", "passed"))
    assert found["DB-04"].verdict == "pass"
    assert found["DB-04"].reason == "2 checks not run (could not verify on this server)"
    assert found["DB-05"].reason == ("1 check passed on the stand-in's limits (it plans no queries); verified on "
                                     "the stand-in is not verified")
    assert found["DB-01"].reason == ""


@pytest.mark.parametrize(("message", "named"), [
    ("could not verify on this server", "not run on the stand-in"),
    ("not applicable: the stand-in reports nothing", "not applicable on the stand-in")])
def test_checks_the_stand_in_could_not_judge_are_named_for_it_not_as_plain_skips(message: str, named: str) -> None:
    limit = {"stand_in": {"cannot": "plans nothing"}}
    found = results(entry("DB-04", "passed"),
                    CheckRecord("t.py::h", "DB-04", "DB-04", "blocker", outcome="skipped", message=message,
                                facts=limit))
    assert found["DB-04"].reason == f"1 check {named} (it plans nothing); verified on the stand-in is not verified"
