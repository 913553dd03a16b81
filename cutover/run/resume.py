"""``--resume RUN_DIR``: what an interrupted run already established, and whether it still holds.

A run killed half-way (a CI job's time limit) archived every check it finished. Resuming runs the same gate
again in a new run directory, without the checks whose result still holds, and carries their records over. It
holds when the earlier run is intact (its manifest), of the same target, configuration digest and suite version
(a shard may resume another shard's run: only the checks of its own part are collected). Per check, what carries
over is a decided result: passed, failed, waived, not applicable; an error (could not verify), a skip that is
not "not applicable" and a check that never ran are run again. A check is only carried over when this run
collects it again under the same node id: DB-02's partitions are named by class and index of count
(``GameScore:p3of40``), so data that grew or shrank enough to change a class's partitioning re-runs that class's
partitions. Within one partitioning, writes since the earlier run are not seen by the carried-over partitions:
resume a run of a frozen source (the cutover window), not one under live sync.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cutover.errors import ConfigError
from cutover.run.check_record import CheckRecord
from cutover.run.merge import record_of
from cutover.run.run_directory import MANIFEST, sha256_of, verify_manifest

KEPT = ("pass", "fail", "waived", "not applicable")
_SAME = ("target", "config_digest", "suite_version")


@dataclass(frozen=True)
class Resumed:
    run_dir: Path
    record: dict[str, Any]
    kept: dict[str, CheckRecord]       # node id -> record carried over

    def facts(self, carried: list[str]) -> dict[str, Any]:
        """``resumed`` in record.json: from which run, which checks were carried over (not run again)."""
        return {"from_run": self.record.get("run_id"), "from_verdict": self.record.get("verdict"),
                "from_manifest_sha256": sha256_of(self.run_dir / MANIFEST), "carried_over": sorted(carried)}


def load_resumed(run_dir: Path, identity: dict[str, Any]) -> Resumed:
    """The earlier run's decided checks; a ConfigError when it cannot be resumed by this run."""
    problems = verify_manifest(run_dir)
    if problems:
        raise ConfigError(f"--resume {run_dir}: not intact, refusing to resume it: {problems[0]}")
    try:
        record = json.loads((run_dir / "record.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"--resume {run_dir}: no readable record.json ({exc})") from None
    for key in _SAME:
        if record.get(key) != identity.get(key):
            raise ConfigError(f"--resume {run_dir}: its {key} ({record.get(key)!r}) is not this run's "
                              f"({identity.get(key)!r}): its results do not hold here")
    kept = {t["id"]: record_of(t) for t in record.get("tests", []) if t.get("verdict") in KEPT}
    return Resumed(run_dir, record, kept)
