"""The end of a gate run, in the controller: each criterion's verdict, then the gate (PASS, FAIL, INCOMPLETE,
PARTIAL PASS or NOT RUN) with its exit code, and what the record and the terminal say about coverage."""
from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from cutover.run.criteria import CRITERIA
from cutover.run.gate import Gate, judge
from cutover.run.verification import CriterionResult, criterion_results, describe_exclusions, not_verified
from cutover_pytest.state import RunState

UNSELECTED = "not selected: the run was narrowed to the paths given"
_NOT_RUN_EXITS = {pytest.ExitCode.INTERRUPTED: "interrupted", pytest.ExitCode.USAGE_ERROR: "usage error",
                  pytest.ExitCode.INTERNAL_ERROR: "internal error"}


def conclude(state: RunState, exitstatus: int) -> Gate:
    """Every criterion's verdict (kept in ``state.criteria``) and the gate."""
    store = state.target.files.adapter if state.target.files else None
    excluded = describe_exclusions(state.tally.exclusions(state.results))
    state.criteria = criterion_results(state.results.values(), excluded, state.target.source.kind, store,
                                       unselected=UNSELECTED if state.narrowed else "")
    reason, code = not_run(state, exitstatus)
    verified = {cid: result.verified for cid, result in state.criteria.items()}
    return judge(state.results.values(), verified, partial=state.partial, not_run=reason, not_run_exit=code)


def not_run(state: RunState, exitstatus: int) -> tuple[str, int]:
    """Why the run has no verdict at all ('' when it has one), and the exit code to give."""
    errors = len(state.tally.collection_errors)
    if errors:
        return f"{errors} collection error{'s' if errors > 1 else ''}", pytest.ExitCode.INTERRUPTED
    if exitstatus in _NOT_RUN_EXITS:
        return _NOT_RUN_EXITS[pytest.ExitCode(exitstatus)], exitstatus
    if not state.tally.collected:
        return "no checks collected", pytest.ExitCode.NO_TESTS_COLLECTED
    if state.collect_only:
        return "--collect-only", pytest.ExitCode.NO_TESTS_COLLECTED
    return "", 0


def record_fields(state: RunState) -> dict[str, Any]:
    """Coverage as record.json keeps it: partial, the criteria not verified, and every criterion's verdict."""
    return {"partial": state.partial, "not_verified": not_verified(state.criteria),
            "criteria": {cid: _criterion_record(r) for cid, r in state.criteria.items()}}


def _criterion_record(result: CriterionResult) -> dict[str, Any]:
    data = dataclasses.asdict(result)
    data.pop("id")
    data["title"] = CRITERIA[result.id].title if result.id in CRITERIA else ""
    return data


def not_verified_lines(state: RunState) -> list[str]:
    """The criteria that reached no verdict, one line per reason: "not verified (why): DB-02, DB-03"."""
    by_reason: dict[str, list[str]] = {}
    for cid in not_verified(state.criteria):
        by_reason.setdefault(state.criteria[cid].reason, []).append(cid)
    return [f"not verified ({reason}): {', '.join(ids)}" for reason, ids in by_reason.items()]
