"""DB-02, DB-03 and DB-07 facts for a REST or export source, for :class:`cutover.data.facade.DataFacade`.

:func:`open_reader` opens the target's :class:`~cutover.data.rest_reader.SourceReader`; :func:`units` lists DB-02's
units (class partitions on the target's `_id` ranges, and the relation rows per partition of the owning
class); :func:`diff` judges one unit. The facade remembers what is computed once (its ``source_*`` methods).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cutover.data import inventory
from cutover.data.content import ContentDiff, Partition, partitions
from cutover.data.rest_reader import RestReader, SourceReader
from cutover.data.source_compare import JoinPartition, compare_join, compare_objects
from cutover.data.sources import export_location
from cutover.errors import ConfigError
from cutover.model import Target

if TYPE_CHECKING:
    from cutover.data.facade import DataFacade


def is_document_source(facts: DataFacade) -> bool:
    """True for sources that yield objects through a reader (rest, export) rather than a database."""
    return str(facts.target.source.kind) in ("rest", "export")


def open_reader(target: Target) -> SourceReader:
    """The object reader of the target's REST or export source."""
    src, timeout = target.source, target.thresholds.timeout_s
    if src.kind == "rest":
        return RestReader(src.endpoint, src.app_id, src.master_key, timeout)
    if src.kind == "export":
        from cutover.data.export_reader import ExportReader
        return ExportReader(export_location(src))
    raise ConfigError(f"source.kind = {src.kind} has no object reader")


def object_classes(facts: DataFacade) -> list[str]:
    """Parse classes declared by the source or holding documents on the target (probes aside)."""
    names = set(facts.source_schemas()) | set(inventory.data_collections(facts.session.target_db))
    return facts.without_probes(n for n in names if inventory.is_parse_class(n))


def class_partitions(facts: DataFacade, cls: str) -> list[Partition]:
    return partitions(facts.scan_db("target"), cls, facts.target_count(cls), facts.target.thresholds.partition_docs,
                      facts.budget_s, facts.probe_exclusion(cls))


def units(facts: DataFacade) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    for cls in facts.source_object_classes():
        parts = facts.source_partitions(cls)
        found += [(part.label, part) for part in parts]
        found += [(j.label, j) for name in relations(facts, cls) for j in (JoinPartition(name, p) for p in parts)]
    return found


def relations(facts: DataFacade, cls: str) -> list[str]:
    """The Relation fields of ``cls`` whose rows DB-02 compares: those the source declares and, from an export
    (which may lack a relation's file, or a schema that names it), those the target's `_SCHEMA` declares."""
    declared = facts.source_schemas()
    names = {name for name, _ in declared[cls].relations()} if cls in declared else set()
    if facts.target.source.kind == "export":
        stored = facts.schema_documents().get(cls) or {}
        names |= {k for k, v in stored.items() if isinstance(v, str) and v.startswith("relation<")}
    return sorted(names)


def diff(facts: DataFacade, unit: Any) -> ContentDiff:
    cap, dst = facts.target.thresholds.diff_cap, facts.scan_db("target")
    if isinstance(unit, JoinPartition):
        return compare_join(facts.source_reader(), dst, unit, cap)
    return compare_objects(facts.source_reader(), dst, unit, cap, facts.pace("target"))
