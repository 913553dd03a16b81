"""A Parse JSON export as a :class:`~cutover.data.rest_reader.SourceReader`, in bounded memory.

The export is a directory or the zip itself (:mod:`cutover.data.export_files`, read in place); which file holds
what, whatever stands for ':' in a relation file's name and however the Dashboard split a class into parts, is
:mod:`cutover.data.export_layout`'s; the objects are checked and mapped by :mod:`cutover.data.export_objects`.
Files (shapes: :mod:`cutover.data.json_stream`): ``<Class>.json`` per class (or its parts),
``_Join:<field>:<Class>.json`` per relation (rows ``{"owningId", "relatedId"}``), and optionally ``_SCHEMA.json``
(``{"results": [<what /schemas answers>]}``, written by :mod:`cutover.sandbox.export`): with it, DB-03 and DB-07
compare the declared indexes and class-level permissions; without it they are not applicable.

An export is in no particular order, but DB-02 reads objects by objectId range. So each class (all its parts) is
sorted once, externally: read in runs of ``RUN`` objects, each run sorted by objectId and written as lines
(objectId, part, JSON) to a private temporary directory with a sparse index (every ``STRIDE``-th objectId and its
offset); a range is read by seeking each run to its lower bound and merging the runs (``heapq.merge``). Memory:
one run while sorting, then one object per run. An objectId met twice in a class is an error naming both files.
The runs are removed by :meth:`ExportReader.close` (and with the process's temp dir).
"""
from __future__ import annotations

import atexit
import bisect
import heapq
import json
import shutil
import tempfile
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cutover.data import export_objects, json_stream
from cutover.data.export_files import export_files
from cutover.data.export_layout import Layout, layout
from cutover.data.rest_reader import ClassSchema
from cutover.data.rest_storage import NOT_RETURNED
from cutover.errors import UnexpectedAnswer

RUN = 20_000       # objects sorted in memory at once (as their JSON text, not decoded)
STRIDE = 256       # one index entry per this many objects of a run


@dataclass(frozen=True)
class Run:
    path: Path
    ids: list[str]          # every STRIDE-th objectId
    offsets: list[int]      # their byte offsets

    def lines_from(self, lower: str | None) -> Iterator[tuple[str, int, str]]:
        """(objectId, part, JSON text) from the first objectId >= ``lower`` on, in objectId order."""
        start = 0 if lower is None else max(0, bisect.bisect_left(self.ids, lower) - 1)
        with self.path.open("rb") as stream:
            stream.seek(self.offsets[start] if self.offsets else 0)
            for raw in stream:
                key, part, body = raw.decode("utf-8").split("\t", 2)
                oid = json.loads(key)        # JSON-quoted: an objectId may hold any character
                if lower is None or oid >= lower:
                    yield oid, int(part), body


def write_run(directory: Path, number: int, items: list[tuple[str, int, str]]) -> Run:
    """``items`` ((objectId, part, the object's JSON text)) sorted into one run file with its sparse index."""
    items.sort(key=lambda item: item[0])
    path, ids, offsets, offset = directory / f"run{number}.jsonl", [], [], 0
    with path.open("wb") as out:
        for i, (oid, part, text) in enumerate(items):
            line = f"{json.dumps(oid)}\t{part}\t{text}\n".encode()
            if i % STRIDE == 0:
                ids.append(oid)
                offsets.append(offset)
            out.write(line)
            offset += len(line)
    return Run(path, ids, offsets)


@dataclass
class ExportReader:
    """The export at ``location`` (a directory or a zip file)."""

    location: Path
    kind: str = "export"
    _layout: Layout | None = None
    _schemas: dict[str, ClassSchema] | None = None
    _runs: dict[str, list[Run]] = field(default_factory=dict)
    _carried: dict[str, set[str]] = field(default_factory=dict)
    _tmp: Path | None = None
    _lock: threading.RLock = field(default_factory=threading.RLock)

    def layout(self) -> Layout:
        with self._lock:
            if self._layout is None:
                self._layout = layout(export_files(self.location)).check()
            return self._layout

    def schemas(self) -> dict[str, ClassSchema]:
        with self._lock:
            if self._schemas is None:
                self._schemas = declared_schemas(self.layout())
            return self._schemas

    def fields(self, cls: str) -> dict[str, Any]:
        found = self.schemas().get(cls)
        return found.fields if found else {}

    def documents(self, cls: str, lower: str | None, upper: str | None) -> Iterator[dict[str, Any]]:
        fields, names, last = self.fields(cls), [f.name for f in self.layout().class_files(cls)], None
        for oid, part, body in heapq.merge(*(run.lines_from(lower) for run in self.runs(cls)), key=lambda x: x[0]):
            if upper is not None and oid >= upper:
                return
            if last is not None and last[0] == oid:
                raise UnexpectedAnswer(f"export files {names[last[1]]} and {names[part]}: objectId {oid} is "
                                       f"exported twice in class {cls}; which one is the source's object?")
            last = (oid, part)
            yield export_objects.storage(cls, json.loads(body), fields, names[part])

    def fetch(self, cls: str, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        wanted = set(ids)
        return {str(d["_id"]): d for d in self.documents(cls, None, None) if d["_id"] in wanted}

    def holds_relation(self, cls: str, name: str) -> bool:
        """Whether the export holds rows of ``cls.name`` (a file of them, even an empty one)."""
        return bool(self.layout().relation_files(cls, name))

    def relation_rows(self, cls: str, field: str, owning_ids: Iterable[str]) -> Iterator[tuple[str, str]]:
        owners = set(owning_ids)
        for file in self.layout().relation_files(cls, field):
            for index, row in enumerate(json_stream.objects(file)):
                owning, related = export_objects.relation_row(file.name, index, row)
                if owning in owners:
                    yield owning, related

    def not_verifiable(self, cls: str) -> list[str]:
        """Fields REST never returns that no object of ``cls`` in this export carries (so not compared)."""
        self.runs(cls)
        return [k for k in NOT_RETURNED.get(cls, ()) if k not in self._carried.get(cls, set())]

    def runs(self, cls: str) -> list[Run]:
        with self._lock:     # one sort per class, whichever partition asks first
            if cls not in self._runs:
                self._runs[cls] = self._sort(cls)
            return self._runs[cls]

    def _sort(self, cls: str) -> list[Run]:
        if self._tmp is None:
            self._tmp = Path(tempfile.mkdtemp(prefix="cutover-export-"))
            atexit.register(shutil.rmtree, self._tmp, True)     # whatever way the process ends normally
        directory, carried = Path(tempfile.mkdtemp(dir=self._tmp)), self._carried.setdefault(cls, set())
        runs: list[Run] = []
        batch: list[tuple[str, int, str]] = []
        for part, file in enumerate(self.layout().class_files(cls)):
            for index, obj in enumerate(json_stream.objects(file)):
                batch.append((export_objects.object_id(file.name, index, obj), part,
                              json.dumps(obj, ensure_ascii=False)))
                carried |= export_objects.carried(cls, obj)
                if len(batch) >= RUN:
                    runs.append(write_run(directory, len(runs), batch))
                    batch = []
        if batch or not runs:
            runs.append(write_run(directory, len(runs), batch))
        return runs

    def close(self) -> None:
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
        self._runs.clear()


def declared_schemas(found: Layout) -> dict[str, ClassSchema]:
    """The export's ``_SCHEMA.json`` entries; without one, its classes and the relations its files hold."""
    if found.schema is not None:
        return dict(_schema_entry(found.schema.name, i, e) for i, e in enumerate(json_stream.objects(found.schema)))
    schemas = {cls: ClassSchema(cls) for cls in found.classes}
    for owner, name in found.relations:
        schemas.setdefault(owner, ClassSchema(owner)).fields[name] = {"type": "Relation"}
    return schemas


def _schema_entry(file_name: str, index: int, entry: dict[str, Any]) -> tuple[str, ClassSchema]:
    cls = entry.get("className")
    if not isinstance(cls, str) or not cls:
        raise UnexpectedAnswer(f"export file {file_name}: entry #{index + 1}: field className is {cls!r:.40}, "
                               "expected the class's name")
    return cls, ClassSchema(cls, dict(entry.get("fields") or {}), entry.get("indexes"),
                            entry.get("classLevelPermissions"))
