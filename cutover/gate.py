"""The deploy gate: from per-test outcomes and severities to a verdict and an exit code."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

GATING = ("blocker", "major")
BAD = ("failed", "error")


@dataclass(frozen=True)
class Gate:
    passed: bool
    blocking: dict[str, int]          # severity -> failed or errored tests that fail the gate
    counts: dict[str, int]            # outcome -> tests
    waived: int = 0                   # failed or errored tests a waiver excused

    @property
    def exit_code(self) -> int:
        return 0 if self.passed else 1

    @property
    def line(self) -> str:
        if self.passed:
            return "GATE: PASS" + (f" ({self.waived} waived)" if self.waived else "")
        parts = [f"{n} {sev}{'s' if n > 1 else ''}" for sev, n in self.blocking.items() if n]
        return "GATE: FAIL - " + ", ".join(parts)


def decide(entries: Iterable[dict[str, Any]]) -> Gate:
    """A test fails the gate when it failed or errored, its severity gates, and it is not waived."""
    entries = list(entries)
    counts = Counter(e.get("outcome", "unknown") for e in entries)
    blocking = Counter(
        e.get("severity", "blocker") for e in entries
        if e.get("outcome") in BAD and e.get("severity", "blocker") in GATING and not e.get("waiver")
    )
    ordered = {sev: blocking[sev] for sev in GATING if blocking[sev]}
    waived = sum(1 for e in entries if e.get("outcome") in BAD and e.get("waiver"))
    return Gate(passed=not ordered, blocking=ordered, counts=dict(counts), waived=waived)
