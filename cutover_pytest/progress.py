"""Progress lines in the controller (the only process, or xdist's controller, which sees every check's
report): one line at most every ``--progress-every`` seconds (default: 10 on a terminal, 30 without one, as in
CI logs; 0: off), however many checks the run holds: the checks done of the whole and the time left, then each
criterion under way with several checks (DB-02's partitions, per-class and per-index checks), its checks done and
documents per second (DB-02's ``source_docs``). Written whole through pytest's terminal writer, a line on its own
never breaks pytest's progress dots, ``-q`` or xdist's output; with ``-qq`` or less nothing is written.
"""
from __future__ import annotations

import sys
import time
from collections import Counter
from typing import Any

import pytest

from cutover.run.progress import Progress, Tracker
from cutover_pytest.report_data import ReportData, criterion_of, data_of
from cutover_pytest.usage import lenient

DEFAULT_TTY_S, DEFAULT_CI_S = 10.0, 30.0


def add_option(group: Any) -> None:
    group.addoption("--progress-every", type=lenient(float), default=None, metavar="S",
                    help=f"progress of long criteria every S seconds (default {DEFAULT_TTY_S:g} on a terminal, "
                         f"{DEFAULT_CI_S:g} without one; 0: off)")


class ProgressLines:
    def __init__(self, config: pytest.Config, clock: Any = time.monotonic) -> None:
        self.config, self.clock = config, clock
        self.progress = Progress(every_s=0.0)
        self.started = 0.0

    def _interval(self) -> float:
        asked = self.config.getoption("progress_every", None)
        if asked is not None:
            return float(asked)
        return DEFAULT_TTY_S if sys.stdout.isatty() else DEFAULT_CI_S

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self._track(criterion_of(item) for item in session.items)

    @pytest.hookimpl(optionalhook=True, trylast=True)   # after the controller merged the worker's collection log
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        if not self.progress.total:   # every worker collects the same checks: count them once
            self._track(c for c in _criteria_of(self.config, ids))

    def _track(self, criteria: Any) -> None:
        counts = Counter(c or "" for c in criteria)
        self.started = now = self.clock()
        trackers = {c: Tracker(n, now) for c, n in counts.items() if c and n > 1}
        self.progress = Progress(self._interval(), trackers, now, total=sum(counts.values()))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "teardown" or not self.progress.total:
            return
        data = data_of(report)
        self.progress.finish(data.labels.criterion if data is not None else "", _docs(data))
        now = self.clock()
        if self.progress.due(now) and self.config.get_verbosity() > -2:
            self._write(self.progress.line(now, self.started))

    def _write(self, line: str) -> None:
        """On a line of its own: end the line of progress dots pytest may be in the middle of."""
        if self.config.pluginmanager.get_plugin("terminalreporter") is None:   # -p no:terminal
            return
        writer = self.config.get_terminal_writer()
        if writer.width_of_current_line:
            writer.line()
        writer.line(f"cutover progress {line}")


def _docs(data: ReportData | None) -> int:
    """The source documents a check compared (DB-02's ``source_docs`` fact), 0 when it says none."""
    docs = data.facts.get("source_docs") if data is not None else None
    return docs if isinstance(docs, int) else 0


def _criteria_of(config: pytest.Config, ids: list[str]) -> list[str]:
    """Under xdist the controller has node ids only: their criteria from the collection log the workers handed over."""
    from cutover_pytest.run_state import get_state

    state = get_state(config)
    return [state.collection.collected.get(i, "") for i in ids] if state is not None else []


def register(config: pytest.Config) -> None:
    config.pluginmanager.register(ProgressLines(config), "cutover-progress")
