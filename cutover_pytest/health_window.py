"""The run's health window (DB-06): sampled once per run, started at collection, read by the checks last.

Checks marked ``@pytest.mark.health_window`` receive the finished window through the ``health_window`` fixture
(:mod:`cutover_pytest.fixtures`). At collection, the first process of the run that collects such a check (the
only process, or one pytest-xdist worker: a claim file in the run's scratch directory decides) starts a
:class:`cutover.data.Sampler` on its target client, and the marked checks move to the end of the run: the
window overlaps the other checks, and the marked checks wait only for what is left of it. The sampler stops
with the session (it is closed before the process reports its end, and by ``Session.close()`` on every other
way out). The marker's former name, ``telemetry``, is still accepted, with a deprecation warning.
"""
from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from cutover.data import Sampler, Window, claim, health_series, read_window
from cutover.errors import CouldNotVerify
from cutover.reach import TARGET_DB
from cutover_pytest.run_state import RunState

WINDOW_FILE = "health-window.json"
CLAIM_FILE = "health-window.claim"
MARKER = "health_window: the check reads the run's health window (DB-06), sampled once per run during the other checks"
OLD_MARKER = "telemetry: deprecated, the former name of health_window (still accepted)"
DEPRECATED = "@pytest.mark.telemetry is deprecated: mark the check @pytest.mark.health_window (same meaning)"


class HealthWindow:
    """One process's part: the marked checks last, and the sampler when this process claimed the window."""

    def __init__(self, state: RunState) -> None:
        self.state = state
        self.sampler: Sampler | None = None

    def last(self, items: list[pytest.Item], collect_only: bool) -> None:
        """Move the checks that read the window to the end (in place); start the sampler when this process is the
        first of the run to claim the window (never for --collect-only)."""
        marked = [item for item in items if reads_window(item)]
        if not marked:
            return
        moved = {id(item) for item in marked}
        items[:] = [item for item in items if id(item) not in moved] + marked
        if not collect_only and claim(self.state.scratch / CLAIM_FILE):
            with contextlib.suppress(CouldNotVerify):  # a dead target database: the checks say so at once
                self.sampler = self._start()

    def _start(self) -> Sampler:
        limits = self.state.target.thresholds
        sampler = Sampler(self.state.session.target_client, window_path(self.state.scratch),
                          limits.health_window_s, limits.health_interval_s).start()
        self.state.session.keep(sampler)
        return sampler

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Stop this process's sampler before an xdist worker reports its end to the controller."""
        if self.sampler is not None:
            self.sampler.close()


def reads_window(item: pytest.Item) -> bool:
    """Whether the check is marked as reading the health window; the former marker warns that it is deprecated."""
    if item.get_closest_marker("health_window") is not None:
        return True
    if item.get_closest_marker("telemetry") is None:
        return False
    item.warn(pytest.PytestDeprecationWarning(DEPRECATED))
    return True


def window_path(scratch: Path) -> Path:
    return scratch / WINDOW_FILE


def finished_window(state: RunState) -> Window:
    """The run's finished health window; waits for what is left of it (ERROR if it has gaps or never ends)."""
    state.session.reach.require(TARGET_DB)  # never wait out a window nobody samples
    limits = state.target.thresholds
    wait = limits.health_window_s + limits.health_interval_s + 4 * limits.timeout_s + 10
    return health_series.usable(read_window(window_path(state.scratch), wait))
