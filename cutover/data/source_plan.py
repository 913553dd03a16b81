"""DB-02, DB-03 and DB-07 facts for a REST or export source, for :class:`cutover.data.facade.DataFacts`.

:func:`reader` opens the target's :class:`~cutover.data.rest_reader.SourceReader`; :func:`units` lists DB-02's
units (class partitions on the target's `_id` ranges, and the relation rows per partition of the owning
class); :func:`diff` judges one unit. What is computed once lives in the facade's memo, keyed ``("src", ...)``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cutover.data import inventory
from cutover.data.content import ContentDiff, Partition, partitions
from cutover.data.rest_reader import ClassSchema, RestReader, SourceReader
from cutover.data.source_compare import JoinPartition, compare_join, compare_objects
from cutover.data.sources import export_location
from cutover.errors import ConfigError

if TYPE_CHECKING:
    from cutover.data.facade import DataFacts


def is_document_source(facts: DataFacts) -> bool:
    """True for sources that yield objects through a reader (rest, export) rather than a database."""
    return str(facts.target.source.kind) in ("rest", "export")


def reader(facts: DataFacts) -> SourceReader:
    def compute() -> SourceReader:
        src, timeout = facts.target.source, facts.target.thresholds.timeout_s
        if src.kind == "rest":
            return RestReader(src.endpoint, src.app_id, src.master_key, timeout)
        if src.kind == "export":
            from cutover.data.export_reader import ExportReader
            return ExportReader(export_location(src))
        raise ConfigError(f"source.kind = {src.kind} has no object reader")
    return facts.memo.get(("src", "reader"), compute)


def schemas(facts: DataFacts) -> dict[str, ClassSchema]:
    return facts.memo.get(("src", "schemas"), lambda: reader(facts).schemas())


def object_classes(facts: DataFacts) -> list[str]:
    """Parse classes declared by the source or holding documents on the target (probes aside)."""
    def compute() -> list[str]:
        names = set(schemas(facts)) | set(inventory.data_collections(facts.session.target_db))
        return facts.without_probes(n for n in names if inventory.is_parse_class(n))
    return facts.memo.get(("src", "classes"), compute)


def class_partitions(facts: DataFacts, cls: str) -> list[Partition]:
    def compute() -> list[Partition]:
        return partitions(facts.scan_db("target"), cls, facts.target_count(cls),
                          facts.target.thresholds.partition_docs, facts.budget_s, facts.probe_exclusion(cls))
    return facts.memo.get(("src", "parts", cls), compute)


def units(facts: DataFacts) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    for cls in object_classes(facts):
        parts = class_partitions(facts, cls)
        found += [(part.label, part) for part in parts]
        found += [(j.label, j) for name in relations(facts, cls) for j in (JoinPartition(name, p) for p in parts)]
    return found


def relations(facts: DataFacts, cls: str) -> list[str]:
    """The Relation fields of ``cls`` whose rows DB-02 compares: those the source declares and, from an export
    (which may lack a relation's file, or a schema that names it), those the target's `_SCHEMA` declares."""
    declared = schemas(facts)
    names = {name for name, _ in declared[cls].relations()} if cls in declared else set()
    if facts.target.source.kind == "export":
        stored = facts.schema_documents().get(cls) or {}
        names |= {k for k, v in stored.items() if isinstance(v, str) and v.startswith("relation<")}
    return sorted(names)


def diff(facts: DataFacts, unit: Any) -> ContentDiff:
    cap, dst = facts.target.thresholds.diff_cap, facts.scan_db("target")
    if isinstance(unit, JoinPartition):
        return compare_join(reader(facts), dst, unit, cap)
    return compare_objects(reader(facts), dst, unit, cap, facts.pace("target"))
