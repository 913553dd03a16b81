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

from cutover.run.check_record import NOT_APPLICABLE, CheckRecord
from cutover.run.criteria import CRITERIA, not_applicable

_DECIDED = ("fail", "error", "waived")    # a criterion with one of these has a verdict whatever else happened


@dataclass(frozen=True)
class CriterionResult:
    id: str
    verdict: str                                  # one of cutover.run.check_record.VERDICTS
    checks: dict[str, int] = field(default_factory=dict)   # test verdict -> number of checks
    reason: str = ""                              # why not applicable, or why not run

    @property
    def verified(self) -> bool:
        return self.verdict != "not run"


def criterion_results(records: Iterable[CheckRecord], excluded: Mapping[str, str], source_kind: str,
                      store: str | None, unselected: str = "") -> dict[str, CriterionResult]:
    """Every criterion of the catalogue with its verdict.

    ``records``: the checks that ran or were skipped; ``excluded``: criterion -> how the user kept some of
    its checks from running ("2 checks deselected"); ``unselected``: why a criterion without any check did
    not run, when the user narrowed the run by path.
    """
    by_criterion: dict[str, list[CheckRecord]] = {cid: [] for cid in CRITERIA}
    for record in records:
        by_criterion.setdefault(record.criterion, []).append(record)
    where = (source_kind, store, unselected)
    return {cid: _result(cid, by_criterion.get(cid, []), excluded.get(cid, ""), *where) for cid in CRITERIA}


def _result(cid: str, records: list[CheckRecord], excluded: str, source_kind: str,
            store: str | None, unselected: str) -> CriterionResult:
    verdicts = [r.verdict for r in records]
    checks = dict(Counter(verdicts))
    decided = next((v for v in _DECIDED if v in checks), "")
    if decided:
        return CriterionResult(cid, decided, checks)
    if excluded:
        return CriterionResult(cid, "not run", checks, excluded)
    if "pass" in checks:
        return CriterionResult(cid, "pass", checks, _caveats(records))
    if checks and set(checks) == {"not applicable"}:
        first = next(r for r in records if r.verdict == "not applicable")
        return CriterionResult(cid, "not applicable", checks, first.message[len(NOT_APPLICABLE):])
    static = not_applicable(cid, source_kind, store)
    if not checks and static:
        return CriterionResult(cid, "not applicable", checks, static)
    if not checks:
        return CriterionResult(cid, "not run", checks, unselected or "no check of this criterion was collected")
    first_skip = next(r.message for r in records if r.verdict == "not run")
    return CriterionResult(cid, "not run", checks, first_skip or "every check was skipped")


def _caveats(records: list[CheckRecord]) -> str:
    """What a passing criterion's verdict does not rest on: checks that did not run (a pass of the others
    decides it) and checks whose verdict rests on the sandbox stand-in's limits (verified on the stand-in is not
    verified); "" when neither."""
    parts = []
    skipped = [r for r in records if r.verdict == "not run" and not _limit(r)]
    if skipped:
        parts.append(f"{_checks(len(skipped))} not run ({_first_line(skipped[0].message) or 'skipped'})")
    for verdict, how in (("not run", "not run on the stand-in"), ("not applicable", "not applicable on the stand-in"),
                         ("pass", "passed on the stand-in's limits")):
        limited = [r for r in records if r.verdict == verdict and _limit(r)]
        cannot = "; it ".join(sorted({_limit(r) for r in limited}))
        if limited:
            parts.append(f"{_checks(len(limited))} {how} (it {cannot})")
    if any(_limit(r) for r in records):
        parts.append("verified on the stand-in is not verified")
    return "; ".join(parts)


def _limit(record: CheckRecord) -> str:
    """What the stand-in could not answer for this check ("" when the check did not rest on it)."""
    fact = record.facts.get("stand_in")
    return str(fact.get("cannot") or "its limits") if isinstance(fact, dict) else ""


def _first_line(text: str) -> str:
    return text.splitlines()[0] if text else ""


def _checks(n: int) -> str:
    return f"{n} check" if n == 1 else f"{n} checks"


def not_verified(results: Mapping[str, CriterionResult]) -> list[str]:
    return [cid for cid, result in results.items() if not result.verified]


def describe_exclusions(counts: Mapping[str, Counter[str]]) -> dict[str, str]:
    """criterion -> "3 checks deselected, 1 skipped by --read-only" from per-criterion counts of each cause."""
    return {cid: ", ".join(f"{n} {'check' if n == 1 else 'checks'} {how}" for how, n in sorted(causes.items()))
            for cid, causes in counts.items() if causes}
