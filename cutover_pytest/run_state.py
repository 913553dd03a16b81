"""What every process of a ``--target`` run knows, kept in the pytest config stash (fixtures, parametrization).

The controller's own state (results, verdict, archive) is its plugin object's
(:class:`cutover_pytest.controller.Controller`); :mod:`cutover_pytest.startup` builds this part in each process.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from cutover.model import Target
from cutover.redact import redact_text
from cutover.run.waivers import Waiver
from cutover.session import Session
from cutover_pytest.collection_log import CollectionLog


@dataclass
class RunState:
    target: Target
    session: Session
    run_id: str
    run_dir: Path
    started: str                      # UTC, ISO 8601
    scratch: Path                     # private to the run's processes, never archived (cutover_pytest.scratch)
    waivers: tuple[Waiver, ...] = ()  # active waivers of this target
    read_only: bool = False           # --read-only: checks that write probes are skipped
    collection: CollectionLog = field(default_factory=CollectionLog)   # what this process collected and deselected

    def redact(self, text: str) -> str:
        return redact_text(text, self.target.secrets)


STATE_KEY = pytest.StashKey[RunState]()


def get_state(config: pytest.Config) -> RunState | None:
    return config.stash.get(STATE_KEY, None)
