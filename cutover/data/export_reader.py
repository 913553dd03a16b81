"""A Parse JSON export as a :class:`~cutover.data.rest_reader.SourceReader`, in bounded memory.

Files (see :mod:`cutover.data.json_stream` for the shapes read): ``<Class>.json`` per class,
``_Join:<field>:<Class>.json`` per relation (rows ``{"owningId", "relatedId"}``), and optionally
``_SCHEMA.json`` (``{"results": [<what /schemas answers>]}``, written by :mod:`cutover.sandbox.export`): with it,
DB-03 and DB-07 compare the declared indexes and class-level permissions; without it they are not applicable.

An export is in no particular order, but DB-02 reads objects by objectId range. So each class file is sorted
once, externally: read in runs of ``RUN`` objects, each run sorted by objectId and written as JSON lines to a
private temporary directory with a sparse index (every ``STRIDE``-th objectId and its offset); a range is read
by seeking each run to its lower bound and merging the runs (``heapq.merge``). Memory: one run while sorting,
then one object per run. The runs are removed by :meth:`ExportReader.close` (and with the process's temp dir).
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

from cutover.data import json_stream
from cutover.data.rest_reader import ClassSchema
from cutover.data.rest_storage import to_storage

RUN = 20_000       # objects sorted in memory at once (as their JSON text, not decoded)
STRIDE = 256       # one index entry per this many objects of a run


@dataclass(frozen=True)
class Run:
    path: Path
    ids: list[str]          # every STRIDE-th objectId
    offsets: list[int]      # their byte offsets

    def lines_from(self, lower: str | None) -> Iterator[tuple[str, str]]:
        start = 0 if lower is None else max(0, bisect.bisect_left(self.ids, lower) - 1)
        with self.path.open("rb") as stream:
            stream.seek(self.offsets[start] if self.offsets else 0)
            for raw in stream:
                line = raw.decode("utf-8")
                oid, _, body = line.partition("\t")
                if lower is None or oid >= lower:
                    yield oid, body


def write_run(directory: Path, number: int, items: list[tuple[str, str]]) -> Run:
    """``items`` ((objectId, the object's JSON text)) sorted into one run file with its sparse index."""
    items.sort(key=lambda item: item[0])
    path, ids, offsets, offset = directory / f"run{number}.jsonl", [], [], 0
    with path.open("wb") as out:
        for i, (oid, text) in enumerate(items):
            line = f"{oid}\t{text}\n".encode()
            if i % STRIDE == 0:
                ids.append(oid)
                offsets.append(offset)
            out.write(line)
            offset += len(line)
    return Run(path, ids, offsets)


@dataclass
class ExportReader:
    directory: Path
    kind: str = "export"
    _runs: dict[str, list[Run]] = field(default_factory=dict)
    _tmp: Path | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def file(self, cls: str) -> Path:
        return self.directory / f"{cls}.json"

    def schemas(self) -> dict[str, ClassSchema]:
        declared = self.file("_SCHEMA")
        if declared.exists():
            return {str(e["className"]): ClassSchema(str(e["className"]), dict(e.get("fields") or {}),
                                                     e.get("indexes"), e.get("classLevelPermissions"))
                    for e in json_stream.objects(declared)}
        found: dict[str, ClassSchema] = {p.stem: ClassSchema(p.stem) for p in self.directory.glob("*.json")
                                         if not p.stem.startswith("_Join:") and p.stem != "_SCHEMA"}
        for join in self.directory.glob("_Join:*.json"):
            _, name, owner = join.stem.split(":", 2)
            if owner in found:
                found[owner].fields[name] = {"type": "Relation"}
        return found

    def documents(self, cls: str, lower: str | None, upper: str | None) -> Iterator[dict[str, Any]]:
        fields = self.schemas_fields(cls)
        for oid, body in heapq.merge(*(run.lines_from(lower) for run in self.runs(cls)), key=lambda x: x[0]):
            if upper is not None and oid >= upper:
                return
            yield to_storage(cls, json.loads(body), fields)

    def schemas_fields(self, cls: str) -> dict[str, Any]:
        found = self.schemas().get(cls)
        return found.fields if found else {}

    def fetch(self, cls: str, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        wanted = set(ids)
        return {str(d["_id"]): d for d in self.documents(cls, None, None) if d["_id"] in wanted}

    def relation_rows(self, cls: str, field: str, owning_ids: Iterable[str]) -> Iterator[tuple[str, str]]:
        owners, path = set(owning_ids), self.file(f"_Join:{field}:{cls}")
        if not path.exists():
            return
        for row in json_stream.objects(path):
            if str(row.get("owningId")) in owners:
                yield str(row["owningId"]), str(row.get("relatedId"))

    def count(self, cls: str) -> int:
        return sum(1 for _ in json_stream.objects(self.file(cls))) if self.file(cls).exists() else 0

    def runs(self, cls: str) -> list[Run]:
        with self._lock:     # one sort per class, whichever partition asks first
            if cls not in self._runs:
                self._runs[cls] = self._sort(cls)
            return self._runs[cls]

    def _sort(self, cls: str) -> list[Run]:
        if not self.file(cls).exists():
            return []
        if self._tmp is None:
            self._tmp = Path(tempfile.mkdtemp(prefix="cutover-export-"))
            atexit.register(shutil.rmtree, self._tmp, True)     # whatever way the process ends normally
        directory = Path(tempfile.mkdtemp(dir=self._tmp))
        runs: list[Run] = []
        batch: list[tuple[str, str]] = []
        for obj in json_stream.objects(self.file(cls)):
            batch.append((str(obj.get("objectId", "")), json.dumps(obj, ensure_ascii=False)))
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
