"""The deploy gate: from per-test outcomes, severities and criteria coverage to a verdict and an exit code.

Verdicts, most severe first (the README's exit code table says the same):

    GATE: NOT RUN (why)                       interrupted, collection errors, no check collected, usage error
    GATE: FAIL - 2 blockers (DB-01, DB-02), 1 major (DB-06)
                                              a blocker, or an unwaived major, failed or could not be verified;
                                              counted by criterion, not by check
    GATE: INCOMPLETE - not verified: <ids>    nothing failed, but applicable criteria reached no verdict
    GATE: PARTIAL PASS (n/N criteria)         the same, when the user asked for a narrowed run (--partial): n of
                                              the N criteria of the catalogue verified
    GATE: PASS                                every applicable criterion verified, nothing gating failed

When the preflight found components unreachable and checks could not verify, a FAIL or INCOMPLETE line says so
first, ``GATE: FAIL - not verified: 7 of 7 components unreachable (source database, target database, ...);
9 blockers (...)``: a run that could reach nothing must not read like a run full of defects.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from cutover.run.check_record import CheckRecord
from cutover.run.criteria import CRITERIA, GATING, SEVERITY_ORDER

EXIT_PASS, EXIT_FAIL, EXIT_INCOMPLETE = 0, 1, 6


@dataclass(frozen=True)
class Gate:
    passed: bool                      # nothing that gates failed (the severity verdict alone)
    blocking: dict[str, tuple[str, ...]]   # severity -> the criteria whose failed or errored checks fail the gate
    counts: dict[str, int]            # outcome -> tests
    waived: int = 0                   # failed tests a waiver excused
    not_verified: tuple[str, ...] = ()   # criteria that apply but reached no verdict
    verified: int = 0                 # criteria with a verdict (not applicable included)
    total: int = 0                    # criteria in the catalogue
    partial: bool = False             # --partial: a narrowed run may pass on what it verified
    not_run: str = ""                 # why the run has no verdict at all
    not_run_exit: int = 2
    unreachable: tuple[str, ...] = ()   # components the preflight found unreachable
    components: int = 0               # components the preflight probed

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
            parts = [f"{len(ids)} {sev}{'s' if len(ids) > 1 else ''} ({_some(ids)})"
                     for sev, ids in self.blocking.items()]
            return "GATE: FAIL - " + self._unreachable() + ", ".join(parts)
        if status == "INCOMPLETE":
            return "GATE: INCOMPLETE - " + (self._unreachable() or "not verified: ") + ", ".join(self.not_verified)
        if status == "PARTIAL PASS":
            return f"GATE: PARTIAL PASS ({self.verified}/{self.total} criteria{', ' + waived if waived else ''})"
        return "GATE: PASS" + (f" ({waived})" if waived else "")

    def _unreachable(self) -> str:
        """What the preflight found dead, said first: a run that reached nothing verified nothing."""
        if not self.unreachable:
            return ""
        return (f"not verified: {len(self.unreachable)} of {self.components} components unreachable "
                f"({', '.join(self.unreachable)}); ")


def _some(ids: Sequence[str], shown: int = 4) -> str:
    """The criteria of a severity, the first few of them: the line stays short, the matrix lists them all."""
    return ", ".join(ids[:shown]) + (", ..." if len(ids) > shown else "")


def decide(records: Iterable[CheckRecord]) -> Gate:
    """The severity verdict: a test fails the gate when it failed or errored, its severity gates, and it is
    not waived (an error never is); the gate counts the criteria of such tests. Coverage is :func:`judge`'s
    part."""
    records = list(records)
    counts = Counter(r.outcome or "unknown" for r in records)
    gating = _gating_criteria(records)
    catalogue = {cid: i for i, cid in enumerate(CRITERIA)}
    blocking = {sev: tuple(sorted((c for c, s in gating.items() if s == sev), key=lambda c: (catalogue.get(c, 99), c)))
                for sev in GATING}
    waived = sum(1 for r in records if r.excused)
    return Gate(passed=not gating, blocking={sev: ids for sev, ids in blocking.items() if ids}, counts=dict(counts),
                waived=waived)


def _gating_criteria(records: list[CheckRecord]) -> dict[str, str]:
    """criterion -> the most severe gating severity among its failed or errored, unexcused checks."""
    found: dict[str, str] = {}
    for record in records:
        severity = _severity(record)
        if record.failing and not record.excused and severity in GATING:
            known = found.get(record.criterion, severity)
            found[record.criterion] = min(known, severity, key=SEVERITY_ORDER.__getitem__)
    return found


def _severity(record: CheckRecord) -> str:
    return record.severity or "blocker"   # a record without a severity gates: when in doubt, refuse to pass


def judge(records: Iterable[CheckRecord], verified: Mapping[str, bool], *, partial: bool = False,
          not_run: str = "", not_run_exit: int = 2, unreachable: Sequence[str] = (), components: int = 0) -> Gate:
    """The run's verdict: ``verified`` maps every criterion of the catalogue to whether it reached a verdict;
    ``not_run`` says why the run has no verdict at all (then ``not_run_exit`` is the exit code);
    ``unreachable``: the components the preflight found dead, of ``components``."""
    gate = decide(records)
    missing = tuple(cid for cid, ok in verified.items() if not ok)
    return replace(gate, not_verified=missing, verified=len(verified) - len(missing), total=len(verified),
                   partial=partial, not_run=not_run, not_run_exit=not_run_exit, unreachable=tuple(unreachable),
                   components=components)
