"""The order a gate run gives its checks, run for real in subprocesses (pytester): the checks that read the health
window run last, whether marked ``health_window`` or with the marker's deprecated former name ``telemetry``
(which warns); the user's -k, then the shard, then the health window, each on what the step before left
(cutover_pytest/collection_order.py)."""
from __future__ import annotations

import pytest

from tests.plugin.test_plugin import run, team_tree
from tests.plugin.test_resume import ran

CHECKS = """
import pathlib
import pytest

def ran(name):
    with pathlib.Path("ran.log").open("a") as log:
        log.write(name + "\\n")

@pytest.mark.criterion("DB-06")
@pytest.mark.telemetry
def test_old_marker():
    ran("old")

@pytest.mark.criterion("DB-06")
@pytest.mark.health_window
def test_new_marker():
    ran("new")

@pytest.mark.criterion("DB-07")
@pytest.mark.parametrize("part", range(6))
def test_collections(part):
    ran(f"collections{part}")
"""


@pytest.fixture
def tree(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    return team_tree(pytester, monkeypatch, CHECKS)


def test_health_window_checks_run_last_and_the_former_marker_still_works_with_a_warning(tree: pytest.Pytester) -> None:
    result = run(tree, "--target", "t", "--partial", "team_checks.py")
    assert ran(tree) == [*(f"collections{i}" for i in range(6)), "old", "new"], result.stdout.str()[-2000:]
    out = result.stdout.str()
    assert "PytestDeprecationWarning: @pytest.mark.telemetry is deprecated: mark the check " \
           "@pytest.mark.health_window (same meaning)" in out
    assert out.count("@pytest.mark.telemetry is deprecated") == 1   # once, for the one check that carries it


def test_the_shards_divide_the_users_selection_and_each_runs_the_health_window_last(tree: pytest.Pytester) -> None:
    runs = []
    for shard in ("1/2", "2/2"):
        result = run(tree, "--target", "t", "--partial", "--shard", shard, "-k", "not old_marker", "team_checks.py")
        runs.append(ran(tree))
        assert result.ret == 0, result.stdout.str()[-2000:]
    selected = [*(f"collections{i}" for i in range(6)), "new"]   # -k dropped the check marked with the old name
    assert sorted(runs[0] + runs[1]) == sorted(selected)
    for names in runs:   # in each shard, what reads the window comes after everything else
        window = [i for i, name in enumerate(names) if name == "new"]
        assert window == list(range(len(names) - len(window), len(names))), runs
    assert all(runs), runs   # both shards got checks: the plan divided the selection
