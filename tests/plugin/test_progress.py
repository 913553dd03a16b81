"""Progress lines of a long run, run for real in subprocesses: whole lines of their own between pytest's output,
with -q and under xdist alike, one per interval however many checks; none when switched off."""
from __future__ import annotations

import re

import pytest

from tests.plugin.test_plugin import FAST_UNREACHABLE, run, team_tree

TARGETS = FAST_UNREACHABLE

CHECKS = """
import time
import pytest

@pytest.mark.criterion("DB-02")
@pytest.mark.parametrize("part", range(6))
def test_partition(part, record_facts):
    time.sleep(0.05)
    record_facts(source_docs=1000)

@pytest.mark.criterion("DB-07")
def test_collections():
    pass
"""
# 600 checks of at least 2 ms each: over a second of checks, so at least one 0.5 s interval ends during them however
# idle the machine (600 empty checks took less than one interval on an idle machine: no line at all)
BROAD = """
import time
import pytest

@pytest.mark.criterion("DB-01")
@pytest.mark.parametrize("cls", range(600))
def test_count(cls):
    time.sleep(0.002)
"""
LINE = re.compile(r"^cutover progress (\d)/7 checks done(, about \d+s left)?(; DB-02 \d/6, [\d,]+ docs/s)?$")


@pytest.fixture
def tree(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    return team_tree(pytester, monkeypatch, CHECKS, TARGETS)


def progress_lines(result: pytest.RunResult) -> list[str]:
    return [line for line in result.stdout.lines if "cutover progress" in line]


@pytest.mark.parametrize("args", [(), ("-q",), ("-n", "2")], ids=["plain", "quiet", "xdist"])
def test_progress_comes_as_whole_lines_between_pytests_output(tree: pytest.Pytester, args: tuple[str, ...]) -> None:
    result = run(tree, "--target", "t", "--progress-every", "0.01", *args, "team_checks.py")
    lines = progress_lines(result)
    assert lines, result.stdout.str()
    assert all(LINE.match(line) for line in lines), lines            # nothing else shares the line
    assert [int(LINE.match(line)[1]) for line in lines] == sorted(int(LINE.match(line)[1]) for line in lines)
    assert "DB-07" not in "".join(lines)                             # one check: nothing to follow


def test_a_broad_run_writes_one_line_per_interval(tree: pytest.Pytester) -> None:
    tree.makepyfile(broad_checks=BROAD)
    result = run(tree, "--target", "t", "--progress-every", "0.5", "-q", "broad_checks.py")
    lines = progress_lines(result)
    assert 1 <= len(lines) <= 2 * result.duration / 0.5 + 1, (len(lines), result.duration)
    assert all(re.match(r"^cutover progress [\d,]+/600 checks done", line) for line in lines), lines


def test_no_progress_when_switched_off(tree: pytest.Pytester) -> None:
    result = run(tree, "--target", "t", "--progress-every", "0", "team_checks.py")
    assert not progress_lines(result) and result.ret == 6
