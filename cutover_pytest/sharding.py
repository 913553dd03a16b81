"""``--shard K/N``: every collecting process (the only one, or each xdist worker) keeps shard K's checks.

The plan (:mod:`cutover.run.shards`) is made after the user's own selection (``-k``, ``-m``, paths), from the
node ids and their criteria only, so every shard and every worker of a shard computes the same one. The
checks of the other shards are dropped without pytest's "deselected" hook: they are not the user's narrowing
and the coverage gate must not count them as such; the shard's run is partial (its verdict is a PARTIAL
PASS at best) and ``cutover merge`` gives the verdict of the whole. The plan goes to ``shard.json`` in the run
directory (written atomically; every collecting process writes the same bytes) and into record.json.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cutover.atomic_file import write_atomically
from cutover.errors import ConfigError
from cutover.run.shards import PLAN_FILE, Shard, ShardPlan, assign, expected_cost, parse_shard
from cutover_pytest.report_data import criterion_of
from cutover_pytest.run_state import RunState


def add_option(group: Any) -> None:
    group.addoption("--shard", default=None, metavar="K/N",
                    help="run shard K of N of the gate (CI matrix); `cutover merge` joins the N runs into one verdict")


def shard_of(config: pytest.Config) -> Shard | None:
    """The shard asked for, or None; a UsageError (exit 4) for a malformed K/N."""
    spec = config.getoption("shard", None)
    if not spec:
        return None
    try:
        return parse_shard(str(spec))
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None


class Sharding:
    """A collecting process's part: shard K's checks kept at collection, and the collection line saying so."""

    def __init__(self, state: RunState, shard: Shard) -> None:
        self.state, self.shard = state, shard
        self.plan: ShardPlan | None = None

    def keep(self, items: list[pytest.Item]) -> None:
        """Keep this shard's checks (in place) of the labeled, selected ``items``; write the plan to shard.json."""
        plan = assign({item.nodeid: expected_cost(criterion_of(item) or "") for item in items}, self.shard.count)
        items[:] = [item for item in items if plan[item.nodeid] == self.shard.index]
        files = self.state.target.files
        self.plan = ShardPlan.of(self.shard, plan, self.state.target.source.kind, files.adapter if files else None)
        write_atomically(self.state.run_dir / PLAN_FILE, json.dumps(self.plan.to_json(), indent=2) + "\n")

    def pytest_report_collectionfinish(self, config: pytest.Config) -> str | None:
        """Under "collected N items" (the whole plan): what this shard runs of it."""
        if self.plan is None:
            return None
        return (f"cutover shard {self.shard.label}: {len(self.plan.assigned)} of {self.plan.total} checks "
                f"(plan sha256:{self.plan.digest[:12]})")


def register(config: pytest.Config, state: RunState) -> Sharding | None:
    """With --shard, this process's :class:`Sharding`, registered for its collection line."""
    shard = shard_of(config)
    if shard is None:
        return None
    sharding = Sharding(state, shard)
    config.pluginmanager.register(sharding, "cutover-sharding")
    return sharding


def record_fields(run_dir: Path) -> dict[str, Any]:
    """``shard`` for record.json: the shard's plan, when the run is a shard."""
    path = run_dir / PLAN_FILE
    if not path.is_file():
        return {}
    return {"shard": json.loads(path.read_text(encoding="utf-8"))}
