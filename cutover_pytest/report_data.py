"""One typed seam for what a check's reports carry: :class:`ReportData`, attached in one place, read through
:func:`data_of` (the controller's records, the HTML rows, the terminal, the progress lines).

What it is made of, and how each part travels:

- collection gives each check its criterion, severity and label (:func:`put_labels`), and the check attaches
  tables, facts and series while it runs (:func:`attach`, behind the ``report_table``, ``record_facts`` and
  ``report_series`` fixtures). Both go to the item's ``user_properties`` (what the check attached JSON-encoded under
  the ``cutover:*`` keys): pytest copies them to each of the check's reports, pytest-xdist carries them to the
  controller, and pytest's JUnit writer lists them under each test case, as CI reads them.
- the process that ran the check concludes, for each report, the message, whether it could not verify, the verdict
  shown, the waiver and the row's evidence (:class:`cutover_pytest.checking.Checks`). :class:`ReportData` holds all
  of it, frozen, as the report's ``cutover`` attribute; to reach xdist's controller the conclusions are serialised
  once (:func:`to_wire`, :func:`from_wire`), the rest is read again from the report's ``user_properties``.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import pytest

from cutover.run.check_record import WaiverNote

ATTRIBUTE = "cutover"   # the report's attribute holding its ReportData (on the wire: to_wire's dict)
TABLE, FACTS, SERIES = "cutover:table", "cutover:facts", "cutover:series"
_LABEL_KEYS = ("criterion", "severity", "label")


@dataclass(frozen=True)
class Labels:
    """What collection gives a check: its criterion, the criterion's severity for this target, its label."""

    criterion: str
    severity: str
    label: str   # DB-01[GameScore]


def put_labels(item: pytest.Item, labels: Labels) -> None:
    item.user_properties.extend(zip(_LABEL_KEYS, (labels.criterion, labels.severity, labels.label), strict=True))


def labels_of(node: Any) -> Labels | None:
    """An item's or a report's labels (None for a test without a criterion, or a collection report)."""
    props = dict(getattr(node, "user_properties", ()))
    if "criterion" not in props:
        return None
    return Labels(str(props["criterion"]), str(props.get("severity")), str(props.get("label")))


def criterion_of(node: Any) -> str | None:
    labels = labels_of(node)
    return labels.criterion if labels is not None else None


def attach(item: pytest.Item, key: str, value: Any) -> None:
    """Attach a table, facts or a series (``key``: TABLE, FACTS, SERIES) to the running check, JSON-encoded."""
    item.user_properties.append((key, json.dumps(value, default=str)))


def attached_of(node: Any) -> tuple[tuple[str, str], ...]:
    """What the check attached, in order, still encoded (decoded only where read)."""
    return tuple((key, str(value)) for key, value in getattr(node, "user_properties", ())
                 if key in (TABLE, FACTS, SERIES))


@dataclass(frozen=True)
class ReportData:
    """What one report (setup, call or teardown) of a check carries."""

    labels: Labels
    verdict: str = ""                # the HTML Verdict column: passed, failed, error, waived, not applicable, not run
    message: str = ""                # the release manager's line, redacted
    unverified: bool = False         # the check could not verify: an ERROR, whatever pytest says
    waiver: WaiverNote | None = None     # the waiver that excused the failure
    waiver_refused: str = ""         # the waiver that matched but cannot excuse an error
    evidence: str = ""               # the row's evidence HTML (call reports), redacted
    attached: tuple[tuple[str, str], ...] = ()   # (key, JSON) as attached: see facts, tables, series

    # decoded once per report: the controller reads a teardown report's facts for its record and its progress line
    @cached_property
    def facts(self) -> dict[str, Any]:
        """The facts the check recorded (``record_facts`` calls merge in order)."""
        merged: dict[str, Any] = {}
        for value in self._decoded(FACTS):
            merged.update(value)
        return merged

    @cached_property
    def tables(self) -> list[dict[str, Any]]:
        return self._decoded(TABLE)

    @cached_property
    def series(self) -> list[dict[str, Any]]:
        return self._decoded(SERIES)

    def _decoded(self, key: str) -> list[Any]:
        return [json.loads(value) for name, value in self.attached if name == key]


def data_of(report: Any) -> ReportData | None:
    """The report's data (None for a report that carries none: a collection report, a test without a criterion)."""
    data = getattr(report, ATTRIBUTE, None)
    return data if isinstance(data, ReportData) else None


def to_wire(data: ReportData) -> dict[str, Any]:
    """The process's conclusions, for pytest-xdist (labels and attachments travel in ``user_properties``)."""
    return {"verdict": data.verdict, "message": data.message, "unverified": data.unverified,
            "waiver": data.waiver.to_json() if data.waiver else None, "waiver_refused": data.waiver_refused,
            "evidence": data.evidence}


def from_wire(wire: Mapping[str, Any], report: Any) -> ReportData | None:
    """The report's data again, in xdist's controller: the conclusions sent, the rest from ``user_properties``."""
    labels = labels_of(report)
    if labels is None:
        return None
    waiver = wire.get("waiver")
    return ReportData(labels, str(wire["verdict"]), str(wire["message"]), bool(wire["unverified"]),
                      WaiverNote(**waiver) if waiver else None, str(wire["waiver_refused"]), str(wire["evidence"]),
                      attached_of(report))
