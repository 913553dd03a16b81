"""One target's session: its clients, each opened on first use and closed once at the end, and a facade per area.

Checks ask the facades for facts: ``session.data`` (the DB-* criteria and CLI-01), ``session.files`` (FILE-*),
``session.rest`` (API-*), ``session.transport`` (TLS-*) and ``session.security`` (SEC-*): the registry
(:mod:`cutover.run.criteria`) says which criteria there are.
Each facade keeps what it computed in its own :class:`cutover.memo.Memo` and reaches another area only
through that area's facade on this session. The session keeps its clients the same way.

The pytest plugin holds one Session per process (per xdist worker), so clients are opened per worker, not
per test. Connection failures surface as :class:`cutover.errors.CouldNotVerify` subclasses. Each client
accessor first asks the session's breaker (``reach``, :mod:`cutover.reach`) about its component: once a
component is known dead, its accessor raises that cause at once instead of waiting out another timeout.
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar, overload

from cutover.data import CommandLog, DataFacade, DataSource, GuardedClient, GuardedDatabase, open_mongo, open_source
from cutover.errors import ConfigError
from cutover.files import FilesFacade
from cutover.memo import Memo
from cutover.model import ParseServer, Target
from cutover.reach import (
    FILE_STORE,
    GRIDFS_DB,
    PARSE,
    REST_SOURCE,
    SOURCE_DB,
    SOURCE_PARSE,
    SOURCE_STORE,
    TARGET_DB,
    Breaker,
    components,
)
from cutover.rest import ParseClient, ProbePhase, RestFacade
from cutover.security import SecurityFacade
from cutover.transport import TransportFacade

if TYPE_CHECKING:   # botocore costs every run's start ~0.3 s; only runs with an S3 store need it
    from botocore.client import BaseClient as S3Client  # boto3's S3 client (methods built at run time)

T = TypeVar("T")
C = TypeVar("C", bound="Closeable")


class Closeable(Protocol):
    def close(self) -> None: ...


@dataclass(frozen=True)
class RunOptions:
    """What the command line says that the library needs to know."""

    sample: int = 0       # --sample N: DB-02 compares N sampled documents per class instead of all
    workers: int = 1      # processes of the run (pytest-xdist): they share the documents-per-second cap
    shared_dir: str = ""  # the run's private scratch directory, shared by its processes ('': none)


class Accessor(Generic[T]):
    """A value built once per session (kept in its memo), after asking the breaker about its components."""

    def __init__(self, components: tuple[str, ...], build: Callable[[Session], T]) -> None:
        self.components, self.build = components, build

    def __set_name__(self, owner: type, name: str) -> None:
        self.key = ("session", name)

    @overload
    def __get__(self, session: None, owner: type | None = None) -> Accessor[T]: ...
    @overload
    def __get__(self, session: Session, owner: type | None = None) -> T: ...

    def __get__(self, session: Session | None, owner: type | None = None) -> T | Accessor[T]:
        if session is None:
            return self
        session.reach.require(*self.components)
        return session.memo.get(self.key, lambda: self.build(session))


def accessor(*components: str) -> Callable[[Callable[[Session], T]], Accessor[T]]:
    """Decorates a Session method into an :class:`Accessor` of these components (none: only kept)."""
    return lambda build: Accessor(components, build)


class Session:
    """Lazily opened clients for one target, the facades over them, and a memo for what a check computes."""

    def __init__(self, target: Target, options: RunOptions | None = None) -> None:
        self.target = target
        self.options = options or RunOptions()
        self.memo = Memo()
        self.commands = CommandLog(allow_blocking=target.allow_blocking_commands)
        self.reach = Breaker(components(target))
        self._closers: list[Closeable] = []

    # -- the facades ----------------------------------------------------------------------------------------
    @accessor()
    def data(self) -> DataFacade:
        return DataFacade(self)

    @accessor()
    def files(self) -> FilesFacade:
        return FilesFacade(self)

    @accessor()
    def rest(self) -> RestFacade:
        return RestFacade(self)

    @accessor()
    def transport(self) -> TransportFacade:
        return TransportFacade(self)

    @accessor()
    def security(self) -> SecurityFacade:
        return SecurityFacade(self)

    # -- the clients ----------------------------------------------------------------------------------------
    @accessor(TARGET_DB)
    def target_client(self) -> GuardedClient:
        database = self.target.database
        return self.keep(open_mongo(database.uri, self.target.thresholds.timeout_s, database.tls_ca_file,
                                    "target", self.commands))

    @accessor(TARGET_DB)
    def target_db(self) -> GuardedDatabase:
        return self.target_client.get_default_database()

    @accessor(SOURCE_DB)
    def source_client(self) -> GuardedClient | None:
        if self.target.source.kind != "mongodb":
            return None
        return self.keep(open_mongo(self.target.source.uri, self.target.thresholds.timeout_s, "", "source",
                                    self.commands))

    @accessor(SOURCE_DB)
    def source_db(self) -> GuardedDatabase | None:
        return None if self.source_client is None else self.source_client.get_default_database()

    @property
    def gridfs_db(self) -> GuardedDatabase | None:
        """The database of a GridFS files adapter: its own ``gridfs_uri``, else the target database."""
        files = self.target.files
        if files is None or files.adapter != "gridfs":
            return None
        return self._gridfs_client_db if files.gridfs_uri else self.target_db

    @accessor(GRIDFS_DB)
    def _gridfs_client_db(self) -> GuardedDatabase:
        assert self.target.files is not None
        client = open_mongo(self.target.files.gridfs_uri, self.target.thresholds.timeout_s, "", "gridfs",
                            self.commands)
        return self.keep(client).get_default_database()

    @accessor(FILE_STORE)
    def s3(self) -> S3Client | None:
        files = self.target.files
        if files is None or files.adapter != "s3":
            return None
        return open_s3(files.endpoint_url, files.region, files.access_key_id, files.secret_access_key,
                       self.target.thresholds.timeout_s)

    @accessor(SOURCE_STORE)
    def source_s3(self) -> S3Client | None:
        files = self.target.files
        if files is None or not files.source_bucket:
            return None
        return open_s3(files.source_endpoint_url or files.endpoint_url, files.region, files.access_key_id,
                       files.secret_access_key, self.target.thresholds.timeout_s)

    @accessor(SOURCE_DB, REST_SOURCE)
    def source(self) -> DataSource:
        return open_source(self.target, self.source_db)

    @accessor(PARSE)
    def parse(self) -> ParseClient | None:
        return self._rest_client(self.target.parse)

    @accessor(SOURCE_PARSE)
    def source_parse(self) -> ParseClient | None:
        return self._rest_client(self.target.source_parse)

    def _rest_client(self, server: ParseServer | None) -> ParseClient | None:
        if server is None:
            return None
        return self.keep(ParseClient(server, timeout=self.target.thresholds.timeout_s))

    @accessor()
    def probes(self) -> ProbePhase:
        """This process's probe runs; ``close()`` removes the outstanding ones."""
        return ProbePhase(self.target.probe_class, self.target.probe_side_effects)

    # -- the end --------------------------------------------------------------------------------------------
    def keep(self, closeable: C) -> C:
        """Close ``closeable`` with the session, before whatever was kept earlier (a background sampler)."""
        self._closers.append(closeable)
        return closeable

    def close(self) -> None:
        """Remove every probe still outstanding in this process, then close the clients (idempotent)."""
        if ("session", "probes") in self.memo:
            with contextlib.suppress(Exception):
                self.probes.close()
        for closeable in reversed(self._closers):
            with contextlib.suppress(Exception):
                closeable.close()
        self._closers.clear()


def open_s3(endpoint_url: str, region: str, key_id: str, secret: str, timeout: float, retries: int = 3) -> S3Client:
    """A boto3 S3 client with timeouts and at most ``retries`` retries (the preflight's probe: none); credentials
    from the target or the environment."""
    import boto3
    from botocore.config import Config

    if bool(key_id) != bool(secret):
        raise ConfigError("files: set both access_key_id and secret_access_key, or neither (environment)")
    config = Config(connect_timeout=timeout, read_timeout=timeout,
                    retries={"max_attempts": retries, "mode": "standard"},
                    s3={"addressing_style": "path" if endpoint_url else "auto"})
    return boto3.client("s3", endpoint_url=endpoint_url or None, region_name=region or "us-east-1",
                        aws_access_key_id=key_id or None, aws_secret_access_key=secret or None, config=config)
