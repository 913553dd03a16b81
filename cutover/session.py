"""One target's clients, each opened on first use and closed once at the end of the run.

The pytest plugin holds one Session per process (per xdist worker), so clients are opened per worker, not
per test. Connection failures surface as :class:`cutover.errors.CouldNotVerify` subclasses. Each accessor
first asks the session's breaker (``reach``, :mod:`cutover.reach.breaker`) about its component: once a component is
known dead, its accessor raises that cause at once instead of waiting out another timeout.
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable
from functools import cached_property
from typing import Any

from cutover.data.commands import CommandLog
from cutover.data.mongo_client import open_mongo
from cutover.data.pace import Pace
from cutover.errors import ConfigError
from cutover.model import Target
from cutover.reach.breaker import (
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


class guarded:  # a decorator, like functools.cached_property
    """A cached accessor that asks the session's breaker about its components on every access."""

    def __init__(self, *names: str) -> None:
        self.names = names

    def __call__(self, build: Callable[[Any], Any]) -> guarded:
        self.build = build
        return self

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot = f"_{name}"

    def __get__(self, session: Any, owner: type | None = None) -> Any:
        if session is None:
            return self
        session.reach.require(*self.names)
        if self.slot not in session.__dict__:
            session.__dict__[self.slot] = self.build(session)
        return session.__dict__[self.slot]


class Session:
    """Lazily opened clients for one target, plus a per-session memo (``cache``) for facts."""

    def __init__(self, target: Target, options: dict[str, Any] | None = None) -> None:
        self.target = target
        # command-line switches the checks may read (sample, read_only) and ``workers`` (xdist processes)
        self.options = dict(options or {})
        self.cache: dict[str, Any] = {}
        self.commands = CommandLog(allow_blocking=target.allow_blocking_commands)
        self.reach = Breaker(components(target))
        self._closers: list[Any] = []
        self._paces: dict[str, Pace] = {}

    @guarded(TARGET_DB)
    def target_client(self) -> Any:
        return self._keep(open_mongo(self.target.database.uri, self.target.thresholds.timeout_s,
                                     self.target.database.tls_ca_file, "target", self.commands))

    @guarded(TARGET_DB)
    def target_db(self) -> Any:
        return self.target_client.get_default_database()

    @guarded(SOURCE_DB)
    def source_client(self) -> Any:
        if self.target.source.kind != "mongodb":
            return None
        return self._keep(open_mongo(self.target.source.uri, self.target.thresholds.timeout_s, "", "source",
                                     self.commands))

    @guarded(SOURCE_DB)
    def source_db(self) -> Any:
        return None if self.source_client is None else self.source_client.get_default_database()

    @property
    def gridfs_db(self) -> Any:
        files = self.target.files
        if files is None or files.adapter != "gridfs":
            return None
        return self._gridfs_client_db if files.gridfs_uri else self.target_db

    def scan_db(self, side: str) -> Any:
        """The source or target database for heavy reads (DB-02, DB-04): with ``scans.read_preference``."""
        db = self.source_db if side == "source" else self.target_db
        mode = self.target.scans.read_preference
        if db is None or not mode:
            return db
        from pymongo import read_preferences

        return db.with_options(read_preference=getattr(read_preferences, mode[0].upper() + mode[1:])())

    def pace(self, side: str) -> Pace:
        """The documents-per-second cap of one server, this process's share of ``scans.max_docs_per_s``."""
        if side not in self._paces:
            workers = max(1, int(self.options.get("workers") or 1))
            self._paces[side] = Pace(self.target.scans.max_docs_per_s / workers)
        return self._paces[side]

    @property
    def aggregation_budget_s(self) -> float:
        """maxTimeMS (in seconds) of the suite's aggregations and counts."""
        return self.target.scans.aggregation_budget(self.target.thresholds.timeout_s)

    @guarded(GRIDFS_DB)
    def _gridfs_client_db(self) -> Any:
        assert self.target.files is not None
        uri = self.target.files.gridfs_uri
        client = open_mongo(uri, self.target.thresholds.timeout_s, "", "gridfs", self.commands)
        return self._keep(client).get_default_database()

    @guarded(FILE_STORE)
    def s3(self) -> Any:
        files = self.target.files
        if files is None or files.adapter != "s3":
            return None
        return open_s3(files.endpoint_url, files.region, files.access_key_id, files.secret_access_key,
                       self.target.thresholds.timeout_s)

    @guarded(SOURCE_STORE)
    def source_s3(self) -> Any:
        files = self.target.files
        if files is None or not files.source_bucket:
            return None
        return open_s3(files.source_endpoint_url or files.endpoint_url, files.region, files.access_key_id,
                       files.secret_access_key, self.target.thresholds.timeout_s)

    @guarded(SOURCE_DB, REST_SOURCE)
    def source(self) -> Any:
        from cutover.data.sources import open_source  # the data area owns the source-of-truth abstraction

        return open_source(self.target, self)

    @guarded(PARSE)
    def parse(self) -> Any:
        return self._rest(self.target.parse)

    @guarded(SOURCE_PARSE)
    def source_parse(self) -> Any:
        return self._rest(self.target.source_parse)

    def _rest(self, server: Any) -> Any:
        if server is None:
            return None
        from cutover.rest.client import ParseClient  # the REST area owns the client

        return self._keep(ParseClient(server, timeout=self.target.thresholds.timeout_s))

    @cached_property
    def probes(self) -> Any:
        """This process's probe runs (:class:`cutover.rest.phase.ProbePhase`); ``close()`` removes the
        outstanding ones."""
        from cutover.rest.phase import ProbePhase  # the REST area owns probes

        return ProbePhase(self.target.probe_class, self.target.probe_side_effects)

    def _keep(self, client: Any) -> Any:
        self._closers.append(client)
        return client

    def keep(self, closeable: Any) -> Any:
        """Close ``closeable`` with the session, before the clients opened so far (a background sampler)."""
        return self._keep(closeable)

    def close(self) -> None:
        """Remove every probe still outstanding in this process, then close the clients (idempotent)."""
        if "probes" in self.__dict__:
            with contextlib.suppress(Exception):
                self.probes.close()
        for client in reversed(self._closers):
            with contextlib.suppress(Exception):
                client.close()
        self._closers.clear()


def open_s3(endpoint_url: str, region: str, key_id: str, secret: str, timeout: float) -> Any:
    """A boto3 S3 client with timeouts and bounded retries; credentials from the target or the environment."""
    import boto3
    from botocore.config import Config

    if bool(key_id) != bool(secret):
        raise ConfigError("files: set both access_key_id and secret_access_key, or neither (environment)")
    config = Config(connect_timeout=timeout, read_timeout=timeout, retries={"max_attempts": 3, "mode": "standard"},
                    s3={"addressing_style": "path" if endpoint_url else "auto"})
    return boto3.client("s3", endpoint_url=endpoint_url or None, region_name=region or "us-east-1",
                        aws_access_key_id=key_id or None, aws_secret_access_key=secret or None, config=config)
