"""What the pytest-html report shows beyond pytest's own: Criterion, Severity and Verdict columns, tables and
charts under each test, and the release manager's view at the top (verdict, criteria, areas, changes, waivers,
probes). The controller's hooks call these (:class:`cutover_pytest.controller.Controller`)."""
from __future__ import annotations

import html
import json
from collections.abc import Iterable, Mapping
from typing import Any

import pytest

from cutover.run.criteria import CRITERIA, SEVERITY_ORDER, severity_of
from cutover.run.gate import Gate
from cutover.run.results import CheckRecord
from cutover.run.verification import CriterionResult
from cutover.run.waivers import Waiver
from cutover_pytest import rowlog
from cutover_pytest.charts import sparkline

_COLOURS = {"PASS": "#1a7f37", "PARTIAL PASS": "#9a6700", "INCOMPLETE": "#9a6700"}


def table_header(cells: list[str]) -> None:
    cells.insert(1, '<th class="sortable" data-column-type="criterion">Criterion</th>')
    cells.insert(2, '<th class="sortable" data-column-type="severity">Severity</th>')
    cells.insert(3, '<th class="sortable" data-column-type="verdict">Verdict</th>')


def table_row(report: pytest.TestReport, cells: list[str]) -> None:
    props = dict(getattr(report, "user_properties", ()))  # a CollectReport has none
    cells.insert(1, f"<td>{html.escape(str(props.get('criterion', '')))}</td>")
    cells.insert(2, f"<td>{html.escape(str(props.get('severity', '')))}</td>")
    charts = "".join(sparkline(json.loads(value)) for name, value in getattr(report, "user_properties", ())
                     if name == "cutover:series") if report.when == "call" else ""
    cells.insert(3, f"<td>{html.escape(str(getattr(report, 'cutover_verdict', '')))}{charts}</td>")


def table_html(report: pytest.TestReport, data: list[str]) -> None:
    data[:] = rowlog.compose(report, data)   # the message and the evidence instead of the traceback
    for name, value in getattr(report, "user_properties", ()):
        if name == "cutover:table" and report.when == "call":
            data.append(render_table(json.loads(value)))


def render_table(table: dict[str, Any]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in table["headers"])
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in table["rows"]
    )
    return (f'<div class="cutover-table"><p>{html.escape(table["title"])}</p>'
            f'<table border="1"><tr>{head}</tr>{body}</table></div>')


def banner(gate: Gate | None, target: str, run_id: str, partial: bool) -> str:
    colour = _COLOURS.get(gate.status if gate else "NOT RUN", "#cf222e")
    line = gate.line if gate else "GATE: NOT RUN (interrupted, or a usage or collection error)"
    note = " (partial run: --partial)" if partial else ""
    return (f'<div id="cutover-verdict" style="background:{colour};color:white;padding:12px;'
            f'font-size:20px"><b>{html.escape(line)}</b> &mdash; target '
            f"{html.escape(target)}, run {html.escape(run_id)}{note}</div>")


def criteria_matrix(results: Mapping[str, CriterionResult], overrides: dict[str, str]) -> dict[str, Any]:
    """Every criterion of the catalogue with its verdict: pass, fail, error, waived, not applicable, not run."""
    rows = []
    for cid, result in results.items():
        checks = ", ".join(f"{n} {verdict}" for verdict, n in sorted(result.checks.items()))
        title = CRITERIA[cid].title if cid in CRITERIA else ""
        rows.append([cid, title, severity_of(cid, overrides), result.verdict.upper(), checks or "none",
                     result.reason])
    return {"title": "Criteria (the catalogue: docs/CHECKS.md, or the command cutover criteria)",
            "headers": ["Criterion", "Title", "Severity", "Verdict", "Checks", "Why"], "rows": rows}


def area_table(records: Iterable[CheckRecord]) -> dict[str, Any]:
    cells: dict[tuple[str, str], dict[str, int]] = {}
    for r in records:
        bucket = cells.setdefault((CRITERIA[r.criterion].area, r.severity), {})
        bucket[r.outcome or "?"] = bucket.get(r.outcome or "?", 0) + 1
    rows = [[area, sev, *(counts.get(o, 0) for o in ("passed", "failed", "error", "skipped"))]
            for (area, sev), counts in sorted(cells.items(), key=lambda kv: (kv[0][0], SEVERITY_ORDER[kv[0][1]]))]
    return {"title": "Results per area and severity",
            "headers": ["Area", "Severity", "Passed", "Failed", "Error", "Skipped"], "rows": rows}


def changes_table(diff: dict[str, Any]) -> dict[str, Any] | None:
    if not diff["previous_run"]:
        return None
    return {"title": f"Changes since run {diff['previous_run']}", "headers": ["Newly failing", "Newly passing"],
            "rows": [[", ".join(diff["newly_failing"]) or "none", ", ".join(diff["newly_passing"]) or "none"]]}


def waivers_table(active: Iterable[Waiver], expired: Iterable[Waiver]) -> dict[str, Any] | None:
    rows = [[w.describe(), "active"] for w in active] + [[w.describe(), "EXPIRED: ignored"] for w in expired]
    return {"title": "Waivers", "headers": ["Waiver", "State"], "rows": rows} if rows else None


def probes_block(lines: list[str]) -> str:
    items = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
    return f'<div id="cutover-probes"><p>Probes</p><ul>{items}</ul></div>' if lines else ""
