"""The order a gate run gives its checks, run for real in subprocesses (pytester): the checks that read the health
window run last, whether marked ``health_window`` or with the marker's deprecated former name ``telemetry``
(which warns)."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.plugin.test_plugin import FAST_UNREACHABLE, run

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
@pytest.mark.parametrize("part", range(2))
def test_collections(part):
    ran(f"collections{part}")
"""


@pytest.fixture
def tree(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    for var in ("CUTOVER_TARGET", "CUTOVER_TARGETS_FILE", "CUTOVER_WAIVERS"):
        monkeypatch.delenv(var, raising=False)
    pytester.makefile(".toml", targets=FAST_UNREACHABLE)
    pytester.makepyfile(team_checks=CHECKS)
    return pytester


def ran(tree: pytest.Pytester) -> list[str]:
    log = Path(tree.path) / "ran.log"
    lines = log.read_text().split() if log.exists() else []
    log.unlink(missing_ok=True)
    return lines


def test_health_window_checks_run_last_and_the_former_marker_still_works_with_a_warning(tree: pytest.Pytester) -> None:
    result = run(tree, "--target", "t", "--partial", "team_checks.py")
    assert ran(tree) == ["collections0", "collections1", "old", "new"], result.stdout.str()[-2000:]
    out = result.stdout.str()
    assert "PytestDeprecationWarning: @pytest.mark.telemetry is deprecated: mark the check " \
           "@pytest.mark.health_window (same meaning)" in out
    assert out.count("@pytest.mark.telemetry is deprecated") == 1   # once, for the one check that carries it
