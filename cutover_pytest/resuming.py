"""``--resume RUN_DIR``: the controller checks that the earlier run can be resumed (:mod:`cutover.run.resume`)
before anything is written; every collecting process drops the checks it carries over (after the shard
plan: a shard's plan covers the whole selection), and writes their node ids to ``resumed.json`` in the run
directory (the same bytes in every process); at the end the controller puts their records among this run's,
and record.json says what was resumed (``resumed``).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cutover import __version__
from cutover.atomic_file import write_atomically
from cutover.errors import ConfigError
from cutover.model import Target
from cutover.run.check_record import CheckRecord
from cutover.run.config import SandboxSpec
from cutover.run.resume import KEPT, Resumed, load_resumed
from cutover.run.run_directory import config_digest
from cutover_pytest.run_state import RunState

CARRIED = "resumed.json"
_RESUMED = pytest.StashKey[Resumed]()


def add_option(group: Any) -> None:
    group.addoption("--resume", default=None, metavar="RUN_DIR",
                    help="continue an interrupted run: its decided checks are carried over, the rest run")


def load(config: pytest.Config, loaded: Target | SandboxSpec) -> None:
    """In the controller, before the run directory is written: a UsageError when RUN_DIR cannot be resumed."""
    asked = config.getoption("resume", None)
    if not asked:
        return
    if not isinstance(loaded, Target):
        raise pytest.UsageError(f"--resume: target '{loaded.name}' is a sandbox, a new deployment each run: "
                                "there is nothing to resume")
    if loaded.database.live_sync:   # carried-over partitions would miss the writes synced since: refuse
        raise pytest.UsageError(f"--resume: target '{loaded.name}' is under live sync (database.live_sync = true): "
                                "results of an earlier run do not hold; run the gate whole")
    identity = {"target": loaded.name, "config_digest": config_digest(loaded), "suite_version": __version__}
    try:
        config.stash[_RESUMED] = load_resumed(Path(asked), identity)
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None


class Resuming:
    """A collecting process's part: the checks the earlier run decided, dropped at collection."""

    def __init__(self, state: RunState, kept: set[str]) -> None:
        self.state, self.kept = state, kept

    def drop(self, items: list[pytest.Item]) -> None:
        """Drop the decided checks (in place) and list them in ``resumed.json``."""
        carried = sorted(item.nodeid for item in items if item.nodeid in self.kept)
        items[:] = [item for item in items if item.nodeid not in self.kept]
        write_atomically(self.state.run_dir / CARRIED, json.dumps(carried) + "\n")


def resuming(config: pytest.Config, state: RunState) -> Resuming | None:
    """Every process, with --resume: the controller knows the earlier run; a worker reads its record's decided
    checks."""
    asked = config.getoption("resume", None)
    if not asked:
        return None
    resumed = config.stash.get(_RESUMED, None)
    kept = set(resumed.kept) if resumed is not None else _decided(Path(asked))
    return Resuming(state, kept)


def _decided(run_dir: Path) -> set[str]:
    record = json.loads((run_dir / "record.json").read_text(encoding="utf-8"))
    return {t["id"] for t in record.get("tests", []) if t.get("verdict") in KEPT}


def carried_records(config: pytest.Config, run_dir: Path) -> dict[str, CheckRecord]:
    """In the controller, at session end: the carried-over checks' records, to join this run's ({} without
    --resume)."""
    resumed = config.stash.get(_RESUMED, None)
    return {nodeid: resumed.kept[nodeid] for nodeid in carried(run_dir)} if resumed is not None else {}


def carried(run_dir: Path) -> list[str]:
    path = run_dir / CARRIED
    return list(json.loads(path.read_text(encoding="utf-8"))) if path.is_file() else []


def record_fields(config: pytest.Config, run_dir: Path) -> dict[str, Any]:
    resumed = config.stash.get(_RESUMED, None)
    return {"resumed": resumed.facts(carried(run_dir))} if resumed is not None else {}
