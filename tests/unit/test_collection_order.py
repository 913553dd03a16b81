"""cutover_pytest.collection_order: the one hook that orders a gate run's collection runs its steps in their
sequence around pytest's own selection, each step on what the previous one left (docs/ARCHITECTURE.md, "One order
of collection"). Run for real in subprocesses: tests/plugin/test_collection_order.py, test_resume.py, test_shards.py."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from cutover_pytest import collection_order
from cutover_pytest.collection_order import CollectionOrder


class Step:
    """A stand-in for a step's owner: records that it ran, on which items, and drops the items it is told to."""

    def __init__(self, name: str, calls: list[tuple[str, list[str]]], drops: str = "") -> None:
        self.name, self.calls, self.drops = name, calls, drops

    def __call__(self, items: list[Any], *args: Any) -> None:
        self.calls.append((self.name, list(items)))
        items[:] = [item for item in items if item != self.drops]

    keep = drop = last = __call__


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, list[str]]]:
    seen: list[tuple[str, list[str]]] = []
    monkeypatch.setattr(collection_order, "label_checks", lambda items, state: seen.append(("labels", list(items))))
    monkeypatch.setattr(collection_order, "refuse_stale_waivers",
                        lambda state, labeled: seen.append(("waivers", list(labeled))))
    monkeypatch.setattr(collection_order.live_prefetch, "start",
                        lambda session, items: seen.append(("live prefetch", list(items))))
    return seen


def collect(order: CollectionOrder, items: list[Any], calls: list[tuple[str, list[str]]],
            collect_only: bool = False) -> list[Any]:
    """Drive the wrapper as pluggy does: its first part, pytest's selection (``-k`` drops "b"), its second part."""
    config: Any = SimpleNamespace(option=SimpleNamespace(collectonly=collect_only))
    hook = order.pytest_collection_modifyitems(config, items)
    next(hook)
    calls.append(("pytest's selection", list(items)))
    items.remove("b")
    with pytest.raises(StopIteration):
        hook.send(None)
    return items


def order_of(calls: list[Any], controller: bool = True, shard: bool = True, resume: bool = True) -> CollectionOrder:
    state: Any = SimpleNamespace(collection=SimpleNamespace(labeled=[("DB-01", "DB-01[a]")]), session=None)
    return CollectionOrder(state, Step("health window", calls, drops=""),  # type: ignore[arg-type]
                           shard=Step("shard", calls, drops="c") if shard else None,  # type: ignore[arg-type]
                           resume=Step("resume", calls, drops="d") if resume else None,  # type: ignore[arg-type]
                           controller=controller)


def test_every_step_runs_in_its_place_on_what_the_step_before_left(calls: list[tuple[str, list[str]]]) -> None:
    left = collect(order_of(calls), ["a", "b", "c", "d", "e"], calls)
    assert calls == [("labels", ["a", "b", "c", "d", "e"]),          # before -k: it matches the labels
                     ("pytest's selection", ["a", "b", "c", "d", "e"]),
                     ("shard", ["a", "c", "d", "e"]),                 # the shard plans the user's selection
                     ("resume", ["a", "d", "e"]),                     # then the decided checks are dropped
                     ("health window", ["a", "e"]),
                     ("waivers", [("DB-01", "DB-01[a]")]),
                     ("live prefetch", ["a", "e"])]
    assert left == ["a", "e"]


def test_a_worker_leaves_the_waivers_to_the_controller_and_prefetches_nothing(
        calls: list[tuple[str, list[str]]]) -> None:
    collect(order_of(calls, controller=False), ["a", "b", "c", "d"], calls)
    assert [name for name, _ in calls] == ["labels", "pytest's selection", "shard", "resume", "health window"]


def test_without_shard_or_resume_their_steps_are_skipped_and_collect_only_prefetches_nothing(
        calls: list[tuple[str, list[str]]]) -> None:
    collect(order_of(calls, shard=False, resume=False), ["a", "b"], calls, collect_only=True)
    assert [name for name, _ in calls] == ["labels", "pytest's selection", "health window", "waivers"]
