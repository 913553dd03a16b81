"""--resume RUN_DIR, run for real in subprocesses: a run stopped half-way (SIGTERM from inside a check) is
continued without running its decided checks again, ends with the verdict and criteria of an uninterrupted
run, and its record says what was carried over; an earlier run of another configuration is refused."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.plugin.test_plugin import FAST_UNREACHABLE, run, team_tree

TARGETS = FAST_UNREACHABLE

CHECKS = """
import os
import pathlib
import signal
import pytest

def ran(name):
    with pathlib.Path("ran.log").open("a") as log:
        log.write(name + "\\n")

@pytest.mark.criterion("DB-02")
@pytest.mark.parametrize("part", range(4))
def test_partition(part):
    ran(f"p{part}")
    if os.environ.get("CUTOVER_KILL_AT") == str(part):
        os.kill(os.getpid(), signal.SIGTERM)
    assert part != 1, "partition 1 differs"

@pytest.mark.criterion("DB-07")
def test_collections():
    ran("collections")
"""


@pytest.fixture
def tree(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    return team_tree(pytester, monkeypatch, CHECKS, TARGETS, unset=("CUTOVER_KILL_AT",))


def gate(tree: pytest.Pytester, reports: str, *args: str) -> tuple[pytest.RunResult, Path]:
    result = run(tree, "--target", "t", "--reports-dir", reports, *args, "team_checks.py")
    (run_dir,) = [p for p in (tree.path / reports / "t").iterdir() if p.is_dir()]
    return result, run_dir


def record(run_dir: Path) -> dict:
    return json.loads((run_dir / "record.json").read_text())


def ran(tree: pytest.Pytester) -> list[str]:
    log = tree.path / "ran.log"
    lines = log.read_text().split() if log.exists() else []
    log.unlink(missing_ok=True)
    return lines


def test_a_resumed_run_skips_what_was_decided_and_ends_as_an_uninterrupted_one(
        tree: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    _, whole = gate(tree, "whole")
    ran(tree)
    monkeypatch.setenv("CUTOVER_KILL_AT", "2")
    _, stopped = gate(tree, "stopped")
    assert record(stopped)["verdict"].startswith("GATE: NOT RUN") and ran(tree) == ["p0", "p1", "p2"]
    monkeypatch.delenv("CUTOVER_KILL_AT")
    result, resumed = gate(tree, "resumed", "--resume", str(stopped))
    assert ran(tree) == ["p2", "p3", "collections"], result.stdout.str()[-2000:]   # p0 passed, p1 failed: kept
    assert result.ret == record(whole)["exit_code"] == 1
    assert record(resumed)["verdict"] == record(whole)["verdict"]
    assert record(resumed)["criteria"] == record(whole)["criteria"]
    facts = record(resumed)["resumed"]
    assert facts["from_run"] == stopped.name and len(facts["carried_over"]) == 2
    assert all("test_partition[" in nodeid for nodeid in facts["carried_over"])


def test_an_earlier_run_of_another_configuration_is_refused(tree: pytest.Pytester) -> None:
    _, first = gate(tree, "first")
    tree.makefile(".toml", targets=TARGETS.replace("timeout_s = 0.3", "timeout_s = 0.4"))
    result = run(tree, "--target", "t", "--reports-dir", "second", "--resume", str(first), "team_checks.py")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*--resume*config_digest*not this run's*"])
    assert not (tree.path / "second").exists()
