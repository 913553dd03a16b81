"""The per-process state of a ``--target`` run, kept in the pytest config stash."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from cutover.model import Target
from cutover.redact import redact_text
from cutover.session import Session
from cutover_pytest.tally import Tally


@dataclass
class RunState:
    target: Target
    session: Session
    run_id: str
    run_dir: Path
    started: str
    results: dict[str, dict[str, Any]] = field(default_factory=dict)   # nodeid -> record entry
    sandbox: Any = None
    gate: Any = None
    git_commit: str = ""
    changes: dict[str, Any] | None = None   # since the previous run of the target; set once at session end
    waivers: tuple[Any, ...] = ()
    expired_waivers: tuple[Any, ...] = ()
    worker_commands: list[dict[str, Any]] = field(default_factory=list)   # MongoDB commands xdist workers sent
    not_run: str = ""            # why the run has no verdict ("interrupted"), when it has none
    interrupted_by: str = ""     # the signal that stopped it (SIGTERM ...)
    tally: Tally = field(default_factory=Tally)   # collected / deselected checks, collection errors
    partial: bool = False        # --partial: a narrowed run may pass on the criteria it verified
    narrowed: bool = False       # the bundled catalogue was not selected as a whole (paths given)
    collect_only: bool = False   # --collect-only: nothing runs, no verdict
    criteria: dict[str, Any] = field(default_factory=dict)   # criterion -> CriterionResult, at session end

    def changes_since_previous(self) -> dict[str, Any]:
        """What changed since the previous run of this target, computed once (reads the older records)."""
        if self.changes is None:
            from cutover.run.history import changes, previous_record

            self.changes = changes(previous_record(self.run_dir.parent, self.run_id), self.results.values())
        return self.changes

    def redact(self, text: str) -> str:
        return redact_text(text, self.target.secrets)


STATE_KEY = pytest.StashKey[RunState]()


def get_state(config: pytest.Config) -> RunState | None:
    return config.stash.get(STATE_KEY, None)
