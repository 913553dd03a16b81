"""The end of a broad run (cutover_pytest.breadth): pytest's failure summary finds each failed check's teardown
output through an index made once, the same reports its own lookup finds; a broad run's objects are frozen for the
exit, a small run's are not."""
from __future__ import annotations

import gc
from types import SimpleNamespace
from typing import Any

from _pytest.terminal import TerminalReporter

from cutover_pytest.breadth import freeze_for_exit, index_teardown_reports


class Reporter:
    def __init__(self, reports: list[Any]) -> None:
        self.stats = {"": reports}

    def getreports(self, name: str) -> list[Any]:
        return list(self.stats.get(name, ()))

    _get_teardown_reports = TerminalReporter._get_teardown_reports   # pytest's own, quadratic lookup


def config_with(plugin: Any) -> Any:
    return SimpleNamespace(pluginmanager=SimpleNamespace(get_plugin=lambda name: plugin))


def test_the_index_finds_what_pytests_lookup_finds() -> None:
    reports = [SimpleNamespace(id=f"t{i % 50}", when=("setup", "teardown")[i % 2]) for i in range(400)]
    reporter = Reporter(reports)
    before = {f"t{k}": reporter._get_teardown_reports(f"t{k}") for k in range(52)}
    assert index_teardown_reports(config_with(reporter))   # type: ignore[arg-type]
    assert {f"t{k}": reporter._get_teardown_reports(f"t{k}") for k in range(52)} == before
    assert before["t1"] and not before["t0"] and not before["t51"]


def test_without_a_terminal_reporter_nothing_changes() -> None:
    assert not index_teardown_reports(config_with(None))   # type: ignore[arg-type]
    assert not index_teardown_reports(config_with(SimpleNamespace()))   # type: ignore[arg-type]


def test_only_a_broad_run_is_frozen_for_the_exit() -> None:
    assert not freeze_for_exit(500, 500) and gc.get_freeze_count() == 0
    try:
        assert freeze_for_exit(501, 500) and gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
