"""What a check's row shows when opened: its one-line message and evidence, not pytest's traceback.

``for_report`` runs where the check ran (controller or xdist worker): the evidence HTML its report carries
(:class:`cutover_pytest.report_data.ReportData`, redacted by the caller); ``compose`` replaces pytest-html's log with
it.
A failure shows message and evidence, and what the check printed behind a closed toggle: the traceback would
show the check's source and object reprs, which tell a release manager nothing. An error, or a check that
crashed, shows the raw traceback behind a closed toggle, when there is one beyond the message (a "could not
verify" error's message is the whole story).
"""
from __future__ import annotations

import html
import re

import pytest

from cutover.run import evidence
from cutover_pytest.report_data import ReportData, data_of

_XDIST_HEADER = re.compile(r"\A\[gw\d+\] [^\n]*\n\n?")   # "[gw1] linux -- Python 3.11 ...": which worker
_BLOCK = 'style="white-space:normal;font-family:sans-serif"'


def for_report(when: str, data: ReportData) -> str:
    """The evidence block of a report ('' for setup/teardown or a check that recorded nothing)."""
    return evidence.render(data.labels.criterion, data.facts) if when == "call" else ""


def compose(report: pytest.TestReport, log: list[str]) -> list[str]:
    """The row's log for a criterion-marked check; pytest-html's own log for anything else."""
    data = data_of(report)
    if data is None:
        return log
    block = data.evidence
    if report.passed:
        return [f"<div {_BLOCK}>{block}</div>"] if block else log
    message = data.message
    out = [f'<div class="cutover-message" {_BLOCK}><b>{evidence.esc(message)}</b></div>'] if message else []
    if block:
        out.append(f"<div {_BLOCK}>{block}</div>")
    if _traceback_helps(report, data.verdict, message):
        out.append(_toggle("cutover-traceback", "Traceback (for whoever maintains the check)", log))
    elif report.sections:
        out.append(_toggle("cutover-output", "Captured output", _captured(report)))
    return out or log


def _traceback_helps(report: pytest.TestReport, verdict: str, message: str) -> bool:
    """An error with more to say than its message, or a check that crashed (not an assertion that failed)."""
    if verdict == "error":
        return _XDIST_HEADER.sub("", report.longreprtext).strip() != message.strip()
    crash = getattr(getattr(report.longrepr, "reprcrash", None), "message", "")
    return verdict == "failed" and not str(crash).startswith("AssertionError")


def _captured(report: pytest.TestReport) -> list[str]:
    """What the check printed or logged, as pytest-html shows it, without the traceback."""
    return [f"{' ' + html.escape(header) + ' ':-^80}\n{html.escape(content)}" for header, content in report.sections]


def _toggle(kind: str, title: str, data: list[str]) -> str:
    """Closed until asked for. pytest-html's log entries are escaped already; the closing tags go on their own
    line (pytest-html wraps each line starting with 'E' in a span, up to the end of the line)."""
    body = _XDIST_HEADER.sub("", "\n".join(data)).lstrip(" ").rstrip("\n")
    return (f'<details class="{kind}" {_BLOCK}><summary>{title}</summary>'
            f'<pre style="white-space:pre-wrap;font-family:monospace">{body}\n</pre>\n</details>')
