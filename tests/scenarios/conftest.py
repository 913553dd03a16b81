"""Scenario tests: one sandbox per test session, isolated forks of the target, checks run end to end.

``run_checks(target, *args)`` writes the target to a targets file (secrets as ${ENV} references), runs
``pytest --target`` (every bundled check, or with ``only=`` the named bundled modules and ``--partial``) in a
subprocess, and returns the outcomes from the archived record.json, keyed by label (``DB-01[GameScore]``).
``start_checks`` starts the same command and returns the process, for scenarios that stop a run half-way.
Every failed check's message is read for Python reprs (``['a']``, ``SON([...])``, ``True``): values in messages
are MongoDB shell / JSON notation (:func:`cutover.notation.shell`), so every scenario run proves it.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from cutover.model import Target
from cutover.run.config_dump import dump_target
from cutover.sandbox.stack import Sandbox
from cutover_pytest.selection import BUNDLED
from tests.inner_runs import UNUSED_PLUGINS
from tests.unit.test_notation import PYTHON_REPR

REPO = Path(__file__).resolve().parents[2]
SCENARIO_SCALE = int(os.environ.get("CUTOVER_SCENARIO_SCALE", "600"))


@dataclass
class RunResult:
    exit_code: int
    output: str
    record: dict[str, Any]
    run_dir: Path
    outcomes: dict[str, str] = field(default_factory=dict)
    messages: dict[str, str] = field(default_factory=dict)

    def failing(self) -> dict[str, str]:
        """label -> message of every failed or errored test."""
        return {k: self.messages.get(k, "") for k, v in self.outcomes.items() if v in ("failed", "error")}


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    box = Sandbox(tmp_path_factory.mktemp("sandbox"), scale=SCENARIO_SCALE)  # the per-user cache
    with box:
        yield box


@pytest.fixture
def run_checks(tmp_path: Path) -> Callable[..., RunResult]:
    def run(target: Target, *args: str, only: tuple[str, ...] = (), timeout: float = 600) -> RunResult:
        return run_checks_in(tmp_path, target, *args, only=only, timeout=timeout)

    return run


@pytest.fixture
def start_checks(tmp_path: Path) -> Callable[..., subprocess.Popen[str]]:
    def start(target: Target, *args: str, only: tuple[str, ...] = ()) -> subprocess.Popen[str]:
        cmd, env = checks_command(tmp_path, target, *args, only=only)
        return subprocess.Popen(cmd, cwd=REPO, env={**os.environ, **env}, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)

    return start


def checks_command(directory: Path, target: Target, *args: str,
                   only: tuple[str, ...] = ()) -> tuple[list[str], dict[str, str]]:
    """The ``pytest --target`` command line for ``target`` (written to ``directory``) and its environment."""
    text, env = dump_target(target)
    targets_file = directory / "targets.toml"
    targets_file.write_text(text, encoding="utf-8")
    paths = [str(BUNDLED / name) for name in only] + (["--partial"] if only else [])
    cmd = [sys.executable, "-m", "pytest", *paths, "--target", target.name, f"--targets-file={targets_file}",
           f"--reports-dir={directory / 'reports'}", "-q", "-p", "no:randomly", *UNUSED_PLUGINS, *args]
    return cmd, env


def run_checks_in(directory: Path, target: Target, *args: str, only: tuple[str, ...] = (),
                  timeout: float = 600) -> RunResult:
    """Run the checks (all of them, or only the named modules such as "test_files.py") on ``target``.

    A run narrowed with ``only`` asks for ``--partial``: its scenario judges the checks it ran, not the gate."""
    cmd, env = checks_command(directory, target, *args, only=only)
    reports = directory / "reports"
    proc = subprocess.run(cmd, cwd=REPO, env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=timeout, check=False)
    run_dirs = sorted(p for p in (reports / target.name).glob("*") if p.is_dir())
    if not run_dirs:
        raise AssertionError(f"no report was written (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    record = json.loads((run_dirs[-1] / "record.json").read_text())
    result = RunResult(proc.returncode, proc.stdout + proc.stderr, record, run_dirs[-1])
    for test in record["tests"]:
        result.outcomes[test["label"]] = test["outcome"]
        result.messages[test["label"]] = test.get("message", "")
    reprs = {label: message for label, message in result.failing().items()
             if result.outcomes[label] == "failed" and PYTHON_REPR.search(message)}
    assert not reprs, f"messages holding a Python repr (render values with cutover.notation.shell): {reprs}"
    return result
