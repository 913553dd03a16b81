"""pytest-html hooks: Criterion, Severity and Verdict columns, and attached tables under each test."""
from __future__ import annotations

import html
import json
from typing import Any

import pytest


def pytest_html_results_table_header(cells: list[str]) -> None:
    cells.insert(1, '<th class="sortable" data-column-type="criterion">Criterion</th>')
    cells.insert(2, '<th class="sortable" data-column-type="severity">Severity</th>')
    cells.insert(3, '<th class="sortable" data-column-type="verdict">Verdict</th>')


def pytest_html_results_table_row(report: pytest.TestReport, cells: list[str]) -> None:
    props = dict(report.user_properties)
    cells.insert(1, f"<td>{html.escape(str(props.get('criterion', '')))}</td>")
    cells.insert(2, f"<td>{html.escape(str(props.get('severity', '')))}</td>")
    cells.insert(3, f"<td>{html.escape(str(getattr(report, 'cutover_verdict', '')))}</td>")


def pytest_html_results_table_html(report: pytest.TestReport, data: list[str]) -> None:
    message = getattr(report, "cutover_message", "")
    if message and not report.passed:
        data.insert(0, f'<div class="cutover-message"><b>{html.escape(message)}</b></div>')
    for name, value in report.user_properties:
        if name == "cutover:table" and report.when == "call":
            data.append(render_table(json.loads(value)))


def render_table(table: dict[str, Any]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in table["headers"])
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in table["rows"]
    )
    return (f'<div class="cutover-table"><p>{html.escape(table["title"])}</p>'
            f'<table border="1"><tr>{head}</tr>{body}</table></div>')
