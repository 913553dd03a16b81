"""The report's first screen after the verdict: the failing checks in one line each, and the remediation files.

Both are functions of the run's result entries (a record.json ``tests`` list, or the plugin's entries while the
run is on), so a merged report renders them the same way, and the same entries always give the same HTML.
"""
from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from typing import Any

from cutover.run import remediation
from cutover.run.criteria import SEVERITY_ORDER

LINE_CAP = 200


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


def remediation_files(entries: Iterable[Mapping[str, Any]]) -> tuple[remediation.RemediationFile, ...]:
    return remediation.plan(remediation.Finding.from_entry(e) for e in entries)


def remediation_links(files: Iterable[remediation.RemediationFile]) -> str:
    """Links to the remediation files, relative to report.html (both sit in the run directory)."""
    items = "".join(f'<li><a class="cutover-remediation" href="{html.escape(f.name)}">{html.escape(f.name)}</a> '
                    f"&mdash; {html.escape(f.title)}</li>" for f in files)
    return (f'<div id="cutover-remediation"><p><b>Remediation</b> (written from the evidence; review before '
            f"running anything)</p><ul>{items}</ul></div>") if items else ""
