"""DB-02, DB-03 and DB-07 facts for a REST or export source (``session`` as in :mod:`cutover.data.facade`).

:func:`reader` opens the target's :class:`~cutover.data.rest_reader.SourceReader`; :func:`units` lists DB-02's
units (class partitions on the target's `_id` ranges, and the relation rows per partition of the owning
class); :func:`diff` judges one unit. Keys in ``session.cache`` start with ``data.src.``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from cutover.data import inventory
from cutover.data.content import ContentDiff, Partition, partitions
from cutover.data.facade import memo, probe_exclusion, target_count, without_probes
from cutover.data.rest_reader import ClassSchema, RestReader, SourceReader
from cutover.data.source_compare import JoinPartition, compare_join, compare_objects
from cutover.errors import ConfigError


def is_document_source(session: Any) -> bool:
    """True for sources that yield objects through a reader (rest, export) rather than a database."""
    return str(session.target.source.kind) in ("rest", "export")


def reader(session: Any) -> SourceReader:
    def compute() -> SourceReader:
        src, timeout = session.target.source, session.target.thresholds.timeout_s
        if src.kind == "rest":
            return RestReader(src.endpoint, src.app_id, src.master_key, timeout)
        if src.kind == "export":
            from cutover.data.export_reader import ExportReader
            return ExportReader(Path(src.export_dir))
        raise ConfigError(f"source.kind = {src.kind} has no object reader")
    return memo(session, "data.src.reader", compute)


def schemas(session: Any) -> dict[str, ClassSchema]:
    return memo(session, "data.src.schemas", lambda: reader(session).schemas())


def object_classes(session: Any) -> list[str]:
    """Parse classes declared by the source or holding documents on the target (probes aside)."""
    def compute() -> list[str]:
        names = set(schemas(session)) | set(inventory.data_collections(session.target_db))
        return without_probes(session, (n for n in names if inventory.is_parse_class(n)))
    return memo(session, "data.src.classes", compute)


def class_partitions(session: Any, cls: str) -> list[Partition]:
    def compute() -> list[Partition]:
        count = target_count(session, cls)
        return partitions(session.scan_db("target"), cls, count, session.target.thresholds.partition_docs,
                          probe_exclusion(session, cls))
    return memo(session, f"data.src.parts.{cls}", compute)


def units(session: Any) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    declared = schemas(session)
    for cls in object_classes(session):
        parts = class_partitions(session, cls)
        found += [(part.label, part) for part in parts]
        relations = declared[cls].relations() if cls in declared else []
        found += [(j.label, j) for name, _ in relations for j in (JoinPartition(name, p) for p in parts)]
    return found


def diff(session: Any, unit: Any) -> ContentDiff:
    cap, dst = session.target.thresholds.diff_cap, session.scan_db("target")
    if isinstance(unit, JoinPartition):
        return compare_join(reader(session), dst, unit, cap)
    return compare_objects(reader(session), dst, unit, cap, session.pace("target"))
