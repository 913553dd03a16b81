"""A gate run's command line, checked first: before the targets file is read, anything is written, or any
component is reached. A value the run cannot use stops it with one line (a UsageError: exit 4).

- ``--target ''`` or ``CUTOVER_TARGET`` set but empty: a CI line ``--target "$CUTOVER_TARGET"`` with the variable
  unset must not run the working directory's own tests and go green (:func:`empty_target`);
- numbers out of range (``--sample -3``, ``--progress-every -1``), ``--reports-dir`` naming a file, a ``--checks``
  path or a positional path that names nothing (:func:`check`).
"""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cutover.run.usage import option_problems
from cutover_pytest.selection import missing

TARGET_VAR = "CUTOVER_TARGET"


def lenient(kind: type) -> Callable[[str], Any]:
    """An option type that never lets pytest's parser stop the run with a usage screen: a value that is not a
    ``kind`` stays text, and :func:`check` names it in one line."""
    def convert(text: str) -> Any:
        try:
            return kind(text)
        except ValueError:
            return text
    convert.__name__ = kind.__name__
    return convert


def empty_target(config: pytest.Config) -> str:
    """Why the run names an empty target ('' when it names a target or none)."""
    namespace = getattr(config, "known_args_namespace", None) or config.option
    given = getattr(namespace, "target", None)
    if given is not None and not given.strip():
        return (f"--target {given!r}: an empty target name; name a target of the targets file "
                "(a CI variable that is not set expands to '')")
    if given is None and TARGET_VAR in os.environ and not os.environ[TARGET_VAR].strip():
        return (f"{TARGET_VAR} is set but empty; name a target of the targets file, or unset {TARGET_VAR} to run "
                "pytest without the gate")
    return ""


def reports_dir(config: pytest.Config) -> Path:
    return Path(config.getoption("reports_dir") or Path.cwd() / "reports")


def check(config: pytest.Config) -> None:
    """Every option value of the run, and every path it was given; the first problem stops the run."""
    problems = option_problems(config.getoption("sample"), config.getoption("scale"),
                               config.getoption("progress_every"), reports_dir(config))
    problems += missing(list(config.option.file_or_dir or ()), list(config.getoption("checks")),
                        config.invocation_params.dir)
    if problems:
        raise pytest.UsageError(problems[0])
