"""The report's checks, one collapsed group per criterion: an app of 1,000 classes holds thousands of checks, and a
page that lays them all out at once (pytest-html draws every row with its evidence, and again on each click) is
slow to open and freezes. Each group says on one line how its checks ended; opened, it lists them (failing first)
with a one-line message or the check's main facts. A closed ``<details>`` is not laid out until it is opened, so
the page opens as fast with 10,000 checks as with 100. Functions of result entries (record.json's ``tests``), so
a gate run's report and a merged run's page show the same groups.
"""
from __future__ import annotations

import html
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from cutover.run.criteria import CRITERIA, severity_of
from cutover.run.remediation import natural
from cutover.run.report_summary import one_line

# pytest-html's table draws this many checks with their evidence; past it, only the failing ones (the groups and
# record.json hold every check): measured in bench/bench_breadth.py, each drawn row costs the page ~1 ms to open
# and again on every click that expands a row.
FULL_TABLE_MAX = 500
_ORDER = {"error": 0, "failed": 1, "skipped": 2, "passed": 3}
BRIEF_CAP = 160


def criterion_groups(entries: Iterable[Mapping[str, Any]], overrides: Mapping[str, str] | None = None) -> str:
    """Every criterion that has checks, in the catalogue's order, as a collapsed group of its checks."""
    by: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for entry in entries:
        by[str(entry.get("criterion", ""))].append(entry)
    order = [c for c in CRITERIA if c in by] + sorted(c for c in by if c not in CRITERIA)
    groups = "".join(_group(cid, by[cid], dict(overrides or {})) for cid in order)
    return (f'<div id="cutover-groups"><p><b>Checks per criterion</b> (open a group to list its checks; every '
            f"check's facts are in record.json)</p>{groups}</div>") if groups else ""


def _group(cid: str, entries: list[Mapping[str, Any]], overrides: dict[str, str]) -> str:
    outcomes = Counter(_outcome(e) for e in entries)
    said = ", ".join(f"{n:,} {o}" for o, n in sorted(outcomes.items(), key=lambda kv: _ORDER.get(kv[0], 9)))
    known = f" {CRITERIA[cid].title} ({severity_of(cid, overrides)})" if cid in CRITERIA else ""
    rows = sorted(entries, key=lambda e: (_ORDER.get(_outcome(e), 9), natural(str(e.get("label", "")))))
    body = "".join(f"<tr><td>{html.escape(str(e.get('label', '')))}</td><td>{html.escape(_outcome(e))}</td>"
                   f"<td>{html.escape(_brief(e))}</td></tr>" for e in rows)
    failing = " cutover-group-failing" if outcomes["failed"] or outcomes["error"] else ""
    return (f'<details class="cutover-group{failing}" data-criterion="{html.escape(cid)}"><summary>'
            f"<b>{html.escape(cid)}</b>{html.escape(known)}: {len(entries):,} "
            f"check{'s' if len(entries) != 1 else ''}: {said}</summary><table border=\"1\"><tr><th>Check</th>"
            f"<th>Outcome</th><th>Message or facts</th></tr>{body}</table></details>")


def _outcome(entry: Mapping[str, Any]) -> str:
    outcome = str(entry.get("outcome") or "not run")
    return f"{outcome} (waived)" if entry.get("waiver") and outcome in ("failed", "error") else outcome


def _brief(entry: Mapping[str, Any]) -> str:
    """The message's first line, else the check's scalar facts (``source 15, target 15``), capped."""
    message = str(entry.get("message") or "")
    if message.strip():
        return one_line(message)
    facts = entry.get("facts") or {}
    text = ", ".join(f"{k} {v}" for k, v in facts.items() if isinstance(v, (int, float, str)) and len(str(v)) < 60)
    return text if len(text) <= BRIEF_CAP else text[:BRIEF_CAP].rstrip() + " \u2026"
