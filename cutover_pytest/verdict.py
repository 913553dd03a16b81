"""The end of a gate run, in the controller: each criterion's verdict, then the gate (PASS, FAIL, INCOMPLETE,
PARTIAL PASS or NOT RUN) with its exit code, and what the record and the terminal say about coverage."""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

import pytest

from cutover.model import Target
from cutover.reach import Preflight
from cutover.run.check_record import CheckRecord
from cutover.run.criteria import CRITERIA
from cutover.run.gate import Gate, judge
from cutover.run.verification import CriterionResult, criterion_results, describe_exclusions, not_verified
from cutover_pytest.collection_log import CollectionLog

UNSELECTED = "not selected: the run was narrowed to the paths given"
_NOT_RUN_EXITS = {pytest.ExitCode.INTERRUPTED: "interrupted", pytest.ExitCode.USAGE_ERROR: "usage error",
                  pytest.ExitCode.INTERNAL_ERROR: "internal error"}


@dataclasses.dataclass(frozen=True)
class Scope:
    """What the user asked this run to cover."""

    narrowed: bool = False       # the bundled catalogue was not selected as a whole (paths given)
    partial: bool = False        # --partial: a narrowed run may pass on the criteria it verified
    collect_only: bool = False   # --collect-only: nothing runs, no verdict


def criteria_of(records: Mapping[str, CheckRecord], collection: CollectionLog, target: Target,
                scope: Scope) -> dict[str, CriterionResult]:
    """Every criterion of the catalogue with its verdict."""
    store = target.files.adapter if target.files else None
    excluded = describe_exclusions(collection.exclusions(records))
    return criterion_results(records.values(), excluded, target.source.kind, store,
                             unselected=UNSELECTED if scope.narrowed else "")


def conclude(records: Mapping[str, CheckRecord], criteria: Mapping[str, CriterionResult], collection: CollectionLog,
             scope: Scope, exitstatus: int, preflight: Preflight | None = None) -> Gate:
    """The gate of the run. What the preflight found unreachable comes first in its line when checks could not
    verify (a run of checks that reach no component owes the dead ones nothing)."""
    reason, code = not_run(collection, scope, exitstatus)
    verified = {cid: result.verified for cid, result in criteria.items()}
    errored = any(r.outcome == "error" for r in records.values())
    dead = [r.component for r in preflight.dead] if preflight is not None and errored else []
    return judge(records.values(), verified, partial=scope.partial, not_run=reason, not_run_exit=code,
                 unreachable=dead, components=len(preflight.results) if preflight is not None else 0)


def not_run(collection: CollectionLog, scope: Scope, exitstatus: int) -> tuple[str, int]:
    """Why the run has no verdict at all ('' when it has one), and the exit code to give."""
    errors = len(collection.collection_errors)
    if errors:
        return f"{errors} collection error{'s' if errors > 1 else ''}", pytest.ExitCode.INTERRUPTED
    if exitstatus in _NOT_RUN_EXITS:
        return _NOT_RUN_EXITS[pytest.ExitCode(exitstatus)], exitstatus
    if not collection.collected:
        return "no checks collected", pytest.ExitCode.NO_TESTS_COLLECTED
    if scope.collect_only:
        return "--collect-only", pytest.ExitCode.NO_TESTS_COLLECTED
    return "", 0


def record_fields(criteria: Mapping[str, CriterionResult], partial: bool) -> dict[str, Any]:
    """Coverage as record.json keeps it: partial, the criteria not verified, and every criterion's verdict."""
    return {"partial": partial, "not_verified": not_verified(criteria),
            "criteria": {cid: _criterion_record(r) for cid, r in criteria.items()}}


def _criterion_record(result: CriterionResult) -> dict[str, Any]:
    data = dataclasses.asdict(result)
    data.pop("id")
    data["title"] = CRITERIA[result.id].title if result.id in CRITERIA else ""
    return data


def refused_waiver_lines(records: Iterable[CheckRecord]) -> list[str]:
    """One line per waiver that matched errors, which it cannot excuse (a waiver accepts a failure only)."""
    refused: dict[str, list[str]] = {}
    for record in records:
        if record.waiver_refused:
            refused.setdefault(record.waiver_refused, []).append(record.label)
    return [f"waiver not applied to {len(labels)} error{'s' if len(labels) > 1 else ''} "
            f"({', '.join(sorted(labels)[:5])}{', ...' if len(labels) > 5 else ''}): a waiver accepts a failure, "
            f"never 'could not verify': {waiver}" for waiver, labels in refused.items()]


def not_verified_lines(criteria: Mapping[str, CriterionResult]) -> list[str]:
    """The criteria that reached no verdict, one line per reason: "not verified (why): DB-02, DB-03"."""
    by_reason: dict[str, list[str]] = {}
    for cid in not_verified(criteria):
        by_reason.setdefault(criteria[cid].reason, []).append(cid)
    return [f"not verified ({reason}): {', '.join(ids)}" for reason, ids in by_reason.items()]
