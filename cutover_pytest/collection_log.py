"""What a process knows about a run's checks beyond their reports: which were collected, which the user
deselected, collection errors. Under pytest-xdist the workers collect; each writes what it saw to a file in the
run's scratch directory (``collected-<worker>.json``) before telling the controller, which merges them.
"""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from cutover.run.check_record import CheckRecord
from cutover_pytest.report_data import criterion_of

READ_ONLY_SKIP = "--read-only: this check writes probe objects"


@dataclass
class CollectionLog:
    collected: dict[str, str] = field(default_factory=dict)     # nodeid -> criterion, after deselection
    deselected: dict[str, str] = field(default_factory=dict)    # nodeid -> criterion
    labeled: list[tuple[str, str]] = field(default_factory=list)  # (criterion, label) of every check collected
    collection_errors: list[str] = field(default_factory=list)

    def add_collected(self, items: Iterable[pytest.Item]) -> None:
        self.collected.update((i.nodeid, c) for i in items if (c := criterion_of(i)) is not None)

    def add_deselected(self, items: Iterable[pytest.Item]) -> None:
        self.deselected.update((i.nodeid, c) for i in items if (c := criterion_of(i)) is not None)

    def exclusions(self, records: Mapping[str, CheckRecord]) -> dict[str, Counter[str]]:
        """criterion -> how many of its checks the user kept from running, by cause."""
        causes: dict[str, Counter[str]] = {}
        for cid in self.deselected.values():
            causes.setdefault(cid, Counter())["deselected"] += 1
        for nodeid, cid in self.collected.items():
            record = records.get(nodeid)
            if record is None or record.outcome is None:
                causes.setdefault(cid, Counter())["not run (the run stopped before them)"] += 1
            elif record.message.startswith(READ_ONLY_SKIP):
                causes.setdefault(cid, Counter())["skipped by --read-only"] += 1
        return causes

    def write(self, path: Path) -> None:
        path.write_text(json.dumps({"collected": self.collected, "deselected": self.deselected,
                                    "labeled": self.labeled}), encoding="utf-8")

    def merge(self, path: Path) -> list[tuple[str, str]]:
        """Fold a worker's scratch file in (and remove it); returns what that worker labeled."""
        data = json.loads(path.read_text(encoding="utf-8"))
        path.unlink()
        self.collected.update(data["collected"])
        self.deselected.update(data["deselected"])
        return [(str(c), str(label)) for c, label in data["labeled"]]
