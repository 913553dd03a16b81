"""What a source without a database yields for DB-02: the source reader interface, and its Parse REST reader.

A :class:`SourceReader` yields objects in Parse's MongoDB storage form (:mod:`cutover.data.rest_storage`), so
DB-02 compares them with the target's stored documents whatever the source is:

- ``schemas()``: class name -> :class:`ClassSchema` (fields, indexes, class-level permissions) as the source
  declares them (REST: ``/schemas``);
- ``documents(cls, lower, upper)``: every object whose objectId is in [lower, upper) (None: open end), in
  objectId order, streamed;
- ``fetch(cls, ids)``: the given objects now (objectId -> storage document; absent ones left out), for
  rechecks of objects that differed (live sync);
- ``relation_rows(cls, field, owning_ids)``: the (owningId, relatedId) rows of a Relation field;
  ``holds_relation(cls, field)``: whether the source has them at all (an export may lack a `_Join` file);
- ``not_verifiable(cls)``: the storage fields of ``cls`` the source never shows (so never compared).

:class:`RestReader` pages with ``order=objectId`` and a ``where`` on objectId (``$gt`` the last one seen), never
``skip`` (skip-based paging re-reads and misses objects as the class changes, and slows with depth). Every
request has a timeout; relation queries run on a bounded pool.
"""
from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import quote

import requests

from cutover.data.rest_storage import NOT_RETURNED, to_storage_at
from cutover.data.sources import _json_body
from cutover.errors import TargetTimeout, TargetUnreachable, UnexpectedAnswer
from cutover.notation import shell

PAGE = 1000           # objects per REST page (Parse Server's default maxLimit is unlimited)
CONCURRENCY = 4       # relation queries in flight at once
AHEAD = 2             # pages fetched ahead of the comparison (one request in flight per paging loop)


@dataclass(frozen=True)
class ClassSchema:
    name: str
    fields: dict[str, Any] = field(default_factory=dict)
    indexes: dict[str, Any] | None = None        # None: the source does not show indexes
    permissions: dict[str, Any] | None = None     # classLevelPermissions

    def relations(self) -> list[tuple[str, str]]:
        """(field, target class) of every Relation field."""
        return sorted((name, str(spec.get("targetClass", ""))) for name, spec in self.fields.items()
                      if isinstance(spec, dict) and spec.get("type") == "Relation")


class SourceReader(Protocol):
    kind: str

    def schemas(self) -> dict[str, ClassSchema]: ...

    def documents(self, cls: str, lower: str | None, upper: str | None) -> Iterator[dict[str, Any]]: ...

    def fetch(self, cls: str, ids: Iterable[str]) -> dict[str, dict[str, Any]]: ...

    def relation_rows(self, cls: str, field: str, owning_ids: Iterable[str]) -> Iterator[tuple[str, str]]: ...

    def holds_relation(self, cls: str, field: str) -> bool: ...

    def not_verifiable(self, cls: str) -> list[str]: ...


@dataclass
class RestReader:
    """A Parse Server read with the master key (read-only: GET requests only)."""

    endpoint: str
    app_id: str
    master_key: str = field(repr=False)
    timeout: float = 10.0
    page: int = PAGE
    concurrency: int = CONCURRENCY
    kind: str = "rest"
    requests_made: int = 0
    _schemas: dict[str, ClassSchema] | None = None

    def schemas(self) -> dict[str, ClassSchema]:
        if self._schemas is None:
            body = self._get("/schemas", {})
            try:
                self._schemas = {str(e["className"]): ClassSchema(str(e["className"]), dict(e.get("fields") or {}),
                                                                  e.get("indexes"), e.get("classLevelPermissions"))
                                 for e in body["results"]}
            except (KeyError, TypeError) as exc:
                raise UnexpectedAnswer(f"source /schemas answered without results[].className ({exc})") from exc
        return self._schemas

    def fields(self, cls: str) -> dict[str, Any]:
        found = self.schemas().get(cls)
        return found.fields if found else {}

    def documents(self, cls: str, lower: str | None, upper: str | None) -> Iterator[dict[str, Any]]:
        fields = self.fields(cls)
        for obj in self.pages(cls, lower, upper):
            yield storage_form(cls, obj, fields)

    def pages(self, cls: str, lower: str | None, upper: str | None, keys: str = "",
              where: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Raw REST objects of ``cls`` with objectId in [lower, upper), in objectId order; the next page is
        fetched while the caller works on this one (one request in flight, at most ``AHEAD`` pages held)."""
        for page in prefetched(self._page_lists(cls, lower, upper, keys, where)):
            yield from page

    def _page_lists(self, cls: str, lower: str | None, upper: str | None, keys: str,
                    where: dict[str, Any] | None) -> Iterator[list[dict[str, Any]]]:
        bound: dict[str, Any] = {**({"$gte": lower} if lower is not None else {}),
                                 **({"$lt": upper} if upper is not None else {})}
        while True:
            cond = {**where} if where else {}
            if bound:
                cond["objectId"] = bound
            params = {"where": json.dumps(cond), "order": "objectId", "limit": str(self.page)}
            if keys:
                params["keys"] = keys
            results = self._results(f"/classes/{quote(cls, safe='')}", params)
            yield results
            if len(results) < self.page:
                return
            bound = {k: v for k, v in bound.items() if k == "$lt"} | {"$gt": str(results[-1]["objectId"])}

    def fetch(self, cls: str, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        fields, wanted, out = self.fields(cls), sorted(set(ids)), {}
        for i in range(0, len(wanted), self.page):
            chunk = wanted[i:i + self.page]
            params = {"where": json.dumps({"objectId": {"$in": chunk}}), "limit": str(self.page)}
            for obj in self._results(f"/classes/{quote(cls, safe='')}", params):
                out[str(obj["objectId"])] = storage_form(cls, obj, fields)
        return out

    def relation_rows(self, cls: str, field: str, owning_ids: Iterable[str]) -> Iterator[tuple[str, str]]:
        """Rows of ``cls.field`` for ``owning_ids``: one ``$relatedTo`` query per owning object, on a bounded pool."""
        target = str(self.fields(cls).get(field, {}).get("targetClass", ""))

        def related(owner: str) -> list[tuple[str, str]]:
            where = {"$relatedTo": {"object": {"__type": "Pointer", "className": cls, "objectId": owner},
                                    "key": field}}
            return [(owner, str(o["objectId"])) for o in self.pages(target, None, None, "objectId", where)]
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            for rows in pool.map(related, list(owning_ids)):
                yield from rows

    def holds_relation(self, cls: str, field: str) -> bool:
        return True                 # every relation is asked through `$relatedTo`

    def not_verifiable(self, cls: str) -> list[str]:
        return list(NOT_RETURNED.get(cls, ()))

    def _results(self, path: str, params: dict[str, str]) -> list[dict[str, Any]]:
        body = self._get(path, params)
        if not isinstance(body.get("results"), list):
            raise UnexpectedAnswer(f"source GET {path} answered without a results list: {shell(body, limit=200)}")
        return list(body["results"])

    def _get(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        headers = {"X-Parse-Application-Id": self.app_id, "X-Parse-Master-Key": self.master_key}
        url = self.endpoint.rstrip("/") + path
        self.requests_made += 1
        try:
            resp = _http().get(url, params=params, headers=headers, timeout=self.timeout)
        except requests.Timeout as exc:
            raise TargetTimeout(f"source GET {path} took more than {self.timeout:.0f} s") from exc
        except requests.RequestException as exc:
            raise TargetUnreachable(f"source Parse Server unreachable (GET {path}): {type(exc).__name__}") from exc
        return _json_body(resp, path)


def storage_form(cls: str, obj: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    """One REST object in storage form; what cannot be mapped is an error naming class, object and field."""
    return to_storage_at(f"source /classes/{cls}", cls, obj, fields)


_END = object()


def prefetched(pages: Iterator[list[dict[str, Any]]]) -> Iterator[list[dict[str, Any]]]:
    """``pages``, produced by a background thread up to ``AHEAD`` pages ahead of the consumer. An error of the
    producer is raised in the consumer; a consumer that stops early stops the producer at its next page."""
    ahead: queue.Queue[Any] = queue.Queue(maxsize=AHEAD)
    stop = threading.Event()

    def produce() -> None:
        try:
            for page in pages:
                if not _put(ahead, page, stop):
                    return
            _put(ahead, _END, stop)
        except BaseException as exc:    # handed to the consumer, which raises it
            _put(ahead, exc, stop)

    worker = threading.Thread(target=produce, name="rest-prefetch", daemon=True)
    worker.start()
    try:
        while (item := ahead.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join(timeout=1.0)


def _put(ahead: queue.Queue[Any], item: Any, stop: threading.Event) -> bool:
    while not stop.is_set():
        try:
            ahead.put(item, timeout=0.2)
            return True
        except queue.Full:
            continue
    return False


_SESSION: requests.Session | None = None


def _http() -> requests.Session:
    """One pooled HTTP session per process (keep-alive across pages); requests' Session is thread-safe for GET."""
    global _SESSION
    if _SESSION is None:
        _SESSION = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=2 * CONCURRENCY)
        _SESSION.mount("http://", adapter)
        _SESSION.mount("https://", adapter)
    return _SESSION
