"""pytest-html hooks: Criterion, Severity and Verdict columns, and attached tables under each test."""
from __future__ import annotations

import html
import json
from typing import Any

import pytest

from cutover_pytest import firstscreen, rowlog
from cutover_pytest.charts import sparkline


def pytest_html_results_table_header(cells: list[str]) -> None:
    cells.insert(1, '<th class="sortable" data-column-type="criterion">Criterion</th>')
    cells.insert(2, '<th class="sortable" data-column-type="severity">Severity</th>')
    cells.insert(3, '<th class="sortable" data-column-type="verdict">Verdict</th>')


def pytest_html_results_table_row(report: pytest.TestReport, cells: list[str]) -> None:
    props = dict(getattr(report, "user_properties", ()))  # a CollectReport has none
    cells.insert(1, f"<td>{html.escape(str(props.get('criterion', '')))}</td>")
    cells.insert(2, f"<td>{html.escape(str(props.get('severity', '')))}</td>")
    charts = "".join(sparkline(json.loads(value)) for name, value in getattr(report, "user_properties", ())
                     if name == "cutover:series") if report.when == "call" else ""
    cells.insert(3, f"<td>{html.escape(str(getattr(report, 'cutover_verdict', '')))}{charts}</td>")


def pytest_html_results_table_html(report: pytest.TestReport, data: list[str]) -> None:
    data[:] = rowlog.compose(report, data)   # issue 16: message and evidence instead of the traceback
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


def pytest_html_results_summary(prefix: list[str], summary: list[str], postfix: list[str],
                                session: pytest.Session) -> None:
    """The release manager's view first: verdict banner, criteria matrix, counts per area and severity, changes,
    waivers."""
    from cutover_pytest.state import get_state

    state = get_state(session.config)
    if state is None:
        return
    entries = list(state.results.values())
    gate = state.gate
    colour = _COLOURS.get(gate.status if gate else "NOT RUN", "#cf222e")
    line = gate.line if gate else "GATE: NOT RUN (interrupted, or a usage or collection error)"
    partial = " (partial run: --partial)" if state.partial else ""
    prefix.append(f'<div id="cutover-verdict" style="background:{colour};color:white;padding:12px;'
                  f'font-size:20px"><b>{html.escape(line)}</b> &mdash; target '
                  f"{html.escape(state.target.name)}, run {html.escape(state.run_id)}{partial}</div>")
    failing = firstscreen.failing(entries)   # issue 16: first screen = verdict, failing checks, fixes, matrix
    if failing:
        prefix.append(render_table(failing))
    prefix.append(firstscreen.remediation_links(firstscreen.remediation_files(entries)))
    if state.criteria:
        prefix.append(render_table(criteria_matrix(state.criteria, state.target.severity)))
    prefix.append(render_table(_area_table(entries)))
    diff = state.changes_since_previous()
    if diff["previous_run"]:
        prefix.append(render_table({"title": f"Changes since run {diff['previous_run']}",
                                    "headers": ["Newly failing", "Newly passing"],
                                    "rows": [[", ".join(diff["newly_failing"]) or "none",
                                              ", ".join(diff["newly_passing"]) or "none"]]}))
    rows = [[w.describe(), "active"] for w in state.waivers]
    rows += [[w.describe(), "EXPIRED: ignored"] for w in state.expired_waivers]
    if rows:
        prefix.append(render_table({"title": "Waivers", "headers": ["Waiver", "State"], "rows": rows}))


SEVERITY_ORDER = {"blocker": 0, "major": 1, "minor": 2}
_COLOURS = {"PASS": "#1a7f37", "PARTIAL PASS": "#9a6700", "INCOMPLETE": "#9a6700"}


def criteria_matrix(results: dict[str, Any], overrides: dict[str, str]) -> dict[str, Any]:
    """Every criterion of the catalogue with its verdict: pass, fail, error, waived, not applicable, not run."""
    from cutover.run.criteria import CRITERIA, severity_of

    rows = []
    for cid, result in results.items():
        checks = ", ".join(f"{n} {verdict}" for verdict, n in sorted(result.checks.items()))
        title = CRITERIA[cid].title if cid in CRITERIA else ""
        rows.append([cid, title, severity_of(cid, overrides), result.verdict.upper(), checks or "none",
                     result.reason])
    return {"title": "Criteria (the catalogue: docs/CHECKS.md, or the command cutover criteria)",
            "headers": ["Criterion", "Title", "Severity", "Verdict", "Checks", "Why"], "rows": rows}


def _area_table(entries: list[dict[str, Any]]) -> dict[str, Any]:
    from cutover.run.criteria import CRITERIA

    cells: dict[tuple[str, str], dict[str, int]] = {}
    for e in entries:
        key = (CRITERIA[e["criterion"]].area, e["severity"])
        bucket = cells.setdefault(key, {})
        bucket[e.get("outcome", "?")] = bucket.get(e.get("outcome", "?"), 0) + 1
    rows = [[area, sev, *(counts.get(o, 0) for o in ("passed", "failed", "error", "skipped"))]
            for (area, sev), counts in sorted(cells.items(), key=lambda kv: (kv[0][0], SEVERITY_ORDER[kv[0][1]]))]
    return {"title": "Results per area and severity",
            "headers": ["Area", "Severity", "Passed", "Failed", "Error", "Skipped"], "rows": rows}
