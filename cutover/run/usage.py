"""The values of a gate run's own command-line options, checked before anything is read, written or reached.

Each problem is one phrase naming the option, the value and what is expected; the pytest glue
(:mod:`cutover_pytest.usage`) stops the run with it (exit 4). pytest itself refuses what its parser cannot
read (``--sample three``); these are the values it accepts but the run cannot use.
"""
from __future__ import annotations

import math
from pathlib import Path

from cutover.ranges import Range

SAMPLE = Range(0, 10 ** 9, unit="an integer number of documents")   # 0: compare every document
SCALE = Range(0, 10_000_000, unit="an integer number of objects")   # 0: the target's own scale
PROGRESS = Range(0, 86400, unit="seconds")                      # 0: no progress lines


def number_problem(option: str, value: float | str | None, bounds: Range, zero: str, integer: bool) -> str:
    """'' when ``value`` (None: not given) lies in ``bounds``, else what is wrong (a text that is no number
    included: the option parser hands it over as it came)."""
    if value is None or (not isinstance(value, str) and math.isfinite(value) and bounds.holds(value)):
        return ""
    shown = repr(value[:40]) if isinstance(value, str) else f"{value:g}" if isinstance(value, float) else str(value)
    return f"{option} {shown}: expected {bounds.expected(integer)} ({zero})"


def option_problems(sample: int | str | None, scale: int | str | None, progress_every: float | str | None,
                    reports_dir: Path) -> list[str]:
    """What is wrong with the values of the run's options, in the order the options are documented."""
    found = [number_problem("--sample", sample, SAMPLE, "0: compare every document", integer=True),
             number_problem("--scale", scale, SCALE, "0: the target's scale", integer=True),
             number_problem("--progress-every", progress_every, PROGRESS, "0: no progress lines", integer=False),
             reports_dir_problem(reports_dir)]
    return [problem for problem in found if problem]


def reports_dir_problem(path: Path) -> str:
    """'' when runs can be archived under ``path`` (it is a directory, or can be made one), else why not."""
    if path.exists():
        return "" if path.is_dir() else f"--reports-dir {path}: not a directory (it is a file); name a directory"
    for parent in path.parents:
        if parent.exists():
            return "" if parent.is_dir() else f"--reports-dir {path}: {parent} is a file, not a directory"
    return ""
