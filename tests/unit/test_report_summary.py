"""cutover.run.report_summary: the failing checks in one line each, most severe first; remediation links."""
from __future__ import annotations

from cutover.run import remediation, report_summary


def test_failing_checks_most_severe_first_then_by_label_in_one_line() -> None:
    entries = [{"label": "DB-02[C:p10of12]", "severity": "blocker", "outcome": "failed", "message": "a\nmore"},
               {"label": "FILE-04", "severity": "minor", "outcome": "failed", "message": "orphans"},
               {"label": "DB-02[C:p2of12]", "severity": "blocker", "outcome": "error", "message": "x" * 300},
               {"label": "DB-07", "severity": "major", "outcome": "failed", "message": "m", "waiver": {"a": 1}},
               {"label": "DB-01", "severity": "blocker", "outcome": "passed", "message": ""}]
    table = report_summary.failing(entries)
    assert table is not None
    assert [r[0] for r in table["rows"]] == ["DB-02[C:p2of12]", "DB-02[C:p10of12]", "DB-07", "FILE-04"]
    assert table["rows"][0][3] == "x" * report_summary.LINE_CAP + " \u2026"
    assert table["rows"][1][3] == "a \u2026" and table["rows"][2][2] == "waived"


def test_nothing_failing_no_table_no_links() -> None:
    assert report_summary.failing([{"label": "DB-01", "outcome": "passed"}]) is None
    assert report_summary.remediation_links(remediation.from_entries([])) == ""


def test_links_are_relative_to_the_report() -> None:
    entries = [{"criterion": "DB-03", "label": "DB-03[C]", "outcome": "failed",
                "facts": {"collection": "C", "specs": {"missing": [{"name": "a_1", "key": [["a", 1]]}]}}}]
    links = report_summary.remediation_links(remediation.from_entries(entries))
    assert 'href="remediation/DB-03-create-indexes.js"' in links
