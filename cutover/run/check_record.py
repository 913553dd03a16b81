"""What one check established, as a typed record: outcome, verdict, message, severity and its evidence.

The pytest glue folds the reports of a test (setup, call, teardown) into one :class:`CheckRecord`; the gate,
the criteria verdicts, the history and the HTML report read them; ``record.json`` keeps
:meth:`CheckRecord.to_json` of each test.

A check's outcome is what pytest saw: passed, failed, error ("could not verify", or a failure outside the
check's body) or skipped; None when it never ran (the run stopped before it). Its verdict is what the gate
counts: pass, fail, error, waived, not applicable (a skip whose reason starts with ``not applicable:``) or
not run (any other skip, or no outcome).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

NOT_APPLICABLE = "not applicable: "
FAILING = ("failed", "error")      # the outcomes a gating severity turns into a failed gate
VERDICTS = ("pass", "fail", "error", "waived", "not applicable", "not run")
# the Verdict column of the HTML report names a pass and a fail as the outcome does
SHOWN = {"pass": "passed", "fail": "failed"}
MESSAGE_CAP = 4000


def verdict_of(outcome: str | None, message: str, waived: bool) -> str:
    """The verdict of a check with this outcome, message and waiver. A waiver accepts a finding (failed), never
    "could not verify" (error): an error stays an error, waiver or not (CHECKS.md, amendment of 2026-12-07)."""
    if outcome == "passed":
        return "pass"
    if outcome in FAILING:
        return "waived" if waived and outcome == "failed" else ("fail" if outcome == "failed" else "error")
    if outcome == "skipped" and message.startswith(NOT_APPLICABLE):
        return "not applicable"
    return "not run"


@dataclass(frozen=True)
class WaiverNote:
    """The waiver that excused a failed or errored check, as the record keeps it."""

    justification: str
    expires: str
    author: str = ""

    def to_json(self) -> dict[str, str]:
        return {"justification": self.justification, "expires": self.expires, "author": self.author}


@dataclass(slots=True)
class CheckRecord:
    """One test of a run: built when its first report arrives, completed by the later ones."""

    id: str                          # pytest's node id
    label: str                       # DB-01[GameScore]
    criterion: str
    severity: str
    duration: float = 0.0
    outcome: str | None = None       # passed | failed | error | skipped; None: never ran
    message: str = ""
    waiver: WaiverNote | None = None
    waiver_refused: str = ""         # the waiver that matched this check but could not excuse it (an error)
    tables: list[dict[str, Any]] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    series: list[dict[str, Any]] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        return verdict_of(self.outcome, self.message, self.waiver is not None)

    @property
    def failing(self) -> bool:
        return self.outcome in FAILING

    @property
    def excused(self) -> bool:
        """A failure a waiver accepted (an error never is: it could not be verified)."""
        return self.outcome == "failed" and self.waiver is not None

    def to_json(self) -> dict[str, Any]:
        """The test's entry in record.json (keys only where there is something to say)."""
        data: dict[str, Any] = {"id": self.id, "label": self.label, "criterion": self.criterion,
                                "severity": self.severity, "duration": self.duration}
        if self.outcome is not None:
            data["outcome"] = self.outcome
        optional = {"message": self.message, "waiver": self.waiver.to_json() if self.waiver else None,
                    "waiver_refused": self.waiver_refused, "tables": self.tables, "facts": self.facts,
                    "series": self.series}
        data.update((key, value) for key, value in optional.items() if value)
        data["verdict"] = self.verdict
        return data
