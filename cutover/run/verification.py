"""Which criteria a run verified: per test a verdict, per criterion of the catalogue a verdict and its reason.

A test's verdict: pass, fail, error, waived, not applicable (a skip whose reason starts with
``not applicable:``) or not run (any other skip, a check deselected by the user, skipped by ``--read-only``,
or collected but never run because the run stopped early).

A criterion is *verified* when it reached a verdict: some check of it failed, errored or was waived; or every
check the user selected ran, and at least one passed or all were not applicable. A criterion that no check
reached, or whose checks the user narrowed (``-k``, ``-m``, ``--deselect``, paths, ``--read-only``, ``-x``),
and nothing failed, is "not run": the gate cannot pass on it.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cutover.run.criteria import CRITERIA, not_applicable

NOT_APPLICABLE = "not applicable: "
VERDICTS = ("pass", "fail", "error", "waived", "not applicable", "not run")
_DECIDED = ("fail", "error", "waived")    # a criterion with one of these has a verdict whatever else happened


def check_verdict(entry: Mapping[str, Any]) -> str:
    """The verdict of one record entry (outcome, message, waiver)."""
    outcome = entry.get("outcome")
    if outcome == "passed":
        return "pass"
    if outcome in ("failed", "error"):
        return "waived" if entry.get("waiver") else ("fail" if outcome == "failed" else "error")
    if outcome == "skipped" and str(entry.get("message", "")).startswith(NOT_APPLICABLE):
        return "not applicable"
    return "not run"


@dataclass(frozen=True)
class CriterionResult:
    id: str
    verdict: str                                  # one of VERDICTS
    checks: dict[str, int] = field(default_factory=dict)   # test verdict -> number of checks
    reason: str = ""                              # why not applicable, or why not run

    @property
    def verified(self) -> bool:
        return self.verdict != "not run"


def criterion_results(entries: Iterable[Mapping[str, Any]], excluded: Mapping[str, str], source_kind: str,
                      store: str | None, unselected: str = "") -> dict[str, CriterionResult]:
    """Every criterion of the catalogue with its verdict.

    ``entries``: record entries (criterion, outcome, message, waiver) of the checks that ran or were skipped;
    ``excluded``: criterion -> how the user kept some of its checks from running ("2 checks deselected");
    ``unselected``: why a criterion without any check did not run, when the user narrowed the run by path.
    """
    by_criterion: dict[str, list[Mapping[str, Any]]] = {cid: [] for cid in CRITERIA}
    for entry in entries:
        by_criterion.setdefault(str(entry.get("criterion")), []).append(entry)
    where = (source_kind, store, unselected)
    return {cid: _result(cid, by_criterion.get(cid, []), excluded.get(cid, ""), *where) for cid in CRITERIA}


def _result(cid: str, entries: list[Mapping[str, Any]], excluded: str, source_kind: str,
            store: str | None, unselected: str) -> CriterionResult:
    verdicts = [check_verdict(e) for e in entries]
    checks = dict(Counter(verdicts))
    decided = next((v for v in _DECIDED if v in checks), "")
    if decided:
        return CriterionResult(cid, decided, checks)
    if excluded:
        return CriterionResult(cid, "not run", checks, excluded)
    if "pass" in checks:
        return CriterionResult(cid, "pass", checks)
    if checks and set(checks) == {"not applicable"}:
        first = next(e for e in entries if check_verdict(e) == "not applicable")
        return CriterionResult(cid, "not applicable", checks, str(first["message"])[len(NOT_APPLICABLE):])
    static = not_applicable(cid, source_kind, store)
    if not checks and static:
        return CriterionResult(cid, "not applicable", checks, static)
    if not checks:
        return CriterionResult(cid, "not run", checks, unselected or "no check of this criterion was collected")
    first_skip = next(str(e.get("message", "")) for e in entries if check_verdict(e) == "not run")
    return CriterionResult(cid, "not run", checks, first_skip or "every check was skipped")


def not_verified(results: Mapping[str, CriterionResult]) -> list[str]:
    return [cid for cid, result in results.items() if not result.verified]


def describe_exclusions(counts: Mapping[str, Counter[str]]) -> dict[str, str]:
    """criterion -> "3 checks deselected, 1 skipped by --read-only" from per-criterion counts of each cause."""
    return {cid: ", ".join(f"{n} {'check' if n == 1 else 'checks'} {how}" for how, n in sorted(causes.items()))
            for cid, causes in counts.items() if causes}
