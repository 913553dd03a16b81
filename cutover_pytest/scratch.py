"""A private scratch directory per run, shared by the controller and its pytest-xdist workers, never archived.

The processes of one run leave each other notes there while it runs: the workers' pids (so a signal can be
forwarded to them) and the components found dead (so every process fails fast on them). The controller
creates it under the system's temporary directory (mode 0700), not in the run directory that a report
archives, names it to each worker, and removes it once the run has ended.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

from cutover_pytest.state import get_state

KEY = "cutover_scratch"
WORKERS = "workers"           # <pid>.pid of each worker
_STASH = pytest.StashKey[Path]()


def scratch_dir(config: pytest.Config) -> Path | None:
    return config.stash.get(_STASH, None)


def pytest_configure(config: pytest.Config) -> None:
    """After the plugin's configure (tryfirst) made the run state; before the trylast users of the directory."""
    if get_state(config) is None:
        return
    if hasattr(config, "workerinput"):
        named = config.workerinput.get(KEY)
        if named:
            config.stash[_STASH] = Path(named)
            (Path(named) / WORKERS / f"{os.getpid()}.pid").touch()
        return
    path = Path(tempfile.mkdtemp(prefix="cutover-run-"))
    (path / WORKERS).mkdir()
    config.stash[_STASH] = path
    config.add_cleanup(lambda: shutil.rmtree(path, ignore_errors=True))  # after every unconfigure hook


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    path = scratch_dir(node.config)
    if path is not None:
        node.workerinput[KEY] = str(path)
