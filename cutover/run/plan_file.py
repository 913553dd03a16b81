"""A plan file: DB-01's counts and DB-02's units of one target, written by a planning job (``cutover plan``) and
read by every shard of a CI matrix (``pytest --target NAME --shard K/N --plan FILE``), so that no shard counts
and partitions the classes again (:mod:`cutover.data.plan`).

A plan is only good for the configuration it was made with: the file names its target and configuration
digest, the ``--sample`` it was made for and its own digest; a run of another target or configuration, or a file
whose content does not match its digest, is refused (a usage error) instead of checking partitions that may not
cover the data.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cutover import __version__
from cutover.atomic_file import write_atomically
from cutover.data import DataPlan
from cutover.errors import ConfigError
from cutover.run.run_directory import config_digest, now

RUN_FILE = "plan.json"   # in a run directory: the plan the run checked (computed or read)


def plan_document(plan: DataPlan, target: Any, sample: int) -> dict[str, Any]:
    return {"target": target.name, "config_digest": config_digest(target), "sample": sample,
            "suite_version": __version__, "planned_utc": now(), "digest": plan.digest, "plan": plan.to_json()}


def write_plan(path: Path, plan: DataPlan, target: Any, sample: int) -> Path:
    """Write the plan file atomically (a reader never sees half of it)."""
    return write_atomically(path, json.dumps(plan_document(plan, target, sample), indent=1) + "\n")


def read_plan(path: Path, target: Any, sample: int) -> DataPlan:
    """The plan in ``path`` for this target, configuration and ``--sample``; ConfigError saying what differs."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"--plan {path}: no such file (write it with: cutover plan --target "
                          f"{target.name} --output {path})") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"--plan {path}: not a readable plan file ({exc})") from None
    if not isinstance(data, dict) or "plan" not in data:
        raise ConfigError(f"--plan {path}: not a plan file written by `cutover plan`")
    _same(path, "target", data.get("target"), target.name)
    _same(path, "configuration (config_digest)", data.get("config_digest"), config_digest(target))
    _same(path, "--sample", data.get("sample"), sample)
    plan = DataPlan.from_json(data["plan"])
    if plan.digest != data.get("digest"):
        raise ConfigError(f"--plan {path}: its content does not match its digest {data.get('digest')!r}: the "
                          "file was changed or damaged; plan again with `cutover plan`")
    return plan


def _same(path: Path, what: str, found: Any, expected: Any) -> None:
    if found != expected:
        raise ConfigError(f"--plan {path}: planned for {what} {found!r}, this run has {expected!r}; plan "
                          "again with `cutover plan` for this target and configuration")
