"""``cutover plan --target NAME [--targets-file F] [--output plan.json] [--sample N]``: the planning job of a CI
matrix. It counts both sides of every class and walks DB-02's `_id` partitions once, and writes the plan file
every shard then reads (``pytest --target NAME --shard K/N --plan plan.json``): the shards divide the reading
instead of each doing the planning again (:mod:`cutover.data.plan`, :mod:`cutover.run.plan_file`).

Exit codes as for a gate run: 0 written, 1 could not verify (a component unreachable or too slow: nothing
written), 4 bad usage (unknown target, a sandbox target, a bad targets file).
"""
from __future__ import annotations

import sys
from pathlib import Path

from cutover.errors import ConfigError, CouldNotVerify

USAGE_ERROR, UNVERIFIED = 4, 1


def plan_command(name: str, targets_file: Path, output: Path, sample: int) -> int:
    from cutover.run.config import SandboxSpec, load_target
    from cutover.run.plan_file import write_plan
    from cutover.session import RunOptions, Session

    try:
        target = load_target(targets_file, name)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    if isinstance(target, SandboxSpec):
        print(f"error: target '{name}' is a sandbox, started afresh by each run: only a configured target can be "
              "planned ahead", file=sys.stderr)
        return USAGE_ERROR
    session = Session(target, RunOptions(sample=sample))
    try:
        plan = session.data.plan()
    except CouldNotVerify as exc:
        print(f"could not verify: {exc}; no plan written", file=sys.stderr)
        return UNVERIFIED
    finally:
        session.close()
    write_plan(output, plan, target, sample)
    summary = plan.summary()
    print(f"planned {summary['classes_counted']} classes, {summary['units']} DB-02 units "
          f"({summary['classes_partitioned']} classes in several partitions); plan sha256:{plan.digest[:12]}")
    print(output)
    return 0
