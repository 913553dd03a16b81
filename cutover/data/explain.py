"""Explain replies of every shape MongoDB 4.4 to 8.0 sends (verbosity queryPlanner), read into their plan stages.

Where the winning plan sits (the manual's "Explain Results" page of each version; tests/fixtures/mongo_replies):
- find, count, distinct: ``queryPlanner.winningPlan`` (the classic engine: a tree of ``stage`` documents joined
  by ``inputStage`` / ``inputStages``);
- the slot-based engine (5.1 and later, ``explainVersion: "2"``): ``winningPlan.queryPlan``, beside its
  ``slotBasedPlan``;
- an 8.0 express plan: ``winningPlan`` is the one stage (``EXPRESS_IXSCAN``, ``EXPRESS_CLUSTERED_IXSCAN``);
- through mongos: ``winningPlan.stage`` SHARD_MERGE / SINGLE_SHARD with ``shards[].winningPlan``;
- aggregate: ``stages[0].$cursor.queryPlanner`` while stages remain after the cursor, the top-level
  ``queryPlanner`` when the whole pipeline ran in the query layer, and through mongos ``shards.<name>`` holding
  either form.
Any other shape is :class:`UnknownReply`, naming the server and the field. A leaf of the tree must be a stage
cutover knows (an index access, a collection scan, or one that reads no documents): an unknown leaf would
otherwise decide a verdict unseen.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from cutover.data.replies import UnknownReply, server_of

INDEX_STAGES = frozenset({"IXSCAN", "IDHACK", "COUNT_SCAN", "DISTINCT_SCAN", "EXPRESS_IXSCAN", "EXPRESS_IDHACK",
                          "EXPRESS_CLUSTERED_IXSCAN", "CLUSTERED_IXSCAN", "GEO_NEAR_2D", "GEO_NEAR_2DSPHERE",
                          "COLUMN_SCAN"})   # COLUMN_SCAN: a 7.0 columnstore index
SCAN_STAGES = frozenset({"COLLSCAN"})
# leaves that read no documents and no index: an empty or missing collection, a count from the metadata
QUIET_LEAVES = frozenset({"EOF", "RECORD_STORE_FAST_COUNT", "QUEUED_DATA", "VIRTUAL_SCAN", "MOCK"})
KNOWN_LEAVES = INDEX_STAGES | SCAN_STAGES | QUIET_LEAVES
_CHILDREN = ("inputStage", "innerStage", "outerStage", "thenStage", "elseStage")


@dataclass(frozen=True)
class Plan:
    """The winning plan(s) of one explain: every stage name in tree order, and the indexes the index stages read."""

    stages: tuple[str, ...]
    indexes: tuple[str, ...]

    @property
    def collscan(self) -> bool:
        return any(name in SCAN_STAGES for name in self.stages)

    @property
    def covered(self) -> bool:
        """Answered through an index everywhere: an index stage, and no collection scan on any branch or shard."""
        return bool(self.indexes) and not self.collscan


def read(reply: Mapping[str, Any], server: str = "") -> Plan:
    """The plan of an explain reply, of any shape above; UnknownReply for any other."""
    server = server or server_of(reply)
    nodes = [node for root, where in winning_plans(reply, server) for node in walk(root, server, where)]
    names = tuple(str(node["stage"]) for node in nodes)
    used = tuple(dict.fromkeys(str(node.get("indexName", "_id_")) for node in nodes if node["stage"] in INDEX_STAGES))
    return Plan(names, used)


def winning_plans(reply: Mapping[str, Any], server: str) -> list[tuple[Mapping[str, Any], str]]:
    """(root stage, where it was found) of every winning plan the reply holds."""
    if "queryPlanner" in reply:
        return [_from_planner(reply["queryPlanner"], server, "queryPlanner")]
    stages = reply.get("stages")
    if isinstance(stages, list) and stages:
        first = stages[0] if isinstance(stages[0], Mapping) else {}
        cursor = first.get("$cursor")
        if not isinstance(cursor, Mapping):
            raise UnknownReply(server, "explain", "stages[0].$cursor", f"is absent (first stage: {sorted(first)[:3]})")
        return [_from_planner(cursor.get("queryPlanner"), server, "stages[0].$cursor.queryPlanner")]
    if isinstance(reply.get("shards"), Mapping):
        return [plan for part in reply["shards"].values() if isinstance(part, Mapping)
                for plan in winning_plans(part, server)]
    raise UnknownReply(server, "explain", "queryPlanner.winningPlan",
                       f"is absent (the reply holds {', '.join(sorted(map(str, reply))[:8]) or 'nothing'})")


def _from_planner(planner: Any, server: str, where: str) -> tuple[Mapping[str, Any], str]:
    plan = planner.get("winningPlan") if isinstance(planner, Mapping) else None
    if not isinstance(plan, Mapping):
        raise UnknownReply(server, "explain", f"{where}.winningPlan")
    return root_stage(plan, server, f"{where}.winningPlan")


def root_stage(plan: Mapping[str, Any], server: str, where: str) -> tuple[Mapping[str, Any], str]:
    """The first stage of a winning plan: itself (classic, express, mongos), or its SBE ``queryPlan``."""
    if isinstance(plan.get("queryPlan"), Mapping):
        return plan["queryPlan"], f"{where}.queryPlan"
    if "stage" in plan:
        return plan, where
    raise UnknownReply(server, "explain", f"{where}.stage", f"is absent (and no queryPlan; it holds "
                                                             f"{', '.join(sorted(map(str, plan))[:6]) or 'nothing'})")


def walk(node: Mapping[str, Any], server: str, where: str) -> Iterator[Mapping[str, Any]]:
    """Every stage of a plan tree, the node first; an unknown leaf stage is UnknownReply."""
    if not isinstance(node.get("stage"), str):
        raise UnknownReply(server, "explain", f"{where}.stage")
    yield node
    children = _children(node, server, where)
    if not children and node["stage"] not in KNOWN_LEAVES:
        raise UnknownReply(server, "explain", f"{where}.stage", f"is {node['stage']!r}, a leaf stage cutover does not "
                                                                "know (neither an index access nor a collection scan)")
    for child, path in children:
        yield from walk(child, server, path)


def _children(node: Mapping[str, Any], server: str, where: str) -> list[tuple[Mapping[str, Any], str]]:
    found = [(node[key], f"{where}.{key}") for key in _CHILDREN if isinstance(node.get(key), Mapping)]
    found += [(child, f"{where}.inputStages[{i}]") for i, child in enumerate(node.get("inputStages") or [])
              if isinstance(child, Mapping)]
    for i, shard in enumerate(node.get("shards") or []):
        plan = shard.get("winningPlan") if isinstance(shard, Mapping) else None
        if not isinstance(plan, Mapping):
            raise UnknownReply(server, "explain", f"{where}.shards[{i}].winningPlan")
        found.append(root_stage(plan, server, f"{where}.shards[{i}].winningPlan"))
    return found
