"""A private scratch directory per run, shared by the controller and its pytest-xdist workers, never archived.

The processes of one run leave each other notes there while it runs: the workers' pids (so a signal can be
forwarded to them), the components found dead (so every process fails fast on them), what each worker
collected, and the health window. The controller creates it under the system's temporary directory (mode
0700), not in the run directory that a report archives, names it to each worker, and removes it once the run
has ended.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

WORKERS = "workers"           # <pid>.pid of each worker


def create(config: pytest.Config) -> Path:
    """The controller's: a fresh directory, removed after every unconfigure hook has run."""
    path = Path(tempfile.mkdtemp(prefix="cutover-run-"))
    (path / WORKERS).mkdir()
    config.add_cleanup(lambda: shutil.rmtree(path, ignore_errors=True))
    return path


def join(path: Path) -> Path:
    """A worker's: leave this process's pid, so the controller can forward a signal to it."""
    (path / WORKERS / f"{os.getpid()}.pid").touch()
    return path


def worker_pids(path: Path) -> list[int]:
    return [int(p.stem) for p in (path / WORKERS).glob("*.pid") if p.stem.isdigit()]
