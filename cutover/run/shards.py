"""Shards of one gate run (``--shard K/N``): which checks shard K runs, and the plan each shard records.

Every shard collects the same checks (the same suite, target and data give the same node ids, DB-02's `_id`
partitions and FILE-01's references included), then keeps its own part. The assignment depends on nothing
but the node ids and their expected costs: a greedy longest-first balance (the heaviest check goes to the
least loaded shard, ties to the lowest shard, node ids break ties between equal costs), so the N shards,
run on N machines, agree on who runs what without talking to each other. Each shard records the plan's
digest (every node id with its shard): ``cutover merge`` checks that its shards planned the same work and
that, together, they ran all of it exactly once.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cutover.errors import ConfigError

_SPEC = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")
PLAN_FILE = "shard.json"    # in a shard's run directory: its plan (cutover_pytest.sharding writes it)
# expected cost of one check, relative to a plain one: a DB-02 partition reads ~partition_docs documents on
# both sides, FILE-01 fetches each reference of a field, DB-06 samples a health window
COSTS = {"DB-02": 10.0, "FILE-01": 5.0, "DB-06": 5.0, "DB-03": 2.0}


@dataclass(frozen=True)
class Shard:
    index: int   # 1-based, as the user writes it: --shard 2/3
    count: int

    @property
    def label(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(spec: str) -> Shard:
    """``"K/N"`` with 1 <= K <= N; a ConfigError naming the mistake otherwise."""
    match = _SPEC.match(spec or "")
    if match is None:
        raise ConfigError(f"--shard {spec!r}: expected K/N, e.g. --shard 2/4 (shard 2 of 4)")
    index, count = int(match[1]), int(match[2])
    if count < 1 or not 1 <= index <= count:
        raise ConfigError(f"--shard {spec}: K must be between 1 and N (N >= 1)")
    return Shard(index, count)


def expected_cost(criterion: str) -> float:
    return COSTS.get(criterion, 1.0)


def assign(costs: Mapping[str, float], count: int) -> dict[str, int]:
    """node id -> shard (1-based): the heaviest first, each to the least loaded shard."""
    loads = [0.0] * count
    plan: dict[str, int] = {}
    for nodeid in sorted(costs, key=lambda n: (-costs[n], n)):
        shard = min(range(count), key=lambda s: (loads[s], s))
        loads[shard] += costs[nodeid]
        plan[nodeid] = shard + 1
    return plan


def plan_digest(plan: Mapping[str, int]) -> str:
    """sha256 of every node id with its shard: equal on every shard that planned the same work."""
    text = json.dumps(sorted(plan.items()), separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class ShardPlan:
    """What one shard records: which shard, the whole plan's digest and size, and its own checks."""

    shard: Shard
    digest: str
    total: int                        # checks in the whole plan, all shards together
    assigned: tuple[str, ...]         # node ids this shard runs
    source_kind: str = "mongo"        # what the merge needs to tell which criteria do not apply
    store: str | None = None

    @classmethod
    def of(cls, shard: Shard, plan: Mapping[str, int], source_kind: str, store: str | None) -> ShardPlan:
        mine = tuple(sorted(n for n, s in plan.items() if s == shard.index))
        return cls(shard, plan_digest(plan), len(plan), mine, source_kind, store)

    def to_json(self) -> dict[str, Any]:
        return {"index": self.shard.index, "count": self.shard.count, "plan_digest": self.digest,
                "plan_total": self.total, "assigned": list(self.assigned), "source_kind": self.source_kind,
                "store": self.store}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ShardPlan:
        return cls(Shard(int(data["index"]), int(data["count"])), str(data["plan_digest"]),
                   int(data["plan_total"]), tuple(str(n) for n in data["assigned"]),
                   str(data.get("source_kind") or "mongo"), data.get("store"))


def union_digest(plans: Iterable[ShardPlan]) -> str:
    """The digest of the plan the given shards make up together (equals theirs when none is missing)."""
    return plan_digest({nodeid: p.shard.index for p in plans for nodeid in p.assigned})
