"""From pytest reports to one record entry per test: outcome, criterion, severity, message, duration."""
from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from cutover.errors import CouldNotVerify

MESSAGE_CAP = 4000


def message_of(excinfo: pytest.ExceptionInfo[BaseException]) -> str:
    """A release manager's line: the assert message without pytest's introspection, or the error."""
    exc = excinfo.value
    if isinstance(exc, AssertionError):
        text = str(exc).split("\nassert ", 1)[0].strip()
        return text or "assertion failed"
    if isinstance(exc, CouldNotVerify):
        return f"could not verify: {exc}"
    if isinstance(exc, pytest.skip.Exception):
        return str(exc.msg)
    return f"{type(exc).__name__}: {exc}"


def unique_labels(marked: list[tuple[pytest.Item, str]]) -> list[str]:
    """``DB-01[GameScore]`` (criterion[parameters]); where two checks of one criterion would share a label,
    the check's name is added: ``API-06[schemas_refused]``, ``DB-04[key_sizes:GameScore]``."""
    def base(item: pytest.Item, cid: str) -> str:
        callspec = getattr(item, "callspec", None)
        return f"{cid}[{callspec.id}]" if callspec is not None else cid

    bases = [base(item, cid) for item, cid in marked]
    seen = Counter(bases)
    labels = []
    for (item, cid), label in zip(marked, bases, strict=True):
        if seen[label] > 1:
            name = getattr(item, "originalname", item.name).removeprefix("test_")
            callspec = getattr(item, "callspec", None)
            label = f"{cid}[{name}:{callspec.id}]" if callspec is not None else f"{cid}[{name}]"
        labels.append(label)
    return labels


def update_entry(entry: dict[str, Any], report: pytest.TestReport) -> None:
    """Fold one phase's report (setup/call/teardown) into the test's record entry."""
    entry["duration"] = round(entry.get("duration", 0.0) + report.duration, 4)
    message = getattr(report, "cutover_message", "")
    if report.when == "call" or (report.outcome != "passed" and entry.get("outcome") in (None, "passed")):
        entry["outcome"] = _outcome(report)
        if message:
            entry["message"] = message[:MESSAGE_CAP]
        if getattr(report, "cutover_waiver", None):
            entry["waiver"] = report.cutover_waiver
    if report.when != "teardown":
        return  # the teardown report carries every property the test attached, once
    for name, value in report.user_properties:
        if name == "cutover:table":
            entry.setdefault("tables", []).append(json.loads(str(value)))
        elif name == "cutover:facts":
            entry.setdefault("facts", {}).update(json.loads(str(value)))
        elif name == "cutover:series":
            entry.setdefault("series", []).append(json.loads(str(value)))


def _outcome(report: pytest.TestReport) -> str:
    if report.skipped:
        return "skipped"
    if report.passed:
        return "passed"
    if report.when != "call" or getattr(report, "cutover_unverified", False):
        return "error"
    return "failed"
