"""The deploy gate: from per-test outcomes, severities and criteria coverage to a verdict and an exit code.

Verdicts, most severe first (the README's exit code table says the same):

    GATE: NOT RUN (why)                       interrupted, collection errors, no check collected, usage error
    GATE: FAIL - 2 blockers, 1 major          a blocker, or an unwaived major, failed or could not be verified
    GATE: INCOMPLETE - not verified: <ids>    nothing failed, but applicable criteria reached no verdict
    GATE: PARTIAL PASS (n/N criteria)         the same, when the user asked for a narrowed run (--partial): n of
                                              the N criteria of the catalogue verified
    GATE: PASS                                every applicable criterion verified, nothing gating failed
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from cutover.run.criteria import GATING
from cutover.run.results import CheckRecord

EXIT_PASS, EXIT_FAIL, EXIT_INCOMPLETE = 0, 1, 6


@dataclass(frozen=True)
class Gate:
    passed: bool                      # nothing that gates failed (the severity verdict alone)
    blocking: dict[str, int]          # severity -> failed or errored tests that fail the gate
    counts: dict[str, int]            # outcome -> tests
    waived: int = 0                   # failed or errored tests a waiver excused
    not_verified: tuple[str, ...] = ()   # criteria that apply but reached no verdict
    verified: int = 0                 # criteria with a verdict (not applicable included)
    total: int = 0                    # criteria in the catalogue
    partial: bool = False             # --partial: a narrowed run may pass on what it verified
    not_run: str = ""                 # why the run has no verdict at all
    not_run_exit: int = 2

    @property
    def status(self) -> str:
        if self.not_run:
            return "NOT RUN"
        if not self.passed:
            return "FAIL"
        if self.not_verified:
            return "PARTIAL PASS" if self.partial else "INCOMPLETE"
        return "PASS"

    @property
    def exit_code(self) -> int:
        return {"NOT RUN": self.not_run_exit, "FAIL": EXIT_FAIL, "INCOMPLETE": EXIT_INCOMPLETE}.get(
            self.status, EXIT_PASS)

    @property
    def line(self) -> str:
        status = self.status
        waived = f"{self.waived} waived" if self.waived else ""
        if status == "NOT RUN":
            return f"GATE: NOT RUN ({self.not_run})"
        if status == "FAIL":
            parts = [f"{n} {sev}{'s' if n > 1 else ''}" for sev, n in self.blocking.items() if n]
            return "GATE: FAIL - " + ", ".join(parts)
        if status == "INCOMPLETE":
            return "GATE: INCOMPLETE - not verified: " + ", ".join(self.not_verified)
        if status == "PARTIAL PASS":
            return f"GATE: PARTIAL PASS ({self.verified}/{self.total} criteria{', ' + waived if waived else ''})"
        return "GATE: PASS" + (f" ({waived})" if waived else "")


def decide(records: Iterable[CheckRecord]) -> Gate:
    """The severity verdict: a test fails the gate when it failed or errored, its severity gates, and it is
    not waived. Coverage is :func:`judge`'s part."""
    records = list(records)
    counts = Counter(r.outcome or "unknown" for r in records)
    blocking = Counter(_severity(r) for r in records if r.failing and _severity(r) in GATING and r.waiver is None)
    ordered = {sev: blocking[sev] for sev in GATING if blocking[sev]}
    waived = sum(1 for r in records if r.failing and r.waiver is not None)
    return Gate(passed=not ordered, blocking=ordered, counts=dict(counts), waived=waived)


def _severity(record: CheckRecord) -> str:
    return record.severity or "blocker"   # a record without a severity gates: when in doubt, refuse to pass


def judge(records: Iterable[CheckRecord], verified: Mapping[str, bool], *, partial: bool = False,
          not_run: str = "", not_run_exit: int = 2) -> Gate:
    """The run's verdict: ``verified`` maps every criterion of the catalogue to whether it reached a verdict;
    ``not_run`` says why the run has no verdict at all (then ``not_run_exit`` is the exit code)."""
    gate = decide(records)
    missing = tuple(cid for cid, ok in verified.items() if not ok)
    return replace(gate, not_verified=missing, verified=len(verified) - len(missing), total=len(verified),
                   partial=partial, not_run=not_run, not_run_exit=not_run_exit)
