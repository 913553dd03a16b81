"""The components a target declares, and a breaker that remembers the ones found dead.

A component is one thing the suite reaches over the network: the source and target databases, a separate
GridFS database, the Parse Server (its ``server_url`` and, when it differs, its public URL), the source Parse
Server, a REST source, the file store and the source bucket's store, and every host of a TLS-configured link
(``TLS endpoint host:port``). Once one is found unreachable or timing out, by the preflight
(:mod:`cutover.reach.preflight`) or by a check, :class:`Breaker` raises that cause at once wherever the component
is asked for again; with a shared directory it does so in every process of the run (pytest-xdist workers).

Which component an error met during a check belongs to is read from the error itself
(:mod:`cutover.reach.failures`): only transport failures count, attributed by the address their messages name,
else to the one component of that kind the check asked for.
"""
from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from cutover.atomic_file import write_atomically
from cutover.errors import CouldNotVerify, TargetTimeout, TargetUnreachable
from cutover.model import Target
from cutover.reach.failures import addresses_in, chain, transport_failure
from cutover.redact import host_of
from cutover.transport import HostPort, links, mongo_hosts, url_host

SOURCE_DB = "source database"
TARGET_DB = "target database"
GRIDFS_DB = "GridFS database"
PARSE = "Parse Server"
PUBLIC_URL = "Parse Server public URL"
SOURCE_PARSE = "source Parse Server"
REST_SOURCE = "REST source"
FILE_STORE = "file store"
SOURCE_STORE = "source file store"
TLS_PREFIX = "TLS endpoint "


@dataclasses.dataclass(frozen=True)
class Component:
    name: str
    kind: str                          # mongodb | http | s3 | tls
    location: str                      # what it is, for messages: scheme://host:port, never credentials
    addresses: tuple[HostPort, ...]


@dataclasses.dataclass(frozen=True)
class Dead:
    component: str
    cause: str                         # the first failure, one line
    timeout: bool                      # a timeout (else unreachable)
    origin: str                        # "the preflight", "DB-01[GameScore]" ...

    def error(self) -> CouldNotVerify:
        kind = TargetTimeout if self.timeout else TargetUnreachable
        return kind(f"{self.cause} (found by {self.origin}; {self.component} is not asked again in this run)")


def components(target: Target) -> tuple[Component, ...]:
    """Every component ``target`` declares, each once (TLS endpoints by address)."""
    return (*_databases(target), *_servers(target), *_stores(target), *_tls_endpoints(target))


def _databases(target: Target) -> Iterator[Component]:
    if target.source.kind == "mongodb" and target.source.uri:
        yield _mongo(SOURCE_DB, target.source.uri)
    yield _mongo(TARGET_DB, target.database.uri)
    if target.files is not None and target.files.adapter == "gridfs" and target.files.gridfs_uri:
        yield _mongo(GRIDFS_DB, target.files.gridfs_uri)


def _servers(target: Target) -> Iterator[Component]:
    if target.parse is not None:
        yield _http(PARSE, target.parse.server_url)
        if target.parse.public_url and target.parse.public_url.rstrip("/") != target.parse.server_url.rstrip("/"):
            yield _http(PUBLIC_URL, target.parse.public_url)
    if target.source_parse is not None:
        yield _http(SOURCE_PARSE, target.source_parse.server_url)
    if target.source.kind == "rest" and target.source.endpoint:
        yield _http(REST_SOURCE, target.source.endpoint)


def _stores(target: Target) -> Iterator[Component]:
    files = target.files
    if files is None or files.adapter != "s3":
        return
    endpoint = files.endpoint_url or f"https://s3.{files.region or 'us-east-1'}.amazonaws.com"
    yield Component(FILE_STORE, "s3", host_of(endpoint), (url_host(endpoint),))
    if files.source_bucket and files.source_adapter in ("", "s3"):
        source = files.source_endpoint_url or endpoint
        yield Component(SOURCE_STORE, "s3", host_of(source), (url_host(source),))


def _tls_endpoints(target: Target) -> list[Component]:
    hosts = sorted({_lower(h) for link in links(target) if link.tls_configured and not link.srv_name
                    for h in link.hosts})
    return [Component(f"{TLS_PREFIX}{h}", "tls", str(h), (h,)) for h in hosts if h.host]


def _mongo(name: str, uri: str) -> Component:
    hosts = tuple(_lower(h) for h in mongo_hosts(uri))
    scheme = uri.partition("://")[0] or "mongodb"
    return Component(name, "mongodb", f"{scheme}://{','.join(map(str, hosts))}", hosts)


def _lower(h: HostPort) -> HostPort:
    return HostPort(h.host.lower(), h.port)


def _http(name: str, url: str) -> Component:
    return Component(name, "http", host_of(url), (url_host(url),))


class Breaker:
    """Remembers dead components; ``require`` raises the recorded cause for one at once.

    ``share(directory)`` makes every trip visible to the other processes sharing that directory.
    """

    def __init__(self, declared: Iterable[Component] = ()) -> None:
        self.components = {c.name: c for c in declared}
        self.preflight: Any = None                     # cutover.reach.preflight.Preflight, once run
        self._dead: dict[str, Dead] = {}
        self._touched: set[str] = set()
        self._shared: Path | None = None

    def share(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self._shared = directory
        for dead in self._dead.values():
            self._publish(dead)

    def begin(self) -> None:
        """A new check (or parametrization) starts: forget which components the last one asked for."""
        self._touched.clear()

    def require(self, *names: str) -> None:
        """Raise the recorded cause if one of these (declared) components is dead; note it was asked for."""
        declared = [n for n in names if n in self.components]
        self._touched.update(declared)
        dead = self.dead()
        for name in declared:
            if name in dead:
                raise dead[name].error()

    def require_tls(self, hosts: Iterable[HostPort]) -> None:
        self.require(*(f"{TLS_PREFIX}{h}" for h in hosts))

    def require_url(self, url: str) -> None:
        """Raise if a dead component serves ``url``'s host and port (file URLs served by Parse or S3)."""
        address = url_host(url)
        self.require(*(c.name for c in self.components.values() if address in c.addresses and c.kind != "mongodb"))

    def trip(self, dead: Dead) -> None:
        if dead.component in self.components and dead.component not in self.dead():
            self._dead[dead.component] = dead
            self._publish(dead)

    def note(self, exc: BaseException, origin: str) -> list[str]:
        """Trip the components a transport failure met during ``origin`` belongs to; their names."""
        failure = transport_failure(exc)
        if failure is None:
            return []
        family, cause = failure
        names = self._attribute(exc, family)
        timeout = "timed out" in cause or any("imeout" in type(link).__name__ for link in chain(exc))
        for name in names:
            self.trip(Dead(name, cause, timeout, origin))
        return names

    def _attribute(self, exc: BaseException, family: str) -> list[str]:
        same = [c for c in self.components.values() if c.kind == family]
        named = addresses_in(exc)
        if named:
            return [c.name for c in same if set(c.addresses) & named]
        touched = [c.name for c in same if c.name in self._touched]
        return touched if len(touched) == 1 else []

    def dead(self) -> dict[str, Dead]:
        """Every dead component, including those other processes found (read from the shared directory)."""
        if self._shared is not None:
            for path in self._shared.glob("*.json"):
                if path.stem not in self._dead:
                    dead = _read(path)
                    if dead is not None:
                        self._dead[dead.component] = dead
        return dict(self._dead)

    def facts(self) -> dict[str, Any]:
        """For the record: the preflight, and each component found dead (where and why)."""
        return {"preflight": self.preflight.facts() if self.preflight is not None else None,
                "dead": {name: {"cause": d.cause, "found_by": d.origin} for name, d in sorted(self.dead().items())}}

    def _publish(self, dead: Dead) -> None:
        if self._shared is None:
            return
        write_atomically(self._shared / f"{dead.component}.json", json.dumps(dataclasses.asdict(dead)))


def _read(path: Path) -> Dead | None:
    try:
        return Dead(**json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None
