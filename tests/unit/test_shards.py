"""Shard assignment (cutover.run.shards): deterministic, balanced by expected cost, every check exactly once."""
from __future__ import annotations

import pytest

from cutover.errors import ConfigError
from cutover.run.shards import Shard, ShardPlan, assign, parse_shard, plan_digest, union_digest


def test_k_of_n_is_parsed_and_bad_specs_are_refused() -> None:
    assert parse_shard("2/3") == Shard(2, 3)
    for bad in ("0/3", "4/3", "3", "a/b", "1/0", ""):
        with pytest.raises(ConfigError, match="--shard"):
            parse_shard(bad)


def test_every_check_goes_to_exactly_one_shard_whatever_the_order() -> None:
    costs = {f"checks/test_data.py::test_content[GameScore:p{i}of40]": 10.0 for i in range(40)}
    costs.update({f"checks/test_rest.py::test_api[{i}]": 1.0 for i in range(17)})
    plan = assign(costs, 3)
    assert set(plan) == set(costs) and set(plan.values()) == {1, 2, 3}
    assert assign(dict(reversed(list(costs.items()))), 3) == plan     # order of collection plays no part


def test_the_shards_are_balanced_by_expected_cost() -> None:
    costs = {f"p{i}": 10.0 for i in range(6)} | {f"c{i}": 1.0 for i in range(30)}
    plan = assign(costs, 3)
    loads = [sum(c for n, c in costs.items() if plan[n] == k) for k in (1, 2, 3)]
    assert max(loads) - min(loads) <= 1.0, loads
    assert sorted(sum(1 for n in plan if n.startswith("p") and plan[n] == k) for k in (1, 2, 3)) == [2, 2, 2]


def test_the_shards_plans_add_up_to_the_whole_only_when_all_are_there() -> None:
    plan = assign({f"t{i}": 1.0 for i in range(10)}, 3)
    plans = [ShardPlan.of(Shard(k, 3), plan, "mongo", None) for k in (1, 2, 3)]
    assert {p.digest for p in plans} == {plan_digest(plan)}
    assert union_digest(plans) == plan_digest(plan)
    assert union_digest(plans[:2]) != plan_digest(plan)
    assert ShardPlan.from_json(plans[1].to_json()) == plans[1]
