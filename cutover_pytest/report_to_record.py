"""From pytest's reports to the run's typed records (:class:`cutover.run.check_record.CheckRecord`).

Each process concludes, for each report of its checks, the release manager's message, whether the check could
not verify, the verdict shown in the HTML report and the waiver that excused it (:func:`conclude`: a
:class:`cutover_pytest.report_data.ReportData`, which pytest-xdist carries to the controller); the controller
folds every report of a test into its record (:func:`fold`).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import pytest

from cutover.errors import CouldNotVerify, as_could_not_verify
from cutover.run.check_record import FAILING, MESSAGE_CAP, SHOWN, CheckRecord, WaiverNote, verdict_of
from cutover.run.waivers import NOT_FOR_ERRORS, Waiver, waiver_for
from cutover_pytest.report_data import Labels, ReportData, attached_of, data_of, labels_of


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


def outcome_of(report: pytest.TestReport, unverified: bool) -> str:
    """passed, failed, error (could not verify, or a failure outside the check's body) or skipped."""
    if report.skipped:
        return "skipped"
    if report.passed:
        return "passed"
    if report.when != "call" or unverified:
        return "error"
    return "failed"


def conclude(report: Any, excinfo: pytest.ExceptionInfo[BaseException] | None, redact: Callable[[str], str],
             waivers: Iterable[Waiver], labels: Labels) -> ReportData:
    """What a check's report (a pytest.TestReport) carries: its message, whether it could not verify, its waiver
    and its shown verdict (no evidence yet). A report that could not verify shows its message as its longrepr."""
    message, unverified = "", False
    if excinfo is not None and not report.skipped:
        cause = as_could_not_verify(excinfo.value)
        message, unverified = redact(f"could not verify: {cause}" if cause else message_of(excinfo)), cause is not None
    elif excinfo is not None:
        message = redact(message_of(excinfo))
    outcome = outcome_of(report, unverified)
    matched = waiver_for(waivers, labels.criterion, labels.label) if outcome in FAILING else None
    note, refused, message = _waive(outcome, matched, message)
    if unverified:
        report.longrepr = message
    verdict = verdict_of(outcome, message, note is not None)
    return ReportData(labels, SHOWN.get(verdict, verdict), message, unverified, note, refused,
                      attached=attached_of(report))


def _waive(outcome: str, waiver: Waiver | None, message: str) -> tuple[WaiverNote | None, str, str]:
    """(the note of the waiver that excuses a failure, the waiver refused, the message): a waiver that matches an
    error is refused, and the message says so."""
    if waiver is None:
        return None, "", message
    if outcome == "error":   # a waiver accepts a finding, never "could not verify"
        return None, waiver.describe(), f"{message} ({NOT_FOR_ERRORS}: {waiver.describe()})"
    return WaiverNote(waiver.justification, str(waiver.expires), waiver.author), "", message


_NOTHING = ReportData(Labels("", "", ""))


def fold(record: CheckRecord, report: pytest.TestReport) -> None:
    """Fold one phase's report (setup, call, teardown) into the test's record."""
    data = data_of(report) or _NOTHING   # a report xdist made for a crashed worker carries nothing of ours
    record.duration = round(record.duration + report.duration, 4)
    if report.when == "call" or (report.outcome != "passed" and record.outcome in (None, "passed")):
        record.outcome = outcome_of(report, data.unverified)
        if data.message:
            record.message = data.message[:MESSAGE_CAP]
        if data.waiver is not None:
            record.waiver = data.waiver
        record.waiver_refused = data.waiver_refused or record.waiver_refused
    if report.when != "teardown":
        return  # the teardown report carries every property the test attached, once
    record.tables.extend(data.tables)
    record.facts.update(data.facts)
    record.series.extend(data.series)


def new_record(report: pytest.TestReport) -> CheckRecord | None:
    """The record of a check's first report (None for a test that carries no criterion)."""
    labels = labels_of(report)
    if labels is None:
        return None
    return CheckRecord(report.nodeid, labels.label, labels.criterion, labels.severity)
