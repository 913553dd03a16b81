"""cutover_pytest.report_data: the one typed seam for what a check's reports carry. Labels and attachments live in
``user_properties`` (JUnit lists them), the process's conclusions in one frozen ReportData, which crosses
pytest-xdist through pytest's own report serialisation and comes back equal."""
from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

from cutover.run.check_record import WaiverNote
from cutover_pytest.report_data import (
    ATTRIBUTE,
    FACTS,
    SERIES,
    TABLE,
    Labels,
    ReportData,
    attach,
    attached_of,
    criterion_of,
    data_of,
    from_wire,
    labels_of,
    put_labels,
    to_wire,
)

LABELS = Labels("DB-02", "blocker", "DB-02[GameScore:p1of4]")


def check(*extra: tuple[str, Any]) -> Any:
    """A collected check: labeled, then what it attached while running."""
    item: Any = SimpleNamespace(user_properties=[])
    put_labels(item, LABELS)
    attach(item, FACTS, {"cls": "GameScore", "source_docs": 3})
    attach(item, TABLE, {"title": "t", "headers": ["a"], "rows": [[1]]})
    attach(item, FACTS, {"source_docs": 5, "missing": ["x"]})
    attach(item, SERIES, {"figure": "cpu", "points": [[0, 1.5]]})
    item.user_properties.extend(extra)
    return item


def test_labels_and_attachments_are_the_user_properties_junit_lists() -> None:
    item = check()
    assert item.user_properties[:3] == [("criterion", "DB-02"), ("severity", "blocker"),
                                        ("label", "DB-02[GameScore:p1of4]")]
    assert labels_of(item) == LABELS and criterion_of(item) == "DB-02"
    assert labels_of(SimpleNamespace(user_properties=[])) is None and labels_of(object()) is None
    assert [key for key, _ in attached_of(item)] == [FACTS, TABLE, FACTS, SERIES]


def test_facts_merge_in_order_and_tables_and_series_are_decoded_where_read() -> None:
    data = ReportData(LABELS, attached=attached_of(check(("unrelated", "x"))))
    assert data.facts == {"cls": "GameScore", "source_docs": 5, "missing": ["x"]}
    assert data.tables == [{"title": "t", "headers": ["a"], "rows": [[1]]}]
    assert data.series == [{"figure": "cpu", "points": [[0, 1.5]]}]


def test_a_report_carries_its_data_through_pytests_serialisation_as_xdist_sends_it() -> None:
    item = check()
    report = pytest.TestReport("t.py::test_x[p1]", ("t.py", 1, "test_x"), {}, "failed", "boom", "call",
                               user_properties=item.user_properties)
    data = ReportData(LABELS, "waived", "2 documents differ", False,
                      WaiverNote("accepted until the resync", "2099-01-01", "ana"), "", "<p>evidence</p>",
                      attached_of(report))
    setattr(report, ATTRIBUTE, data)
    sent = report._to_json()
    sent[ATTRIBUTE] = to_wire(data)           # what the worker's serialisation hook does
    wire = json.loads(json.dumps(sent))      # execnet carries plain values only
    received = pytest.TestReport._from_json(wire)
    assert data_of(received) is None          # a dict, until the controller's hook turns it back
    assert from_wire(getattr(received, ATTRIBUTE), received) == data


def test_reports_of_something_else_carry_no_data() -> None:
    assert data_of(SimpleNamespace()) is None and data_of(SimpleNamespace(cutover={"verdict": "x"})) is None
    assert from_wire(to_wire(ReportData(LABELS)), SimpleNamespace(user_properties=[])) is None
