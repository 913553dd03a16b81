"""cutover.data.queries: explain parsing on real MongoDB explain output shapes, inference, ESR suggestion."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from cutover.data import explain
from cutover.data.indexes import normalize
from cutover.data.queries import infer_coverage, stored_filter, suggest_index, verdict_from_explain
from cutover.model import Query

Q = Query(cls="GameScore", where={"playerName": "Zoë"}, sort={"score": -1})
IXSCAN = {"stage": "IXSCAN", "keyPattern": {"playerName": 1}, "indexName": "playerName_1", "isMultiKey": False,
          "direction": "forward", "indexBounds": {"playerName": ['["Zoë", "Zoë"]']}}
# Shapes as MongoDB prints them: classic engine (4.x-5.x), SBE (6.x/7.x queryPlan), 8.0 express, sharded, $or.
CLASSIC = {"queryPlanner": {"plannerVersion": 1, "namespace": "app.GameScore", "winningPlan": {
    "stage": "SORT", "sortPattern": {"score": -1}, "inputStage": {"stage": "FETCH", "inputStage": IXSCAN}},
    "rejectedPlans": []}, "ok": 1.0}
COLLSCAN = {"queryPlanner": {"winningPlan": {"stage": "SORT", "inputStage": {
    "stage": "COLLSCAN", "filter": {"playerName": {"$eq": "Zoë"}}, "direction": "forward"}}}, "ok": 1.0}
SBE = {"explainVersion": "2", "queryPlanner": {"winningPlan": {
    "queryPlan": {"stage": "FETCH", "planNodeId": 2, "inputStage": {**IXSCAN, "planNodeId": 1}},
    "slotBasedPlan": {"slots": "$$RESULT=s11", "stages": "[2] nlj inner [] [s4]"}}}, "ok": 1.0}
EXPRESS = {"explainVersion": "1", "queryPlanner": {"winningPlan": {
    "isCached": False, "stage": "EXPRESS_IXSCAN", "keyPattern": "{ playerName: 1 }", "indexName": "playerName_1"}}}
SHARDED = {"queryPlanner": {"mongosPlannerVersion": 1, "winningPlan": {"stage": "SHARD_MERGE", "shards": [
    {"shardName": "s0", "winningPlan": {"stage": "FETCH", "inputStage": IXSCAN}},
    {"shardName": "s1", "winningPlan": {"stage": "COLLSCAN"}}]}}}
OR = {"queryPlanner": {"winningPlan": {"stage": "SUBPLAN", "inputStage": {"stage": "FETCH", "inputStage": {
    "stage": "OR", "inputStages": [IXSCAN, {**IXSCAN, "indexName": "score_1"}]}}}}}


@pytest.mark.parametrize(("reply", "covered", "index"), [
    (CLASSIC, True, "playerName_1"), (COLLSCAN, False, ""), (SBE, True, "playerName_1"),
    (EXPRESS, True, "playerName_1"), (SHARDED, False, ""), (OR, True, "playerName_1+score_1"),
])
def test_verdict_from_real_explain_shapes(reply: dict[str, Any], covered: bool, index: str) -> None:
    verdict = verdict_from_explain(Q, reply)
    assert (verdict.covered, verdict.index, verdict.method) == (covered, index, "explain")


def test_plan_stages_walks_every_child() -> None:
    assert explain.read(OR, "MongoDB 6.0.15").stages == ("SUBPLAN", "FETCH", "OR", "IXSCAN", "IXSCAN")


def test_stored_filter_translates_parse_where() -> None:
    where = {"objectId": "a", "player": {"__type": "Pointer", "className": "Player", "objectId": "p1"},
             "createdAt": {"$gt": {"__type": "Date", "iso": "2024-01-02T03:04:05.000Z"}},
             "$or": [{"updatedAt": {"$exists": True}}]}
    assert stored_filter(where) == {"_id": "a", "_p_player": "Player$p1",
                                    "_created_at": {"$gt": datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)},
                                    "$or": [{"_updated_at": {"$exists": True}}]}


def ix(name: str, key: dict[str, Any], **opts: Any) -> Any:
    return normalize({"name": name, "key": key, **opts})


def test_inference_rules() -> None:
    plain, sparse = ix("playerName_1", {"playerName": 1}), ix("u", {"username": 1}, sparse=True, unique=True)
    ci = ix("ci", {"playerName": 1}, collation={"locale": "en", "strength": 2})
    assert infer_coverage(Q, [ix("_id_", {"_id": 1}), plain]).index == "playerName_1"
    assert not infer_coverage(Q, [ix("_id_", {"_id": 1}), ci]).covered
    assert infer_coverage(Query(cls="_User", where={"username": "x"}), [sparse]).covered
    assert not infer_coverage(Query(cls="_User", where={"username": {"$exists": False}}), [sparse]).covered
    sort_only = Query(cls="GameScore", sort={"score": 1})
    assert infer_coverage(sort_only, [ix("s", {"score": -1})]).covered
    assert not infer_coverage(sort_only, [ix("s", {"kills": -1, "score": -1})]).covered
    either = Query(cls="C", where={"$or": [{"playerName": "a"}, {"score": 3}]})
    assert not infer_coverage(either, [plain]).covered
    assert infer_coverage(either, [plain, ix("s", {"score": 1})]).index == "playerName_1+s"
    verdict = infer_coverage(Q, [])
    assert verdict.stages == ("COLLSCAN",) and "inferred" in verdict.method and "stand-in" in verdict.method
    assert verdict.stand_in["server"] == "the sandbox's stand-in (mongoeco)"


def test_suggested_index_follows_equality_sort_range() -> None:
    q = Query(cls="GameScore", where={"score": {"$gt": 5}, "playerName": "x"}, sort={"_created_at": -1})
    assert suggest_index(q) == "{playerName: 1, _created_at: -1, score: 1}"
