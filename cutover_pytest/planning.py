"""DB-01's counts and DB-02's units, planned once per run (:mod:`cutover.data.plan`) whatever the processes.

- Without xdist the only process plans when it parametrizes the data checks (at collection).
- With xdist the controller plans, in a thread started before its workers (``pytest_sessionstart``), when the
  selection holds the bundled data checks. It leaves the plan (or why it could not be made) in the run's scratch
  directory; each worker waits for it before collecting and adopts it: no worker counts a class or walks its
  partitions again, and the workers start (import, configure) while the controller plans.
- ``--plan FILE`` (written by ``cutover plan``, the planning job of a CI matrix): the plan is read, never computed,
  so N shards divide the reading instead of each planning it again.

The plan the run checked goes to ``<run dir>/plan.json`` and its digest into record.json (``plan``), so merged
shards prove they checked the same partitions (:mod:`cutover.run.merge`).
"""
from __future__ import annotations

import contextlib
import os
import pickle
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from cutover.atomic_file import write_atomically
from cutover.data import DataPlan
from cutover.errors import ConfigError, CouldNotVerify, as_could_not_verify
from cutover.memo import memo_key
from cutover.run.plan_file import RUN_FILE, read_plan, write_plan
from cutover_pytest.run_state import RunState
from cutover_pytest.selection import plans_data

HANDED = "plan.pickle"   # in the scratch directory: (plan or None, why it could not be made)
POLL_S = 0.05


def add_option(group: Any) -> None:
    group.addoption("--plan", default=None, metavar="FILE",
                    help="read DB-01's counts and DB-02's partitions from FILE (written by `cutover plan`) "
                         "instead of computing them: every shard of a CI matrix reads the same plan")


def load(config: pytest.Config, state: RunState) -> None:
    """In the controller: adopt the plan file given with --plan (a UsageError, exit 4, when it does not fit)."""
    path = config.getoption("plan", None)
    if not path:
        return
    try:
        plan = read_plan(Path(path), state.target, state.session.options.sample)
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None
    state.session.data.adopt(plan)


class Planner:
    """The controller's planning thread for its xdist workers, and its result in the scratch directory."""

    def __init__(self, state: RunState) -> None:
        self.state, self.path = state, state.scratch / HANDED
        self.thread: threading.Thread | None = None

    def start(self, config: pytest.Config) -> Path | None:
        """Start planning for the workers (the path they wait on), or None: they plan nothing, or themselves."""
        if not plans_data(config.args) and memo_key("plan") not in self.state.session.data.memo:
            return None
        self.thread = threading.Thread(target=self._plan, name="cutover-plan", daemon=True)
        self.thread.start()
        return self.path

    def _plan(self) -> None:
        handed: tuple[DataPlan | None, str] = (None, "")
        try:
            handed = (self.state.session.data.plan(), "")
        except Exception as exc:   # a bug: the workers plan themselves, their collection shows its traceback
            unverified = as_could_not_verify(exc)
            if unverified is not None:
                self.state.session.reach.note(exc, origin="the DB-01/DB-02 plan")
                handed = (None, self.state.redact(str(unverified)))
        finally:
            with contextlib.suppress(OSError):   # the run ended meanwhile (a signal): its scratch is gone
                write_atomically(self.path, pickle.dumps(handed))


class Awaiting:
    """A worker's part: before it collects, wait for the controller's plan and adopt it."""

    def __init__(self, state: RunState, path: Path) -> None:
        self.state, self.path = state, path

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection(self, session: pytest.Session) -> None:
        controller = os.getppid()
        while not self.path.exists():
            if os.getppid() != controller:   # the controller is gone: nothing will come
                return
            time.sleep(POLL_S)
        plan, failure = pickle.loads(self.path.read_bytes())
        if plan is not None:
            self.state.session.data.adopt(plan)
        elif failure:
            self.state.session.data.adopt_failure(CouldNotVerify(failure))


def register_worker(config: pytest.Config, state: RunState, path: Path | None) -> None:
    if path is not None:
        config.pluginmanager.register(Awaiting(state, path), "cutover-awaiting-plan")


def record_fields(config: pytest.Config, state: RunState) -> dict[str, Any]:
    """``plan`` for record.json (digest, size, where it came from), with plan.json beside it; {} without one."""
    data = state.session.data
    if memo_key("plan") not in data.memo:
        return {}
    plan = data.plan()
    write_plan(state.run_dir / RUN_FILE, plan, state.target, state.session.options.sample)
    given = config.getoption("plan", None)
    origin = f"read from {Path(given).name} (--plan)" if given else "computed by this run"
    return {"plan": {**plan.summary(), "origin": origin, "file": RUN_FILE}}
