"""The run's plan (cutover.data.plan, cutover.run.plan_file): written and read back unchanged, BSON types of the
bounds included; its digest changes with any bound or count; a plan file that does not fit the run is refused;
an adopted plan answers DB-01 and DB-02 without a server; shards that planned differently do not merge."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from bson import Int64, ObjectId

from cutover.data import CountPair, DataPlan, Partition
from cutover.data.source_compare import JoinPartition
from cutover.errors import ConfigError, CouldNotVerify
from cutover.model import Database, Source, Target
from cutover.probe_marks import exclusion
from cutover.run.merge import ShardRun, coverage_problems
from cutover.run.plan_file import read_plan, write_plan
from cutover.run.shards import Shard, ShardPlan
from cutover.session import Session

UNREACHABLE = "mongodb://127.0.0.1:1/db"


def target(**changes: Any) -> Target:
    return dataclasses.replace(Target(name="t", source=Source(uri=UNREACHABLE), database=Database(uri=UNREACHABLE)),
                               **changes)


def plan(upper: Any = "m0000000") -> DataPlan:
    users = Partition("_User", 0, 1, exclude=exclusion("_User", "CutoverProbe"))
    parts = [Partition("GameScore", 0, 3, None, upper), Partition("GameScore", 1, 3, upper, Int64(7)),
             Partition("GameScore", 2, 3, Int64(7), None)]
    joins = Partition("_Join:likes:Post", 0, 2, None, ObjectId("65a000000000000000000001"))
    units = [(p.label, p) for p in (*parts, users, joins)]
    units.append((JoinPartition("likes", parts[0]).label, JoinPartition("likes", parts[0])))
    units.append(("Player:sample", "Player"))
    return DataPlan((CountPair("GameScore", 30, 30), CountPair("_User", 4, 5)), tuple(units))


def test_a_plan_reads_back_the_same_bounds_types_and_digest() -> None:
    made = plan()
    again = DataPlan.from_json(json.loads(json.dumps(made.to_json())))
    assert again == made and again.digest == made.digest
    bounds = [unit for _, unit in again.units if isinstance(unit, Partition)]
    assert type(bounds[1].upper) is Int64 and isinstance(bounds[4].upper, ObjectId)
    assert bounds[3].exclude == exclusion("_User", "CutoverProbe")   # a query's $regex stays a query operator
    assert made.summary() == {"digest": made.digest, "classes_counted": 2, "units": 7, "classes_partitioned": 2}


def test_the_digest_follows_every_bound_and_count() -> None:
    assert plan("m0000001").digest != plan().digest
    recounted = dataclasses.replace(plan(), counts=(CountPair("GameScore", 30, 31),))
    assert recounted.digest != plan().digest
    with pytest.raises(ConfigError, match="not a plan"):
        DataPlan.from_json({"format": 1, "counts": [["x"]], "units": []})


def test_a_plan_file_fits_only_its_target_configuration_and_sample(tmp_path: Path) -> None:
    path = write_plan(tmp_path / "plan.json", plan(), target(), 0)
    assert read_plan(path, target(), 0) == plan()
    other = target(thresholds=dataclasses.replace(target().thresholds, partition_docs=10))
    for run, sample, said in ((target(name="u"), 0, "target 't'"), (other, 0, "configuration"),
                              (target(), 100, "--sample 0")):
        with pytest.raises(ConfigError, match=said):
            read_plan(path, run, sample)
    data = json.loads(path.read_text())
    data["plan"]["counts"][0][2] = 29
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError, match="does not match its digest"):
        read_plan(path, target(), 0)
    with pytest.raises(ConfigError, match="no such file"):
        read_plan(tmp_path / "none.json", target(), 0)


def test_an_adopted_plan_answers_without_a_server() -> None:
    session = Session(target())
    session.data.adopt(plan())
    assert session.data.counts("_User") == CountPair("_User", 4, 5)
    assert session.data.target_count("GameScore") == 30
    assert [ident for ident, _ in session.data.content_units()][:3] == [
        "GameScore:p1of3", "GameScore:p2of3", "GameScore:p3of3"]
    failed = Session(target())
    failed.data.adopt_failure(CouldNotVerify("counting GameScore: database unreachable"))
    with pytest.raises(CouldNotVerify, match="counting GameScore"):
        failed.data.content_units()


def shard(k: int, digest: str) -> ShardRun:
    plan = ShardPlan.of(Shard(k, 2), {"a": 1, "b": 2}, "mongo", None)
    return ShardRun(Path(f"s{k}"), {"plan": {"digest": digest}}, plan)


def test_shards_with_different_plans_do_not_merge_into_a_pass() -> None:
    assert coverage_problems([shard(1, "ab" * 32), shard(2, "ab" * 32)]) == ([], set())
    problems, _ = coverage_problems([shard(1, "ab" * 32), shard(2, "cd" * 32)])
    assert len(problems) == 1 and "different counts or DB-02 partitions" in problems[0]
    assert "cutover plan" in problems[0]
