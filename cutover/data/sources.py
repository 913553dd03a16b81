"""The source of truth a migration is compared against: a MongoDB, a Parse REST endpoint or a JSON export.

Each source answers two questions: which classes it holds (``class_names()``) and how many objects a class
has (``count(cls)``). A MongoDB source also serves documents (``db``); a REST or export source yields objects
through a reader (:mod:`cutover.data.rest_reader`, :mod:`cutover.data.export_reader`).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

import requests
from pymongo.database import Database

from cutover import probe_marks
from cutover.data import inventory, json_stream
from cutover.data.export_files import export_files
from cutover.data.export_layout import Layout, layout
from cutover.errors import ConfigError, TargetTimeout, TargetUnreachable, UnexpectedAnswer
from cutover.model import Source, Target
from cutover.notation import shell


class DataSource(Protocol):
    @property
    def kind(self) -> str: ...

    def class_names(self) -> list[str]: ...

    def count(self, cls: str) -> int: ...


@dataclass(frozen=True)
class MongoSource:
    db: Database[Any]
    budget_s: float                # the count's operation budget (maxTimeMS): the target's aggregation budget
    kind: str = "mongodb"
    probe_class: str = ""          # probes are never counted (a server wrongly wired to the source writes some)

    def class_names(self) -> list[str]:
        return inventory.data_collections(self.db)

    def count(self, cls: str) -> int:
        return inventory.exact_count(self.db, cls, self.budget_s, probe_marks.exclusion(cls, self.probe_class))


@dataclass(frozen=True)
class RestSource:
    """A Parse Server read with the master key: classes from ``/schemas``, counts by ``count=1&limit=0``."""

    endpoint: str
    app_id: str
    master_key: str
    timeout: float = 10.0
    kind: str = "rest"

    def class_names(self) -> list[str]:
        body = self._get("/schemas", {})
        try:
            return sorted(str(entry["className"]) for entry in body["results"])
        except (KeyError, TypeError) as exc:
            raise UnexpectedAnswer(f"source /schemas answered without results[].className ({exc})") from exc

    def count(self, cls: str) -> int:
        body = self._get(f"/classes/{quote(cls, safe='')}", {"count": "1", "limit": "0"})
        if not isinstance(body.get("count"), int):
            raise UnexpectedAnswer(f"source count of {cls} answered without an integer count: {shell(body, limit=200)}")
        return int(body["count"])

    def _get(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        headers = {"X-Parse-Application-Id": self.app_id, "X-Parse-Master-Key": self.master_key}
        url = self.endpoint.rstrip("/") + path
        try:
            resp = requests.get(url, params=params, headers=headers, timeout=self.timeout)
        except requests.Timeout as exc:
            raise TargetTimeout(f"source GET {path} took more than {self.timeout:.0f} s") from exc
        except requests.RequestException as exc:
            raise TargetUnreachable(f"source Parse Server unreachable (GET {path}): {type(exc).__name__}") \
                from exc
        return _json_body(resp, path)


def _json_body(resp: requests.Response, path: str) -> dict[str, Any]:
    if resp.status_code in (401, 403):
        raise UnexpectedAnswer(f"source GET {path} refused ({resp.status_code}): check app id and master key")
    if resp.status_code != 200:
        raise UnexpectedAnswer(f"source GET {path} answered {resp.status_code}: {resp.text[:200]}")
    try:
        body = resp.json()
    except ValueError as exc:
        raise UnexpectedAnswer(f"source GET {path} answered non-JSON: {resp.text[:200]}") from exc
    if not isinstance(body, dict):
        raise UnexpectedAnswer(f"source GET {path} answered {type(body).__name__}, expected an object")
    return body


@dataclass(frozen=True)
class ExportSource:
    """A Parse JSON export, a directory or the zip itself: ``<Class>.json`` per class, whole or in parts (what is
    what: :mod:`cutover.data.export_layout`; shapes: :mod:`cutover.data.json_stream`), read as a stream; relation
    tables and ``_SCHEMA.json`` are not classes."""

    location: Path
    kind: str = "export"

    @cached_property
    def layout(self) -> Layout:
        return layout(export_files(self.location)).check()

    def class_names(self) -> list[str]:
        return sorted(self.layout.classes)

    def count(self, cls: str) -> int:
        """Objects of ``cls`` in every part (0 for a class the export does not hold)."""
        return sum(1 for file in self.layout.class_files(cls) for _ in json_stream.objects(file))


def export_location(src: Source) -> Path:
    """Where a kind = export source is: ``export_file`` (a zip) or ``export_dir``."""
    return Path(src.export_file or src.export_dir)


def open_source(target: Target, source_db: Database[Any] | None) -> DataSource:
    """The source of ``target`` as declared in its ``[source]`` table (``source_db``: its MongoDB, if any)."""
    src = target.source
    if src.kind == "mongodb":
        if source_db is None:
            raise ConfigError(f"target {target.name}: source.kind = mongodb needs source.uri")
        budget = target.scans.aggregation_budget(target.thresholds.timeout_s)
        return MongoSource(source_db, budget, probe_class=target.probe_class)
    if src.kind == "rest":
        if not (src.endpoint and src.app_id and src.master_key):
            raise ConfigError(f"target {target.name}: source.kind = rest needs endpoint, app_id, master_key")
        return RestSource(src.endpoint, src.app_id, src.master_key, target.thresholds.timeout_s)
    if src.kind == "export":
        return ExportSource(export_location(src))
    raise ConfigError(f"target {target.name}: source.kind must be mongodb, rest or export, not {src.kind!r}")
