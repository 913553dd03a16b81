"""Discovery of file references in a Parse MongoDB, streamed (never a whole class in memory).

How Parse Server stores files: a top-level File field (``_SCHEMA`` type ``file``) holds the bare file
name as a string; a file nested in an Object or Array field keeps ``{"__type": "File", "name", "url"}``.
Only the File, Object and Array fields named in ``_SCHEMA`` are projected, so a scan reads no more
than it needs.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pymongo.database import Database
from pymongo.errors import PyMongoError

from cutover.errors import TargetUnreachable

SCHEMA_COLLECTION = "_SCHEMA"
BATCH_SIZE = 1000
_CONTAINER_TYPES = ("object", "array")


@dataclass(frozen=True)
class FileRef:
    """One reference to a file: which object, which field (top level) and path (exact), which name."""

    cls: str
    object_id: str
    field: str
    path: str
    name: str
    url: str = ""          # the URL stored with a nested file, when there is one


@dataclass(frozen=True)
class FileField:
    """A field of a class that holds files: ``nested`` when files sit inside an Object/Array."""

    cls: str
    field: str
    nested: bool

    @property
    def label(self) -> str:
        return f"{self.cls}.{self.field}"


@dataclass(frozen=True)
class ClassFileFields:
    """The fields of one class that may hold files, from ``_SCHEMA``."""

    cls: str
    files: tuple[str, ...]
    containers: tuple[str, ...]


def schema_file_fields(db: Database[Any]) -> list[ClassFileFields]:
    """For each class in ``_SCHEMA``: its File fields and its Object/Array fields."""
    out = []
    for doc in _stream(db[SCHEMA_COLLECTION].find({})):
        fields = {k: str(v).lower() for k, v in doc.items() if not k.startswith("_") and isinstance(v, str)}
        files = tuple(sorted(k for k, t in fields.items() if t == "file"))
        containers = tuple(sorted(k for k, t in fields.items() if t in _CONTAINER_TYPES))
        if files or containers:
            out.append(ClassFileFields(str(doc["_id"]), files, containers))
    return sorted(out, key=lambda c: c.cls)


def file_fields(db: Database[Any]) -> list[FileField]:
    """Every (class, field) that holds files: File fields, plus Object/Array fields found to nest one."""
    out: list[FileField] = []
    for spec in schema_file_fields(db):
        out.extend(FileField(spec.cls, name, False) for name in spec.files)
        out.extend(FileField(spec.cls, name, True) for name in nested_file_fields(db, spec))
    return out


def nested_file_fields(db: Database[Any], spec: ClassFileFields) -> list[str]:
    """The Object/Array fields of a class with at least one nested file (stops once all are found)."""
    pending, found = set(spec.containers), []
    if not pending:
        return []
    cursor = _container_cursor(db, spec.cls, spec.containers)
    for doc in _stream(cursor):
        for name in [n for n in pending if any(True for _ in walk_files(doc.get(n), n))]:
            pending.discard(name)
            found.append(name)
        if not pending:
            break
    cursor.close()
    return sorted(found)


def iter_field_refs(db: Database[Any], ff: FileField, batch_size: int = BATCH_SIZE) -> Iterator[FileRef]:
    """The references held in one (class, field), streamed in batches."""
    query = {ff.field: {"$exists": True, "$ne": None}}
    cursor = db[ff.cls].find(query, {ff.field: 1}, batch_size=batch_size)
    for doc in _stream(cursor):
        yield from refs_in(ff.cls, doc, ff.field)


def iter_class_refs(db: Database[Any], spec: ClassFileFields,
                    batch_size: int = BATCH_SIZE) -> Iterator[FileRef]:
    """Every reference of one class, reading each document once."""
    fields = spec.files + spec.containers
    if not fields:
        return
    query = {"$or": [{f: {"$exists": True, "$ne": None}} for f in fields]}
    cursor = db[spec.cls].find(query, dict.fromkeys(fields, 1), batch_size=batch_size)
    for doc in _stream(cursor):
        for field_name in fields:
            yield from refs_in(spec.cls, doc, field_name)


def iter_all_refs(db: Database[Any], batch_size: int = BATCH_SIZE) -> Iterator[FileRef]:
    """Every reference of every class in ``_SCHEMA``."""
    for spec in schema_file_fields(db):
        yield from iter_class_refs(db, spec, batch_size)


def refs_in(cls: str, doc: Mapping[str, Any], field_name: str) -> Iterator[FileRef]:
    """The references one document holds in one top-level field."""
    object_id = str(doc.get("_id"))
    value = doc.get(field_name)
    if isinstance(value, str):
        if value:
            yield FileRef(cls, object_id, field_name, field_name, value)
        return
    for path, name, url in walk_files(value, field_name):
        yield FileRef(cls, object_id, field_name, path, name, url)


def walk_files(value: Any, path: str) -> Iterator[tuple[str, str, str]]:
    """(path, name, url) of every ``{"__type": "File"}`` anywhere inside ``value``."""
    if isinstance(value, Mapping):
        if value.get("__type") == "File" and isinstance(value.get("name"), str):
            yield path, value["name"], str(value.get("url") or "")
            return
        for key, item in value.items():
            yield from walk_files(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from walk_files(item, f"{path}.{index}")


def count_refs(refs: Iterator[FileRef]) -> Counter[tuple[str, str]]:
    """Number of references per (class, field)."""
    return Counter((ref.cls, ref.field) for ref in refs)


def _container_cursor(db: Database[Any], cls: str, fields: tuple[str, ...]) -> Any:
    query = {"$or": [{f: {"$exists": True, "$ne": None}} for f in fields]}
    return db[cls].find(query, dict.fromkeys(fields, 1), batch_size=BATCH_SIZE)


def _stream(cursor: Any) -> Iterator[dict[str, Any]]:
    try:
        yield from cursor
    except PyMongoError as exc:
        raise TargetUnreachable(f"reading file references failed: {exc}; check the database is up") from exc

