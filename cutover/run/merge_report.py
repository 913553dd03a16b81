"""The merged run's report.html: the first screen of a gate run's report, then the shards and every check.

The same parts as pytest-html's page of a gate run (:mod:`cutover.run.report_summary`: verdict banner, failing
checks in one line each, remediation links, criteria matrix, counts per area and severity), drawn from the
merged results; then what only a merge has (coverage across shards, the shards themselves); then every check
in a collapsed group per criterion (:mod:`cutover.run.report_groups`); then a row per check, with the message,
the evidence (:mod:`cutover.run.evidence`, from the recorded facts) and the tables of every check that failed,
errored or was waived. A self-contained page: no script, no stylesheet file.
"""
from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from cutover.run import evidence, report_groups, report_summary
from cutover.run.merge import Merged
from cutover.run.remediation import RemediationFile

_SHOWN = ("fail", "error", "waived")   # verdicts whose row opens on its message and evidence
_STYLE = ("body{font-family:sans-serif;margin:16px}table{border-collapse:collapse;margin:6px 0}"
          "td,th{padding:3px 6px;vertical-align:top;text-align:left}.cutover-detail td{background:#f6f8fa}")


def render_report(merged: Merged, run_id: str, fixes: Sequence[RemediationFile]) -> str:
    """The page, a function of the merged results (same shards, same page)."""
    first = merged.shards[0].record
    target = str(first["target"])
    entries = [r.to_json() for r in sorted(merged.records.values(), key=lambda r: r.id)]
    title = html.escape(f"cutover: {target} {run_id} (merged from {len(merged.shards)} shards)")
    parts = [report_summary.banner(merged.gate, target, run_id, merged.gate.partial), _coverage(merged.coverage)]
    failing = report_summary.failing(entries)
    if failing:
        parts.append(f'<div id="cutover-failing">{report_summary.render_table(failing)}</div>')
    parts.append(report_summary.remediation_links(fixes))
    overrides = first.get("severity_overrides") or {}
    parts.append(report_summary.render_table(report_summary.criteria_matrix(merged.criteria, overrides)))
    parts.append(report_summary.render_table(report_summary.area_table(merged.records.values())))
    parts.append(report_summary.render_table(shards_table(s.record for s in merged.shards)))
    parts.append(report_groups.criterion_groups(entries, overrides))
    parts.append(checks_table(entries))
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title><style>{_STYLE}</style>"
            f"</head><body><h1>{title}</h1>{''.join(parts)}</body></html>\n")


def _coverage(problems: Sequence[str]) -> str:
    items = "".join(f"<li>{html.escape(p)}</li>" for p in problems)
    return (f'<div id="cutover-coverage"><p><b>Coverage across shards broken</b></p><ul>{items}</ul></div>'
            if items else "")


def shards_table(records: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    rows = [[f"{r['shard']['index']}/{r['shard']['count']}", r.get("run_id", ""), r.get("verdict", ""),
             f"{len(r['shard'].get('assigned', []))} of {r['shard'].get('plan_total', '?')}"]
            for r in sorted(records, key=lambda r: (r["shard"]["index"], str(r.get("run_id"))))]
    return {"title": "Shards merged (each shard's run directory is listed in record.json's merged_from)",
            "headers": ["Shard", "Run", "Verdict of the shard alone", "Checks assigned"], "rows": rows}


def checks_table(entries: Iterable[Mapping[str, Any]]) -> str:
    """Every check; under a failed, errored or waived one, its message, evidence and tables."""
    rows = []
    for e in entries:
        cells = [e.get("label", e["id"]), e["criterion"], e["severity"], e.get("verdict", ""),
                 f"{float(e.get('duration', 0.0)):.2f} s"]
        rows.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
        if e.get("verdict") in _SHOWN:
            rows.append(f'<tr class="cutover-detail"><td colspan="5">{detail(e)}</td></tr>')
    head = "".join(f"<th>{h}</th>" for h in ("Check", "Criterion", "Severity", "Verdict", "Duration"))
    return (f'<div id="cutover-checks"><p>Checks</p><table id="results-table" border="1"><tr>{head}</tr>'
            f"{''.join(rows)}</table></div>")


def detail(entry: Mapping[str, Any]) -> str:
    message = str(entry.get("message", ""))
    waiver = entry.get("waiver")
    parts = [f'<div class="cutover-message"><b>{evidence.esc(message)}</b></div>'] if message else []
    if waiver:
        parts.append(f"<p>Waived by {html.escape(str(waiver.get('author')))} until "
                     f"{html.escape(str(waiver.get('expires')))}: {html.escape(str(waiver.get('justification')))}</p>")
    parts.append(evidence.render(str(entry["criterion"]), entry.get("facts") or {}))
    parts.extend(report_summary.render_table(t) for t in entry.get("tables", []))
    return "".join(parts)
