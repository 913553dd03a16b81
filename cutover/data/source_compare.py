"""DB-02 for a source without a database (a Parse REST API, a JSON export), partition by partition.

The partitions are the target's `_id` ranges (:func:`cutover.data.content.partitions`, about
``partition_docs`` each). For each one the target's documents are held (one partition, bounded) while the
source's objects of the same objectId range are streamed from the :class:`~cutover.data.rest_reader.SourceReader`
(paged at the same time, in a second thread) and compared through the REST <-> storage mapping
(:func:`cutover.data.rest_storage.comparable`). A Relation's `_Join:<field>:<Class>` rows are compared per
partition of the owning class, as (owningId, relatedId) pairs.
"""
from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from cutover.data.content import ContentDiff, Partition, _Collector, field_differences
from cutover.data.inventory import call
from cutover.data.pace import UNCAPPED, Pace
from cutover.data.rest_reader import SourceReader
from cutover.data.rest_storage import comparable, equivalent, hidden_fields
from cutover.data.user_fields import describe
from cutover.errors import CouldNotVerify

BATCH = 2000


@dataclass(frozen=True)
class JoinPartition:
    """The `_Join:<field>:<cls>` rows whose owning object is in ``part`` (a partition of ``cls``)."""

    field: str
    part: Partition

    @property
    def collection(self) -> str:
        return f"_Join:{self.field}:{self.part.cls}"

    @property
    def label(self) -> str:
        return self.collection + (f":p{self.part.index + 1}of{self.part.total}" if self.part.total > 1 else "")


def range_filter(key: str, part: Partition) -> dict[str, Any]:
    bound = {**({"$gte": part.lower} if part.lower is not None else {}),
             **({"$lt": part.upper} if part.upper is not None else {})}
    return {key: bound} if bound else {}


def target_documents(dst: Any, part: Partition, pace: Pace) -> dict[str, dict[str, Any]]:
    filt = {**range_filter("_id", part), **part.exclude}
    return {str(doc["_id"]): doc for doc in pace.paced(dst[part.cls].find(filt, batch_size=BATCH))}


def compare_objects(reader: SourceReader, dst: Any, part: Partition, cap: int,
                    pace: Pace = UNCAPPED) -> ContentDiff:
    """One partition: source objects (streamed) against the target's documents of the same range."""
    def run() -> ContentDiff:
        with ThreadPoolExecutor(max_workers=1) as pool:
            theirs = pool.submit(target_documents, dst, part, pace)
            source = reader.documents(part.cls, part.lower, part.upper)
            return diff_objects(part.cls, source, theirs.result(), part.label, cap, reader.kind)
    return call(f"comparing {part.label}", run)


def diff_objects(cls: str, source: Iterable[dict[str, Any]], target: dict[str, dict[str, Any]], label: str,
                 cap: int, kind: str) -> ContentDiff:
    found, source_docs, target_docs = _Collector(cap), 0, len(target)
    for doc in source:
        source_docs += 1
        key = str(doc["_id"])
        theirs = target.pop(key, None)
        if theirs is None:
            found.add("missing", key)
            continue
        hidden = hidden_fields(cls, doc)    # an export's password hash is compared; REST never shows one
        paths = [] if equivalent(cls, doc, theirs, hidden) else field_differences(comparable(cls, doc, hidden),
                                                                                  comparable(cls, theirs, hidden))
        paths = [describe(cls, path) for path in paths] + unverified_absent(cls, theirs, hidden)
        if paths:
            found.add("content", (key, ", ".join(paths)))
    for key in target:
        found.add("extra", key)
    return found.result(label, source_docs, target_docs, f"objects from the {kind} source", "not asked")


def unverified_absent(cls: str, doc: dict[str, Any], hidden: Collection[str]) -> list[str]:
    """Fields the source does not show, checked for presence on the target: a `_User` needs a password hash
    or some auth data to log in."""
    if cls != "_User" or "_hashed_password" not in hidden or "_hashed_password" in doc \
            or any(k.startswith("_auth_data_") for k in doc):
        return []
    return ["_hashed_password (absent on the target, and no authData; the source does not show the hash)"]


def compare_join(reader: SourceReader, dst: Any, unit: JoinPartition, cap: int) -> ContentDiff:
    """A Relation's rows for the owning objects of one partition: (owningId, relatedId) pairs on both sides."""
    def run() -> ContentDiff:
        filt = range_filter("owningId", unit.part)
        theirs = {(str(d["owningId"]), str(d["relatedId"]))
                  for d in dst[unit.collection].find(filt, {"owningId": 1, "relatedId": 1}, batch_size=BATCH)}
        if not reader.holds_relation(unit.part.cls, unit.field):
            return unheld(reader, unit, len(theirs))
        owners = (str(d["_id"]) for d in reader.documents(unit.part.cls, unit.part.lower, unit.part.upper))
        ours = set(reader.relation_rows(unit.part.cls, unit.field, owners))
        found = _Collector(cap)
        for row in sorted(ours - theirs):
            found.add("missing", f"owningId {row[0]} relatedId {row[1]}")
        for row in sorted(theirs - ours):
            found.add("extra", f"owningId {row[0]} relatedId {row[1]}")
        return found.result(unit.label, len(ours), len(theirs), f"relation rows from the {reader.kind} source",
                            "not asked")
    return call(f"comparing {unit.label}", run)


def unheld(reader: SourceReader, unit: JoinPartition, target_rows: int) -> ContentDiff:
    """The rows of a relation the source does not hold (an export without its `_Join` file): none on the target
    agrees with that; rows on the target cannot be verified."""
    if target_rows:
        raise CouldNotVerify(f"{unit.label}: the {reader.kind} source holds no rows of relation "
                             f"{unit.part.cls}.{unit.field} (no {unit.collection}.json file, whatever stands for "
                             f"':'), so the target's {target_rows} rows cannot be verified; export the relation too")
    return ContentDiff(unit.label, 0, 0, method=f"no relation rows: none in the {reader.kind} source, none on "
                                               "the target")


def join_units(parts: list[Partition], relations: Iterator[str] | list[str]) -> list[JoinPartition]:
    return [JoinPartition(name, part) for name in relations for part in parts]
