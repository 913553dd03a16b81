"""Run history of a target: what changed since the previous run, and ``reports/<target>/index.html``."""
from __future__ import annotations

import html
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from cutover.run.check_record import FAILING, CheckRecord


def load_records(target_dir: Path) -> list[dict[str, Any]]:
    """Every readable record.json under ``target_dir``, newest run first."""
    records = []
    for path in sorted(target_dir.glob("*/record.json"), key=lambda p: run_order(p.parent.name), reverse=True):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(record, dict):
            record["_dir"] = path.parent.name
            records.append(record)
    return records


def run_order(run_id: str) -> tuple[str, int]:
    """Sort key of a run id: ``<UTC stamp>`` then ``<stamp>-2``, ``-3`` ... ``-10`` (not as text: -10 < -2)."""
    stamp, _, n = run_id.partition("-")
    return stamp, int(n) if n.isdigit() else 1


def previous_record(target_dir: Path, run_id: str) -> dict[str, Any] | None:
    """The newest record of a run older than ``run_id``."""
    older = [r for r in load_records(target_dir) if run_order(r["_dir"]) < run_order(run_id)]
    return older[0] if older else None


def changes(previous: dict[str, Any] | None, tests: Iterable[CheckRecord]) -> dict[str, Any]:
    """Labels newly failing (or erroring) and newly passing since ``previous`` (a record.json)."""
    if previous is None:
        return {"previous_run": None, "newly_failing": [], "newly_passing": []}
    # a test cut short by an interruption has no outcome
    before = {t["label"]: t.get("outcome") for t in previous.get("tests", [])}
    now = {t.label: t.outcome for t in tests}
    newly_failing = sorted(k for k, v in now.items() if v in FAILING and before.get(k) not in FAILING)
    newly_passing = sorted(k for k, v in now.items() if v == "passed" and before.get(k) in FAILING)
    return {"previous_run": previous.get("run_id"), "newly_failing": newly_failing, "newly_passing": newly_passing}


def write_index(target_dir: Path) -> Path:
    """``index.html``: every run of the target, newest first, with date, verdict, counts and a link."""
    rows = []
    for record in load_records(target_dir):
        counts = ", ".join(f"{n} {k}" for k, n in sorted(record.get("counts", {}).items()))
        verdict = str(record.get("verdict", ""))
        run = html.escape(record["_dir"])
        partial = "partial: true" if record.get("partial") else ""
        rows.append(f'<tr><td><a href="{run}/report.html">{run}</a></td>'
                    f"<td>{html.escape(str(record.get('started_utc', '')))}</td>"
                    f'<td style="color:{_colour(verdict)}"><b>{html.escape(verdict)}</b></td>'
                    f"<td>{partial}</td><td>{html.escape(counts)}</td></tr>")
    title = f"cutover runs: {html.escape(target_dir.name)}"
    page = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head><body>"
            f"<h1>{title}</h1><table border='1' cellpadding='4'><tr><th>Run</th><th>Started (UTC)</th>"
            f"<th>Verdict</th><th>Partial run</th><th>Tests</th></tr>{''.join(rows)}</table></body></html>\n")
    index = target_dir / "index.html"
    index.write_text(page, encoding="utf-8")
    return index


def _colour(verdict: str) -> str:
    """Green for a pass, amber for a partial pass or an incomplete run, red otherwise."""
    if verdict.startswith("GATE: PASS"):
        return "#1a7f37"
    return "#9a6700" if verdict.startswith(("GATE: PARTIAL PASS", "GATE: INCOMPLETE")) else "#cf222e"
