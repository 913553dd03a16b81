"""The merged record says what each shard did (cutover.run.merge_archive.shard_facts): reachability and probes
by shard, the MongoDB commands of every shard added up in a gate run's shape and each shard's own."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from cutover.run.gate import judge
from cutover.run.merge import Merged, ShardRun
from cutover.run.merge_archive import shard_facts
from cutover.run.shards import ShardPlan


def shard(index: int, **sections: Any) -> ShardRun:
    plan = {"index": index, "count": 2, "plan_digest": "d", "plan_total": 2, "assigned": [f"t{index}"]}
    return ShardRun(Path(f"s{index}"), {"shard": plan, **sections}, ShardPlan.from_json(plan))


def commands(**sent: dict[str, int]) -> dict[str, Any]:
    return {"allow_blocking_commands": False, "sent": sent, "outside_allowlist": {},
            "aggregate_without_maxTimeMS": {}}


def test_each_shard_s_sections_are_kept_and_the_commands_added_up() -> None:
    first = shard(1, reachability={"preflight": {"ok": True}}, probes={"sweep": {"removed": 1}},
                  mongo_commands=commands(source={"find": 3}, target={"find": 2}))
    second = shard(2, reachability={"preflight": {"ok": False}},
                   mongo_commands=commands(target={"find": 1, "aggregate": 4}))
    facts = shard_facts(Merged([first, second], {}, {}, judge([], {})))
    assert facts["reachability"] == {"by_shard": {"1/2": {"preflight": {"ok": True}},
                                                  "2/2": {"preflight": {"ok": False}}}}
    assert facts["probes"] == {"by_shard": {"1/2": {"sweep": {"removed": 1}}, "2/2": None}}
    sent = facts["mongo_commands"]
    assert sent["sent"] == {"source": {"find": 3}, "target": {"aggregate": 4, "find": 3}}
    assert sent["allow_blocking_commands"] is False and sent["outside_allowlist"] == {}
    assert sent["by_shard"]["2/2"]["sent"] == {"target": {"find": 1, "aggregate": 4}}


def test_a_command_outside_the_allowlist_in_any_shard_reaches_the_merged_audit() -> None:
    bad = {**commands(target={"dbHash": 1}), "allow_blocking_commands": True, "outside_allowlist": {"fsync": 1}}
    facts = shard_facts(Merged([shard(1, mongo_commands=commands()), shard(2, mongo_commands=bad)], {}, {},
                               judge([], {})))
    assert facts["mongo_commands"]["outside_allowlist"] == {"fsync": 1}
    assert facts["mongo_commands"]["allow_blocking_commands"] is True
    assert facts["mongo_commands"]["sent"] == {"target": {"dbHash": 1}}
