"""What pytest itself prints and writes, made safe and exact: secrets redacted in tracebacks and captured output,
"could not verify" written as a JUnit error."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest


def redact_report(report: pytest.TestReport, redact: Callable[[str], str]) -> None:
    """Mask secrets in the report's traceback (keeping its structure) and captured sections."""
    report.sections = [(name, redact(content)) for name, content in report.sections]
    longrepr = report.longrepr
    if longrepr is None:
        return
    if isinstance(longrepr, str):
        report.longrepr = redact(longrepr)
    elif isinstance(longrepr, tuple):  # skip reports: (path, lineno, reason)
        report.longrepr = (longrepr[0], longrepr[1], redact(longrepr[2]))
    else:
        _redact_exception_repr(longrepr, redact)


def _redact_exception_repr(longrepr: Any, redact: Callable[[str], str]) -> None:
    for reprtraceback, reprcrash, _ in getattr(longrepr, "chain", []):
        if reprcrash is not None:
            reprcrash.message = redact(reprcrash.message)
        for entry in getattr(reprtraceback, "reprentries", []):
            if hasattr(entry, "lines"):
                entry.lines = [redact(line) for line in entry.lines]
            reprlocals = getattr(entry, "reprlocals", None)
            if reprlocals is not None:
                reprlocals.lines = [redact(line) for line in reprlocals.lines]
            reprfuncargs = getattr(entry, "reprfuncargs", None)
            if reprfuncargs is not None:
                reprfuncargs.args = [(name, redact(str(value))) for name, value in reprfuncargs.args]
    reprcrash = getattr(longrepr, "reprcrash", None)
    if reprcrash is not None:
        reprcrash.message = redact(reprcrash.message)


def junit_address(nodeid: str) -> tuple[str, str]:
    """(classname, name) the way pytest's junitxml writes a test case for ``nodeid``."""
    names = nodeid.split("::")
    names[0] = names[0].replace("/", ".")
    if names[0].endswith(".py"):
        names[0] = names[0][:-3]
    return ".".join(names[:-1]), names[-1]


def mark_junit_errors(junit: Path, error_ids: Iterable[str]) -> None:
    """Turn <failure> into <error> for tests that could not be verified (JUnit's own 'error')."""
    wanted = {junit_address(nodeid) for nodeid in error_ids}
    if not wanted or not junit.is_file():
        return
    tree = ET.parse(junit)
    changed = 0
    for suite in tree.getroot().iter("testsuite"):
        for case in suite.iter("testcase"):
            failure = case.find("failure")
            if failure is not None and (case.get("classname"), case.get("name")) in wanted:
                failure.tag = "error"
                changed += 1
        if changed:
            suite.set("failures", str(max(0, int(suite.get("failures", "0")) - changed)))
            suite.set("errors", str(int(suite.get("errors", "0")) + changed))
    if changed:
        tree.write(junit, encoding="utf-8", xml_declaration=True)
