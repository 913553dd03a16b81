"""What the pytest-html report shows beyond pytest's own: Criterion, Severity and Verdict columns, tables and
charts under each test, and the release manager's view at the top (verdict, failing checks, remediation,
criteria, areas, changes, waivers, probes, every check in a collapsed group per criterion); pytest-html's
environment table goes to the end of the page. The controller's hooks call these
(:class:`cutover_pytest.controller.Controller`); the parts a merged run's page shows as well are in
:mod:`cutover.run.report_summary` and :mod:`cutover.run.report_groups`."""
from __future__ import annotations

import html
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from cutover.run.check_record import CheckRecord
from cutover.run.report_summary import render_table
from cutover.run.waivers import Waiver
from cutover_pytest import row_evidence
from cutover_pytest.charts import sparkline
from cutover_pytest.report_data import Labels, data_of


def table_header(cells: list[str]) -> None:
    cells.insert(1, '<th class="sortable" data-column-type="criterion">Criterion</th>')
    cells.insert(2, '<th class="sortable" data-column-type="severity">Severity</th>')
    cells.insert(3, '<th class="sortable" data-column-type="verdict">Verdict</th>')


def table_row(report: pytest.TestReport, cells: list[str]) -> None:
    data = data_of(report)   # a CollectReport carries none
    labels = data.labels if data is not None else Labels("", "", "")
    cells.insert(1, f"<td>{html.escape(labels.criterion)}</td>")
    cells.insert(2, f"<td>{html.escape(labels.severity)}</td>")
    charts = "".join(sparkline(series) for series in data.series) if data is not None and report.when == "call" else ""
    cells.insert(3, f"<td>{html.escape(data.verdict if data is not None else '')}{charts}</td>")


def table_html(report: pytest.TestReport, log: list[str]) -> None:
    log[:] = row_evidence.compose(report, log)   # the message and the evidence instead of the traceback
    data = data_of(report)
    if data is not None and report.when == "call":
        log.extend(render_table(table) for table in data.tables)


def changes_table(diff: dict[str, Any]) -> dict[str, Any] | None:
    if not diff["previous_run"]:
        return None
    return {"title": f"Changes since run {diff['previous_run']}", "headers": ["Newly failing", "Newly passing"],
            "rows": [[", ".join(diff["newly_failing"]) or "none", ", ".join(diff["newly_passing"]) or "none"]]}


def waivers_table(active: Iterable[Waiver], expired: Iterable[Waiver],
                  records: Iterable[CheckRecord] = ()) -> dict[str, Any] | None:
    """Each waiver, its state, and what it did: failures it waived, errors it could not excuse."""
    records = list(records)
    rows = [[w.describe(), "active", _applied(w, records)] for w in active]
    rows += [[w.describe(), "EXPIRED: ignored", ""] for w in expired]
    return {"title": "Waivers (a waiver accepts a failure, never an error: 'could not verify' stays an error)",
            "headers": ["Waiver", "State", "Applied"], "rows": rows} if rows else None


def _applied(waiver: Waiver, records: list[CheckRecord]) -> str:
    waived = sum(1 for r in records if r.excused and waiver.matches(r.criterion, r.label))
    refused = sum(1 for r in records if r.waiver_refused == waiver.describe())
    parts = [f"{waived} failure{'s' if waived != 1 else ''} waived"]
    if refused:
        parts.append(f"NOT applied to {refused} error{'s' if refused != 1 else ''} (could not verify)")
    return "; ".join(parts)


def table_note(shown: int, total: int) -> str:
    """Above pytest-html's table when it lists only the failing checks of a broad run."""
    return (f'<p id="cutover-table-note">This run holds {total:,} checks: the table below lists the {shown:,} '
            "that failed or could not be verified, with their evidence; every check is in its criterion's group "
            "above and in record.json.</p>")


# pytest-html 4's environment heading and table (its index.jinja2), drawn by its script from the run's metadata
_ENVIRONMENT = re.compile(r'\s*<div id="environment-header">\s*<h2>Environment</h2>\s*</div>\s*'
                          r'<table id="environment"></table>')


def environment_below(page: Path) -> bool:
    """Move pytest-html's environment table (Python, platform, plugins, target) from the top of the page to its
    end, so the page opens on the verdict and the failing checks. False when the page has no such table."""
    try:
        text = page.read_text(encoding="utf-8")
    except OSError:
        return False
    found = _ENVIRONMENT.search(text)
    if found is None or "<footer>" not in text:
        return False
    rest = text[:found.start()] + text[found.end():]
    head, footer, tail = rest.rpartition("<footer>")
    page.write_text(f"{head}{found.group().strip()}\n  {footer}{tail}", encoding="utf-8")
    return True


def probes_block(lines: list[str]) -> str:
    items = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
    return f'<div id="cutover-probes"><p>Probes</p><ul>{items}</ul></div>' if lines else ""
