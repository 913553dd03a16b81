"""What keeps the end of a broad run short (an app of 1,000 classes: ~6,200 checks).

- pytest's terminal summary, for each failed check, looks through every passing check's reports for its teardown
  output (``TerminalReporter._get_teardown_reports``): 100 failures among 6,000 checks read 1.2 million reports,
  several seconds. Indexed once by check, the same summary prints the same lines at once.
- Once the run is archived, the process holds ~500,000 objects (reports, records, pytest-html's rows) that Python's
  finalization walks through in several full collections: 6-8 s at 6,200 checks before the process exited, its
  exit code waited for. Frozen (:func:`gc.freeze`) after the archive, they are left to the exit.
"""
from __future__ import annotations

import gc
from collections import defaultdict
from typing import Any

import pytest


def index_teardown_reports(config: pytest.Config) -> bool:
    """Answer the terminal reporter's teardown lookups from an index made now (its reports are all in); False when
    the reporter is absent or does not look them up this way (another pytest): its own lookup then stays."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None or not callable(getattr(reporter, "_get_teardown_reports", None)):
        return False
    teardowns: dict[Any, list[Any]] = defaultdict(list)
    for report in reporter.getreports(""):
        if getattr(report, "when", None) == "teardown":
            teardowns[report.id].append(report)
    reporter._get_teardown_reports = lambda node_id: list(teardowns.get(node_id, ()))
    return True


def freeze_for_exit(checks: int, threshold: int) -> bool:
    """After the archive of a run of more than ``threshold`` checks: leave what the run holds out of the collections
    the interpreter makes at exit (nothing of the run is used after this; what comes after is still collected)."""
    if checks <= threshold:
        return False
    gc.freeze()
    return True
