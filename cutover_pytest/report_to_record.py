"""From pytest's reports to the run's typed records (:class:`cutover.run.check_record.CheckRecord`).

Each process decorates the reports of its checks (:func:`decorate`): the release manager's message, whether
the check could not verify, the verdict shown in the HTML report and the waiver that excused it; pytest-xdist
carries these attributes to the controller, which folds every report of a test into its record
(:func:`fold`).
"""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import pytest

from cutover.errors import CouldNotVerify, as_could_not_verify
from cutover.run.check_record import FAILING, MESSAGE_CAP, SHOWN, CheckRecord, WaiverNote, verdict_of
from cutover.run.waivers import NOT_FOR_ERRORS, Waiver, waiver_for


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


def outcome_of(report: pytest.TestReport) -> str:
    """passed, failed, error (could not verify, or a failure outside the check's body) or skipped."""
    if report.skipped:
        return "skipped"
    if report.passed:
        return "passed"
    if report.when != "call" or getattr(report, "cutover_unverified", False):
        return "error"
    return "failed"


def decorate(report: Any, excinfo: pytest.ExceptionInfo[BaseException] | None,
             redact: Callable[[str], str], waivers: Iterable[Waiver], criterion: str, label: str) -> None:
    """Give a check's report (a pytest.TestReport: xdist carries its attributes to the controller) its
    message, whether it could not verify, its waiver and its shown verdict."""
    if excinfo is not None and not report.skipped:
        unverified = as_could_not_verify(excinfo.value)
        report.cutover_message = redact(f"could not verify: {unverified}" if unverified else message_of(excinfo))
        report.cutover_unverified = unverified is not None
        if unverified is not None:
            report.longrepr = report.cutover_message
    elif excinfo is not None:
        report.cutover_message = redact(message_of(excinfo))
    outcome = outcome_of(report)
    waived = _waive(report, outcome, waiver_for(waivers, criterion, label) if outcome in FAILING else None)
    verdict = verdict_of(outcome, getattr(report, "cutover_message", ""), waived)
    report.cutover_verdict = SHOWN.get(verdict, verdict)


def _waive(report: Any, outcome: str, waiver: Waiver | None) -> bool:
    """Let the waiver excuse a failure; a waiver that matches an error is refused, and the message says so."""
    if waiver is None:
        return False
    if outcome == "error":   # a waiver accepts a finding, never "could not verify"
        report.cutover_waiver_refused = waiver.describe()
        report.cutover_message = f"{getattr(report, 'cutover_message', '')} ({NOT_FOR_ERRORS}: {waiver.describe()})"
        if getattr(report, "cutover_unverified", False):
            report.longrepr = report.cutover_message
        return False
    report.cutover_waiver = {"justification": waiver.justification, "expires": str(waiver.expires),
                             "author": waiver.author}
    return True


def fold(record: CheckRecord, report: pytest.TestReport) -> None:
    """Fold one phase's report (setup, call, teardown) into the test's record."""
    record.duration = round(record.duration + report.duration, 4)
    message = getattr(report, "cutover_message", "")
    if report.when == "call" or (report.outcome != "passed" and record.outcome in (None, "passed")):
        record.outcome = outcome_of(report)
        if message:
            record.message = message[:MESSAGE_CAP]
        waiver = getattr(report, "cutover_waiver", None)
        if waiver:
            record.waiver = WaiverNote(**waiver)
        record.waiver_refused = getattr(report, "cutover_waiver_refused", "") or record.waiver_refused
    if report.when != "teardown":
        return  # the teardown report carries every property the test attached, once
    for name, value in report.user_properties:
        if name == "cutover:table":
            record.tables.append(json.loads(str(value)))
        elif name == "cutover:facts":
            record.facts.update(json.loads(str(value)))
        elif name == "cutover:series":
            record.series.append(json.loads(str(value)))


def new_record(report: pytest.TestReport) -> CheckRecord | None:
    """The record of a check's first report (None for a test that carries no criterion)."""
    props = dict(report.user_properties)
    if "criterion" not in props:
        return None
    return CheckRecord(report.nodeid, str(props.get("label")), str(props["criterion"]), str(props["severity"]))
