"""What a check's row shows when opened: its one-line message and evidence, not pytest's traceback.

``for_report`` runs where the check ran (controller or xdist worker) and leaves the evidence HTML on the
report (``report.cutover_evidence``, redacted by the caller); ``compose`` replaces pytest-html's log with it.
A failure shows message and evidence, and what the check printed behind a closed toggle: the traceback would
show the check's source and object reprs, which tell a release manager nothing. An error, or a check that
crashed, shows the raw traceback behind a closed toggle, when there is one beyond the message (a "could not
verify" error's message is the whole story).
"""
from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from cutover.run import evidence

_XDIST_HEADER = re.compile(r"\A\[gw\d+\] [^\n]*\n\n?")   # "[gw1] linux -- Python 3.11 ...": which worker
_BLOCK = 'style="white-space:normal;font-family:sans-serif"'


def facts_of(report: pytest.TestReport) -> dict[str, Any]:
    """The facts the check recorded (``record_facts`` calls merge in order, as in the record)."""
    facts: dict[str, Any] = {}
    for name, value in getattr(report, "user_properties", ()):
        if name == "cutover:facts":
            facts.update(json.loads(str(value)))
    return facts


def for_report(report: pytest.TestReport) -> str:
    """The evidence block for this phase's report ('' for setup/teardown or a check that recorded nothing)."""
    if report.when != "call":
        return ""
    criterion = str(dict(report.user_properties).get("criterion", ""))
    return evidence.render(criterion, facts_of(report))


def attach(report: Any, redact: Callable[[str], str]) -> None:
    """Give a check's report (xdist carries the attribute to the controller) its row's evidence, redacted."""
    report.cutover_evidence = redact(for_report(report))


def compose(report: pytest.TestReport, data: list[str]) -> list[str]:
    """The row's log for a criterion-marked check; pytest-html's own log for anything else."""
    if not hasattr(report, "cutover_verdict"):
        return data
    block = getattr(report, "cutover_evidence", "")
    if report.passed:
        return [f"<div {_BLOCK}>{block}</div>"] if block else data
    message = getattr(report, "cutover_message", "")
    out = [f'<div class="cutover-message" {_BLOCK}><b>{evidence.esc(message)}</b></div>'] if message else []
    if block:
        out.append(f"<div {_BLOCK}>{block}</div>")
    if _traceback_helps(report, message):
        out.append(_toggle("cutover-traceback", "Traceback (for whoever maintains the check)", data))
    elif report.sections:
        out.append(_toggle("cutover-output", "Captured output", _captured(report)))
    return out or data


def _traceback_helps(report: pytest.TestReport, message: str) -> bool:
    """An error with more to say than its message, or a check that crashed (not an assertion that failed)."""
    if report.cutover_verdict == "error":
        return _XDIST_HEADER.sub("", report.longreprtext).strip() != message.strip()
    crash = getattr(getattr(report.longrepr, "reprcrash", None), "message", "")
    return report.cutover_verdict == "failed" and not str(crash).startswith("AssertionError")


def _captured(report: pytest.TestReport) -> list[str]:
    """What the check printed or logged, as pytest-html shows it, without the traceback."""
    return [f"{' ' + html.escape(header) + ' ':-^80}\n{html.escape(content)}" for header, content in report.sections]


def _toggle(kind: str, title: str, data: list[str]) -> str:
    """Closed until asked for. pytest-html's log entries are escaped already; the closing tags go on their own
    line (pytest-html wraps each line starting with 'E' in a span, up to the end of the line)."""
    body = _XDIST_HEADER.sub("", "\n".join(data)).lstrip(" ").rstrip("\n")
    return (f'<details class="{kind}" {_BLOCK}><summary>{title}</summary>'
            f'<pre style="white-space:pre-wrap;font-family:monospace">{body}\n</pre>\n</details>')
