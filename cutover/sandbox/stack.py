"""The embedded sandbox: starts, seeds, migrates and stops a whole Parse deployment on loopback.

Order matters the way it does in a real migration: the source is seeded and its Parse Server started;
then the data, indexes and files are copied to the target; only then does the target's Parse Server start
on the migrated database. ``fork_target`` gives a scenario an isolated migrated copy to plant a defect in.
With CUTOVER_TEST_MONGODB_URI set, both databases live on that real MongoDB instead of the stand-in.
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pymongo

from cutover.errors import SandboxError
from cutover.model import CloudFunction, Database, Files, ParseServer, Query, Source, Target, Thresholds
from cutover.sandbox.certs import Pki, make_pki
from cutover.sandbox.migrate import copy_bucket, copy_database
from cutover.sandbox.mongo_server import mongo_service, mongo_uri
from cutover.sandbox.parse_server import ParseOptions, S3Files, parse_service
from cutover.sandbox.process import Service, free_port, start_all, stop_all
from cutover.sandbox.s3_server import DUMMY_ACCESS_KEY, DUMMY_SECRET_KEY, create_bucket, s3_client, s3_service
from cutover.sandbox.seed import APP_ID, seed_source
from cutover.sandbox.tls_proxy import tls_front_service

REAL_MONGO_ENV = "CUTOVER_TEST_MONGODB_URI"
REGION = "eu-west-1"
SOURCE_BUCKET = "parse-legacy-files"
TARGET_BUCKET = "parse-app-files"
APP_DIR = Path(__file__).with_name("app")


@dataclasses.dataclass
class Endpoints:
    source_uri: str = ""
    target_uri: str = ""
    s3_url: str = ""
    parse_url: str = ""
    parse_public_url: str = ""
    source_parse_url: str = ""


class Sandbox:
    """A running sandbox; use as a context manager or call :meth:`stop`."""

    def __init__(self, run_dir: Path, scale: int = 3000, cache_dir: Path | None = None) -> None:
        self.run_dir = Path(run_dir)
        self.scale = scale
        self.cache_dir = Path(cache_dir or Path.cwd() / ".cache")
        self.keys = {k: secrets.token_hex(16) for k in ("master_key", "rest_key", "javascript_key", "file_key")}
        self.services: list[Service] = []
        self.ep = Endpoints()
        self.pki: Pki | None = None
        self.timings: dict[str, float] = {}
        self._suffix = secrets.token_hex(3)
        self._dbs: tuple[str, str] = ("parse_source", "parse_target")
        self._forks: list[tuple[Any, str, str]] = []
        self._clients: list[Any] = []

    # -- lifecycle ------------------------------------------------------------------------------------
    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> Sandbox:
        t0 = time.monotonic()
        try:
            self._start_stores()
            self._timed("stores", t0)
            summary = self._seed()
            self._timed("seed", t0)
            self.seed_summary = summary
            self._start_parse("source parse-server", self.ep.source_uri, SOURCE_BUCKET, "source_parse_url")
            self._migrate()
            self._timed("migrate", t0)
            self._start_parse("target parse-server", self.ep.target_uri, TARGET_BUCKET, "parse_url")
            self._start_tls_front()
            self._timed("ready", t0)
        except BaseException:
            self.stop()
            raise
        return self

    def start_target(self, name: str, production: bool = False) -> Target:
        self.start()
        return self.target(name, production=production)

    def stop(self) -> None:
        for client, db_name, _bucket in self._forks:
            _quietly(lambda c=client, d=db_name: c.drop_database(d))
        if os.environ.get(REAL_MONGO_ENV):
            for db_name in self._dbs:
                _quietly(lambda d=db_name: self.mongo(self.ep.target_uri).drop_database(d))
        for client in self._clients:
            _quietly(client.close)
        self._clients.clear()
        stop_all(self.services)
        self.services.clear()

    # -- pieces ---------------------------------------------------------------------------------------
    def _start_stores(self) -> None:
        logs = self.run_dir / "logs"
        s3_port = free_port()
        services = [s3_service(s3_port, logs / "s3.log")]
        real = os.environ.get(REAL_MONGO_ENV)
        if real:
            self._dbs = (f"cutover_{self._suffix}_source", f"cutover_{self._suffix}_target")
            self.ep.source_uri = _with_db(real, self._dbs[0])
            self.ep.target_uri = _with_db(real, self._dbs[1])
        else:
            src_port, dst_port = free_port(), free_port()
            services += [mongo_service(src_port, logs / "mongo-source.log", self.cache_dir),
                         mongo_service(dst_port, logs / "mongo-target.log", self.cache_dir)]
            self.ep.source_uri = mongo_uri(src_port, self._dbs[0])
            self.ep.target_uri = mongo_uri(dst_port, self._dbs[1])
        self.ep.s3_url = f"http://127.0.0.1:{s3_port}"
        self._launch(services)
        self.s3 = s3_client(self.ep.s3_url, "us-east-1")
        create_bucket(self.s3, SOURCE_BUCKET, "us-east-1")
        create_bucket(self.s3, TARGET_BUCKET, REGION)

    def _seed(self) -> Any:
        source_db = self.db(self.ep.source_uri)
        return seed_source(source_db, self.s3, SOURCE_BUCKET, gridfs_db=source_db, scale=self.scale)

    def _migrate(self) -> None:
        src, dst = self.db(self.ep.source_uri), self.db(self.ep.target_uri)
        with ThreadPoolExecutor(max_workers=2) as pool:
            files = pool.submit(copy_bucket, self.s3, SOURCE_BUCKET, self.s3, TARGET_BUCKET)
            copy_database(src, dst)  # GridFS lives in the app database: its collections come along
            files.result()

    def _start_parse(self, name: str, db_uri: str, bucket: str, slot: str) -> None:
        port = free_port()
        url = f"http://127.0.0.1:{port}/parse"
        files = S3Files(endpoint=self.ep.s3_url, bucket=bucket,
                        region=REGION if bucket == TARGET_BUCKET else "us-east-1",
                        access_key_id=DUMMY_ACCESS_KEY, secret_access_key=DUMMY_SECRET_KEY)
        opts = ParseOptions(
            port=port, app_id=APP_ID, master_key=self.keys["master_key"], rest_key=self.keys["rest_key"],
            javascript_key=self.keys["javascript_key"], file_key=self.keys["file_key"], database_uri=db_uri,
            files=files,
        )
        log = self.run_dir / "logs" / f"{name.replace(' ', '-')}.log"
        self._launch([parse_service(opts, log, self.cache_dir)])
        setattr(self.ep, slot, url)

    def _start_tls_front(self) -> None:
        self.pki = make_pki(self.run_dir / "pki")
        parse_port = int(self.ep.parse_url.split(":")[2].split("/")[0])
        port = free_port()
        self._launch([tls_front_service("TLS front of parse-server", port, parse_port, self.pki.good.cert_file,
                                        self.pki.good.key_file, self.run_dir / "logs" / "tls-parse.log")])
        self.ep.parse_public_url = f"https://localhost:{port}/parse"

    def _launch(self, services: list[Service]) -> None:
        start_all(services)
        self.services.extend(services)

    def _timed(self, step: str, t0: float) -> None:
        self.timings[step] = round(time.monotonic() - t0, 2)

    # -- clients and targets --------------------------------------------------------------------------
    def mongo(self, uri: str) -> Any:
        client = pymongo.MongoClient(uri, serverSelectionTimeoutMS=5000)
        self._clients.append(client)
        return client

    def db(self, uri: str) -> Any:
        return self.mongo(uri).get_default_database()

    def target(self, name: str = "demo", production: bool = False) -> Target:
        """The target config that describes this sandbox (clean migration)."""
        keys = self.keys
        parse = ParseServer(server_url=self.ep.parse_url, app_id=APP_ID, master_key=keys["master_key"],
                            rest_key=keys["rest_key"], javascript_key=keys["javascript_key"],
                            file_key=keys["file_key"], public_url=self.ep.parse_public_url,
                            ca_file=str(self.pki.ca_file) if self.pki else "")
        return Target(
            name=name,
            source=Source(kind="mongodb", uri=self.ep.source_uri),
            database=Database(uri=self.ep.target_uri),
            parse=parse,
            source_parse=dataclasses.replace(parse, server_url=self.ep.source_parse_url, public_url=""),
            files=Files(adapter="s3", bucket=TARGET_BUCKET, region=REGION, endpoint_url=self.ep.s3_url,
                        access_key_id=DUMMY_ACCESS_KEY, secret_access_key=DUMMY_SECRET_KEY,
                        source_bucket=SOURCE_BUCKET),
            regions={"app_server": f"aws:{REGION}", "database": f"aws:{REGION}",
                     "file_store": f"aws:{REGION}", "clients": "internet"},
            queries=DEMO_QUERIES,
            cloud_functions=DEMO_FUNCTIONS,
            thresholds=Thresholds(timeout_s=10.0),
            app_source_dir=str(APP_DIR) if APP_DIR.is_dir() else "",
            production=production,
            secrets=tuple(sorted(keys.values())),
        )

    def fork_target(self, label: str) -> Target:
        """A fresh migrated copy of the source (own database and bucket) to plant a defect in."""
        db_name, bucket = f"fork_{label}_{self._suffix}", f"fork-{label.replace('_', '-')}-{self._suffix}"
        target_client = self.mongo(self.ep.target_uri)
        src = self.db(self.ep.source_uri)
        copy_database(src, target_client[db_name])
        create_bucket(self.s3, bucket, REGION)
        copy_bucket(self.s3, SOURCE_BUCKET, self.s3, bucket)
        self._forks.append((target_client, db_name, bucket))
        base = self.target(f"fork-{label}")
        assert base.files is not None
        return dataclasses.replace(base, database=Database(uri=_with_db(self.ep.target_uri, db_name)),
                                   files=dataclasses.replace(base.files, bucket=bucket))


DEMO_QUERIES = (
    Query(cls="GameScore", where={"playerName": "Zoë"}, sort={"score": -1}, name="GameScore by player"),
    Query(cls="_User", where={"username": "user00001"}, name="_User by username"),
)
DEMO_FUNCTIONS = (
    CloudFunction(name="hello", expect_result="Hello world!"),
)


def _with_db(uri: str, db_name: str) -> str:
    head, sep, query = uri.partition("?")
    scheme, _, rest = head.partition("://")
    host = rest.split("/", 1)[0]
    return f"{scheme}://{host}/{db_name}{sep}{query}"


def _quietly(fn: Any) -> None:
    with contextlib.suppress(Exception):
        fn()


__all__ = ["Sandbox", "SandboxError"]
