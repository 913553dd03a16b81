"""Same data, same report: pytest-html lists rows in the order their reports arrived, which under xdist is
whichever worker finished first. Before it renders, its rows are put in node-id order (numbers compared as
numbers), so two runs over the same data give the same page whatever the scheduling."""
from __future__ import annotations

from typing import Any

import pytest

from cutover.run.remediation import natural


def sort_html_rows(config: pytest.Config) -> int:
    """Order pytest-html's rows by node id; returns how many (0 when pytest-html is not active)."""
    for plugin in config.pluginmanager.get_plugins():
        tests = _tests_of(plugin)
        if tests is not None:
            ordered = sorted(tests.items(), key=lambda item: natural(str(item[0])))
            tests.clear()
            tests.update(ordered)
            return len(ordered)
    return 0


def drop_html_rows(config: pytest.Config, drop: set[str]) -> int:
    """pytest-html draws no row for these node ids; returns how many rows it still draws."""
    for plugin in config.pluginmanager.get_plugins():
        tests = _tests_of(plugin)
        if tests is not None:
            for nodeid in [n for n in tests if n in drop]:
                del tests[nodeid]
            return len(tests)
    return 0


def _tests_of(plugin: Any) -> dict[str, Any] | None:
    """pytest-html 4's row store (``BaseReport._report._data["tests"]``, keyed by node id), if it is that."""
    data = getattr(getattr(plugin, "_report", None), "_data", None)
    tests = data.get("tests") if isinstance(data, dict) else None
    return tests if isinstance(tests, dict) else None
