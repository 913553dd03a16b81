"""The report's first screen: the verdict banner, the failing checks in one line each, the remediation files,
the criteria matrix, the counts per area and severity, and the table they are drawn with.

Functions of the run's typed results or of its result entries (a record.json ``tests`` list, or the plugin's
entries while the run is on), so a gate run's report (pytest-html, through the controller) and a merged run's
page (``cutover merge``) render them the same way, and the same entries always give the same HTML.
"""
from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from typing import Any

from cutover.run import remediation
from cutover.run.check_record import CheckRecord
from cutover.run.criteria import CRITERIA, SEVERITY_ORDER, severity_of
from cutover.run.gate import Gate
from cutover.run.verification import CriterionResult

LINE_CAP = 200
_COLOURS = {"PASS": "#1a7f37", "PARTIAL PASS": "#9a6700", "INCOMPLETE": "#9a6700"}


def one_line(message: str) -> str:
    """The message's first line, capped: the whole message is in the check's row and in record.json."""
    first = message.strip().splitlines()[0] if message.strip() else ""
    return first if len(first) <= LINE_CAP and first == message.strip() else first[:LINE_CAP].rstrip() + " \u2026"


def failing(entries: Iterable[Mapping[str, Any]]) -> dict[str, Any] | None:
    """The failing and erroring checks, most severe first, then by label: a table for ``render_table``."""
    rows = sorted(((e.get("label") or e.get("id", ""), e.get("severity", ""),
                    "waived" if e.get("waiver") else e.get("outcome", ""), one_line(str(e.get("message", ""))))
                   for e in entries if e.get("outcome") in ("failed", "error")),
                  key=lambda r: (SEVERITY_ORDER.get(str(r[1]), 9), remediation.natural(str(r[0]))))
    if not rows:
        return None
    return {"title": "Failing checks (most severe first; evidence under each check's row below)",
            "headers": ["Check", "Severity", "Outcome", "Message"], "rows": [list(r) for r in rows]}


def remediation_links(files: Iterable[remediation.RemediationFile]) -> str:
    """Links to the remediation files, relative to report.html (both sit in the run directory)."""
    items = "".join(f'<li><a class="cutover-remediation" href="{html.escape(f.name)}">{html.escape(f.name)}</a> '
                    f"&mdash; {html.escape(f.title)}</li>" for f in files)
    return (f'<div id="cutover-remediation"><p><b>Remediation</b> (written from the evidence; review before '
            f"running anything)</p><ul>{items}</ul></div>") if items else ""


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
