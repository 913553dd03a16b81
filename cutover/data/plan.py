"""DB-01's counts and DB-02's units of a run, computed once and handed to every process that needs them.

Counting both sides of every class and walking the `_id` boundaries of the big ones reads whole classes: a run's
processes (xdist workers) and its shards must not do it again each (issue 31: each worker planning made ``-n 2``
1.68x slower than one worker). The plan is computed where the run starts (the controller, before its workers
collect; or a planning job, ``cutover plan``, whose file every shard reads) and the other processes adopt it
(:meth:`cutover.data.facade.DataFacade.adopt`): their collection asks no server. Its digest covers every count and
every unit with its exact `_id` bounds, so shards that planned different work never merge into a pass.

The JSON form keeps each bound's BSON type (canonical Extended JSON): a partition read back is the same range.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from bson import json_util

from cutover.data.content import Partition, partitions
from cutover.data.inventory import CountPair
from cutover.data.source_compare import JoinPartition
from cutover.errors import ConfigError

if TYPE_CHECKING:
    from cutover.data.facade import DataFacade, Unit

# Classes counted (both sides at once) and partitioned at the same time: a real server serves them side by side,
# and over a link with latency 2,000 counts one after the other would take minutes.
PLAN_THREADS = 4
FORMAT = 1
_BSON = json_util.CANONICAL_JSON_OPTIONS


@dataclass(frozen=True)
class DataPlan:
    """Every class's counts (source, target) and DB-02's units, in the order the checks are collected."""

    counts: tuple[CountPair, ...]
    units: tuple[tuple[str, Unit], ...]

    @cached_property
    def digest(self) -> str:
        """sha256 of the plan's canonical JSON: equal on every process and shard that planned the same work."""
        text = json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def summary(self) -> dict[str, Any]:
        """What record.json keeps of the plan: its digest and size."""
        partitioned = sorted({u.cls for _, u in self.units if isinstance(u, Partition) and u.total > 1})
        return {"digest": self.digest, "classes_counted": len(self.counts), "units": len(self.units),
                "classes_partitioned": len(partitioned)}

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "counts": [[p.cls, p.expected, p.found] for p in self.counts],
                "units": [_unit_json(ident, unit) for ident, unit in self.units]}

    @classmethod
    def from_json(cls, data: Any) -> DataPlan:
        """The plan of :meth:`to_json`; ConfigError naming what is wrong with anything else."""
        try:
            if data["format"] != FORMAT:
                raise ConfigError(f"plan format {data['format']!r}, this suite reads format {FORMAT}")
            counts = tuple(CountPair(str(c), int(s), int(t)) for c, s, t in data["counts"])
            return cls(counts, tuple(_unit_of(u) for u in data["units"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"not a plan written by `cutover plan` ({type(exc).__name__}: {exc})") from None


def _unit_json(ident: str, unit: Unit) -> dict[str, Any]:
    if isinstance(unit, JoinPartition):
        return {"id": ident, "relation": unit.field, "partition": _part_json(unit.part)}
    if isinstance(unit, Partition):
        return {"id": ident, "partition": _part_json(unit)}
    return {"id": ident, "sample": unit}


def _part_json(part: Partition) -> dict[str, Any]:
    """The bounds in canonical Extended JSON (their BSON types kept); the probe filter as plain JSON (Extended JSON
    would read its query operator ``$regex`` back as a BSON regular expression)."""
    bounds = {"lower": part.lower, "upper": part.upper}
    return {"cls": part.cls, "index": part.index, "total": part.total,
            "bounds": json.loads(json_util.dumps(bounds, json_options=_BSON)), "exclude": part.exclude}


def _unit_of(data: dict[str, Any]) -> tuple[str, Unit]:
    ident = str(data["id"])
    if "sample" in data:
        return ident, str(data["sample"])
    part = data["partition"]
    bounds = json_util.loads(json.dumps(part["bounds"]), json_options=_BSON)
    partition = Partition(str(part["cls"]), int(part["index"]), int(part["total"]), bounds["lower"],
                          bounds["upper"], dict(part["exclude"]))
    return ident, (JoinPartition(str(data["relation"]), partition) if "relation" in data else partition)


def count_all(facts: DataFacade, classes: Sequence[str]) -> tuple[CountPair, ...]:
    """Both counts of every class, the source's and the target's at the same time, PLAN_THREADS classes at once.
    A class whose count failed is left out: its DB-01 check counts it again and says why."""
    source = facts.session.source
    with ThreadPoolExecutor(2 * PLAN_THREADS, thread_name_prefix="cutover-plan") as pool:
        expected = [pool.submit(source.count, cls) for cls in classes]
        found = [pool.submit(facts.target_count, cls) for cls in classes]
        done = zip(classes, expected, found, strict=True)
        return tuple(CountPair(cls, e.result(), f.result()) for cls, e, f in done
                     if e.exception() is None and f.exception() is None)


def partition_all(facts: DataFacade, classes: Iterable[str],
                  counted: dict[str, CountPair]) -> list[tuple[str, Unit]]:
    """Every class's `_id` partitions, walked on its bigger side, PLAN_THREADS classes at once."""
    size = facts.target.thresholds.partition_docs

    def one(cls: str) -> list[Partition]:
        pair = counted.get(cls) or facts.counts(cls)   # not counted: counting again raises what went wrong
        side = facts.scan_db("source" if pair.expected >= pair.found else "target")
        return partitions(side, cls, max(pair.expected, pair.found), size, facts.budget_s,
                          facts.probe_exclusion(cls))
    return [(part.label, part) for parts in _in_pool(one, list(classes)) for part in parts]


def _in_pool(fn: Callable[[str], list[Partition]], items: list[str]) -> list[list[Partition]]:
    with ThreadPoolExecutor(PLAN_THREADS, thread_name_prefix="cutover-plan") as pool:
        return list(pool.map(fn, items))
