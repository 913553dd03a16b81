"""One target's clients, each opened on first use and closed once at the end of the run.

The pytest plugin holds one Session per process (per xdist worker), so clients are opened per worker, not
per test. Connection failures surface as :class:`cutover.errors.CouldNotVerify` subclasses.
"""
from __future__ import annotations

import contextlib
from functools import cached_property
from typing import Any

from cutover.errors import ConfigError
from cutover.model import Target
from cutover.mongo_client import open_mongo


class Session:
    """Lazily opened clients for one target, plus a per-session memo (``cache``) for facts."""

    def __init__(self, target: Target, options: dict[str, Any] | None = None) -> None:
        self.target = target
        self.options = dict(options or {})   # command-line switches the checks may read (sample, read_only)
        self.cache: dict[str, Any] = {}
        self._closers: list[Any] = []

    @cached_property
    def target_client(self) -> Any:
        return self._keep(open_mongo(self.target.database.uri, self.target.thresholds.timeout_s,
                                     self.target.database.tls_ca_file))

    @cached_property
    def target_db(self) -> Any:
        return self.target_client.get_default_database()

    @cached_property
    def source_client(self) -> Any:
        if self.target.source.kind != "mongodb":
            return None
        return self._keep(open_mongo(self.target.source.uri, self.target.thresholds.timeout_s))

    @cached_property
    def source_db(self) -> Any:
        return None if self.source_client is None else self.source_client.get_default_database()

    @cached_property
    def gridfs_db(self) -> Any:
        files = self.target.files
        if files is None or files.adapter != "gridfs":
            return None
        if not files.gridfs_uri:
            return self.target_db
        return self._keep(open_mongo(files.gridfs_uri, self.target.thresholds.timeout_s)).get_default_database()

    @cached_property
    def s3(self) -> Any:
        files = self.target.files
        if files is None or files.adapter != "s3":
            return None
        return open_s3(files.endpoint_url, files.region, files.access_key_id, files.secret_access_key,
                       self.target.thresholds.timeout_s)

    @cached_property
    def source_s3(self) -> Any:
        files = self.target.files
        if files is None or not files.source_bucket:
            return None
        return open_s3(files.source_endpoint_url or files.endpoint_url, files.region, files.access_key_id,
                       files.secret_access_key, self.target.thresholds.timeout_s)

    @cached_property
    def source(self) -> Any:
        from cutover.sources import open_source  # the data area owns the source-of-truth abstraction

        return open_source(self.target, self)

    @cached_property
    def parse(self) -> Any:
        return self._rest(self.target.parse)

    @cached_property
    def source_parse(self) -> Any:
        return self._rest(self.target.source_parse)

    def _rest(self, server: Any) -> Any:
        if server is None:
            return None
        from cutover.parse_rest import ParseClient  # the REST area owns the client

        return self._keep(ParseClient(server, timeout=self.target.thresholds.timeout_s))

    @cached_property
    def probes(self) -> Any:
        """This process's probe runs (:class:`cutover.probe_phase.ProbePhase`); ``close()`` removes the
        outstanding ones."""
        from cutover.probe_phase import ProbePhase  # the REST area owns probes

        return ProbePhase(self.target.probe_class, self.target.probe_side_effects)

    def _keep(self, client: Any) -> Any:
        self._closers.append(client)
        return client

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
