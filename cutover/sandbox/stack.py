"""The embedded sandbox: starts, seeds, migrates and stops a whole Parse deployment on loopback.

What depends on what, and so what runs at the same time:

    both databases, S3, the PKI          start together; the TLS front starts as soon as the PKI exists
                                         (it connects to the target Parse Server per connection)
    source: every index, every           before any document. The source Parse Server starts right then:
      collection, _SCHEMA                its startup adds _User indexes and writes each class's index map
                                         into _SCHEMA, so every class must already have its final indexes
    target: options and indexes of       copied from the source before any document (as mongosync does),
      every collection                   so that the target Parse Server's startup finds them too
    source documents, batch by batch     each batch is copied to the target as soon as it is stored,
                                         read back from the source as raw BSON (two single-threaded
                                         servers: two cores)
    _User, _Role, _Idempotency, _SCHEMA  copied whole (indexes, then documents) once loaded; then the
                                         target Parse Server starts. Both Parse Servers' startups write
                                         the same indexes and index maps, each on its own database, so
                                         the two end the same whichever runs first
    S3 files                             uploaded, then copied bucket to bucket, beside all this

The migration is the real path (:mod:`cutover.sandbox.migrate`): options and indexes first, then documents
as RawBSONDocument, so every value keeps its type and bytes; its load-and-copy steps are in
:mod:`cutover.sandbox.pipeline`. ``start()`` returns only when every copy is done and every service answers.
Every child is registered before it is spawned, so ``stop()`` (also on Ctrl-C or a failed start) stops all
of them, in parallel, by process group; each child's guard stops it if this process dies without a stop.
Logs go to ``<run_dir>/logs``; the PKI (private keys included) lives in a private temporary directory,
removed by ``stop()``, never in the run directory (which a report may archive). ``fork_target`` gives a
scenario an isolated migrated copy. With CUTOVER_TEST_MONGODB_URI set, both databases live on that real
MongoDB instead of the stand-in.
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
import secrets
import shutil
import tempfile
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pymongo

from cutover.errors import SandboxError
from cutover.model import (
    CloudFunction,
    Database,
    Files,
    ParseServer,
    Query,
    SandboxLive,
    Source,
    Target,
    Thresholds,
)
from cutover.sandbox.cache_dir import default_cache_dir
from cutover.sandbox.certs import Pki, make_pki
from cutover.sandbox.gcs_stack import GcsEndpoints, gcs_services, seed_gcs
from cutover.sandbox.gcs_stack import parse_files as gcs_parse_files
from cutover.sandbox.gcs_stack import target_files as gcs_target_files
from cutover.sandbox.live import LiveControl, count_tolerance, live_service
from cutover.sandbox.migrate import copy_bucket, copy_database
from cutover.sandbox.mongo_server import mongo_service, mongo_uri
from cutover.sandbox.node_env import CURRENT_PARSE, PARSE_SERVERS, NodeRuntime, node_runtime
from cutover.sandbox.parse_server import GCSFiles, ParseOptions, S3Files, parse_service
from cutover.sandbox.pipeline import (
    PARSE_INITIALISED,
    copy_parse_initialised,
    load_and_copy,
    prepare_source,
    prepare_target,
    seed_and_copy_files,
)
from cutover.sandbox.process import Service, free_port, tail
from cutover.sandbox.s3_server import DUMMY_ACCESS_KEY, DUMMY_SECRET_KEY, create_bucket, s3_client, s3_service
from cutover.sandbox.seed import APP_ID, Plan, SeedSummary
from cutover.sandbox.sources import with_source
from cutover.sandbox.tls_proxy import tls_front_service

REAL_MONGO_ENV = "CUTOVER_TEST_MONGODB_URI"
REGION = "eu-west-1"
SOURCE_BUCKET = "parse-legacy-files"
TARGET_BUCKET = "parse-app-files"
APP_DIR = Path(__file__).with_name("app")
SEED = 7
STOP_DEADLINE = 5.0


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

    def __init__(self, run_dir: Path, scale: int = 3000, cache_dir: Path | None = None,
                 files_store: str = "s3", source_parse_server: str = CURRENT_PARSE, classes: int = 0) -> None:
        self.run_dir = Path(run_dir)
        self.files_store = files_store    # "gcs": the target Parse Server stores files in GCS (demo-gcs)
        if source_parse_server not in PARSE_SERVERS:
            raise SandboxError(f"the sandbox runs parse-server {' or '.join(PARSE_SERVERS)}, "
                               f"not {source_parse_server!r}")
        self.source_parse_server = source_parse_server  # an older major: a skewed source (demo-skew)
        self.gcs: GcsEndpoints | None = None
        self.scale = scale
        self.classes = classes            # small classes of a multi-tenant app besides the seeded app's
        self.cache_dir = Path(cache_dir or default_cache_dir())
        self.node: NodeRuntime | None = None
        self.keys = {k: secrets.token_hex(16) for k in ("master_key", "rest_key", "javascript_key", "file_key")}
        self.services: list[Service] = []
        self.ep = Endpoints()
        self.pki: Pki | None = None
        self._private: Path | None = None   # the PKI's directory (mode 0700), removed by stop()
        self.timings: dict[str, float] = {}
        self.seed_summary: SeedSummary | None = None
        self._suffix = secrets.token_hex(3)
        self._dbs: tuple[str, str] = ("parse_source", "parse_target")
        self._forks: list[tuple[Any, str, str]] = []
        self._clients: list[Any] = []
        self._lock = threading.Lock()
        self._stopping = False
        self._started = False
        self.live_spec: SandboxLive | None = None
        self.live_control: LiveControl | None = None

    # -- lifecycle ------------------------------------------------------------------------------------
    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> Sandbox:
        """Start, seed and migrate everything; on any failure (or Ctrl-C) stop what was started, re-raise."""
        if self._started:
            return self
        pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="sandbox")
        try:
            self._start(pool, time.monotonic())
        except BaseException:
            self.stop()
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown()
        self._started = True
        return self

    def start_target(self, name: str, production: bool = False, live: SandboxLive | None = None,
                     source_kind: str = "mongodb") -> Target:
        """Start the sandbox (and its live mode when ``live`` is given; a failure stops everything); the target's
        source is the source database, the source Parse Server's API (rest) or an export written from it."""
        self.start()
        if live is not None:
            try:
                self.live(live)
            except BaseException:
                self.stop()
                raise
        return with_source(self, self.target(name, production=production), source_kind)

    def live(self, spec: SandboxLive | None = None, **settings: Any) -> LiveControl:
        """Start live mode (see :mod:`cutover.sandbox.live`): app traffic on the source and a lagged sync to
        the target, e.g. ``box.live(rate=10, lag_s=2)``; from then on ``target()`` declares ``live_sync``."""
        spec = dataclasses.replace(spec or SandboxLive(), **settings)
        if self.live_control is not None and self.live_control.service.proc is not None:
            raise SandboxError("live mode is already running in this sandbox")
        self.start()
        service, url = live_service(spec, self.ep.source_parse_url, APP_ID, self.keys["master_key"],
                                    self.ep.source_uri, self.ep.target_uri, self.run_dir / "logs" / "live.log")
        self._await(self._spawn(service))
        self.live_spec, self.live_control = spec, LiveControl(url, service)
        return self.live_control

    def stop(self) -> None:
        """Stop every child this sandbox started (SIGTERM, then SIGKILL after a deadline), all at once."""
        with self._lock:
            self._stopping = True
            services, self.services = list(self.services), []
        if self.live_control is not None:  # first: no write may land after the databases are dropped
            self.live_control.stop()
        if os.environ.get(REAL_MONGO_ENV):  # the stand-in's memory goes with its process; a real server stays
            self._drop_databases()
        for client in self._clients:
            _quietly(client.close)
        self._clients.clear()
        if services:
            with ThreadPoolExecutor(len(services)) as pool:
                list(pool.map(lambda svc: svc.stop(STOP_DEADLINE), services))
        self._remove_private()

    def _drop_databases(self) -> None:
        for fork_client, fork_db, _bucket in self._forks:
            _quietly(lambda c=fork_client, d=fork_db: c.drop_database(d))
        if self.ep.target_uri:
            client: pymongo.MongoClient[Any] = pymongo.MongoClient(self.ep.target_uri,
                                                                   serverSelectionTimeoutMS=2000)
            for db_name in self._dbs:
                _quietly(lambda d=db_name: client.drop_database(d))
            client.close()

    # -- the start, step by step ----------------------------------------------------------------------
    def _start(self, pool: ThreadPoolExecutor, t0: float) -> None:
        self.node = node_runtime()  # a bad CUTOVER_NODE fails the start before anything runs
        plan = Plan.for_scale(self.scale, SEED, with_gridfs=True, classes=self.classes)
        pki = pool.submit(self._make_pki)
        stores = self._spawn_stores()
        src, dst = self.db(self.ep.source_uri), self.db(self.ep.target_uri)
        self._await(stores.get("source"))
        indexes = prepare_source(src, plan)
        source_parse, self.ep.source_parse_url = self._spawn_parse("source parse-server", self.ep.source_uri,
                                                                   SOURCE_BUCKET, version=self.source_parse_server)
        target_parse_port = free_port()
        tls = self._spawn_tls_front(pki.result(), target_parse_port)
        self._await(stores["s3"])
        files = pool.submit(seed_and_copy_files, self.s3, plan, (SOURCE_BUCKET, TARGET_BUCKET),
                            ("us-east-1", REGION), self._check_stopping)
        self._await(stores.get("target"))
        prepare_target(src, dst, skip=PARSE_INITIALISED)
        self._timed("stores", t0)
        parse_classes = threading.Event()
        data = pool.submit(load_and_copy, plan, src, dst, parse_classes, self._check_stopping)
        target_parse = self._start_target_parse(src, dst, parse_classes, data, target_parse_port)
        self._await(source_parse, data, files)
        self._timed("source_parse", t0)
        counts, gridfs_files = data.result()
        s3_files = files.result()
        if self.gcs is not None:
            self._await(stores["gcs-source"])
            self._await(stores["gcs-target"])
            seed_gcs(self.s3, SOURCE_BUCKET, self.gcs, self._check_stopping)
        self._timed("seed_and_migrate", t0)
        self._await(target_parse)
        self._await(tls)
        counts.update({"_Idempotency": 0, "_SCHEMA": src["_SCHEMA"].count_documents({})})
        self.seed_summary = SeedSummary(counts, s3_files, gridfs_files, indexes, SOURCE_BUCKET)
        self._timed("ready", t0)

    def _make_pki(self) -> Pki:
        """The PKI in a fresh private directory; removed again if a stop came while it was being written."""
        with self._lock:
            self._private = Path(tempfile.mkdtemp(prefix="cutover-sandbox-pki-"))
        pki = make_pki(self._private)
        if self._stopping:
            self._remove_private()
        return pki

    def _remove_private(self) -> None:
        with self._lock:
            if self._private is not None:
                shutil.rmtree(self._private, ignore_errors=True)

    def _start_target_parse(self, src: Any, dst: Any, parse_classes: threading.Event, data: Future[Any],
                            port: int) -> Service:
        """Once _User and _Role are loaded: copy the classes Parse initialises, then start its server."""
        self._await_event(parse_classes, data)
        copy_parse_initialised(src, dst)
        service, self.ep.parse_url = self._spawn_parse("target parse-server", self.ep.target_uri,
                                                       TARGET_BUCKET, port)
        return service

    def _spawn_stores(self) -> dict[str, Service]:
        logs = self.run_dir / "logs"
        s3_port = free_port()
        services = {"s3": s3_service(s3_port, logs / "s3.log")}
        real = os.environ.get(REAL_MONGO_ENV)
        if real:
            self._dbs = (f"cutover_{self._suffix}_source", f"cutover_{self._suffix}_target")
            self.ep.source_uri = with_database(real, self._dbs[0])
            self.ep.target_uri = with_database(real, self._dbs[1])
        else:
            src_port, dst_port = free_port(), free_port()
            services["source"] = mongo_service(src_port, logs / "mongo-source.log", self.cache_dir)
            services["target"] = mongo_service(dst_port, logs / "mongo-target.log", self.cache_dir)
            self.ep.source_uri = mongo_uri(src_port, self._dbs[0])
            self.ep.target_uri = mongo_uri(dst_port, self._dbs[1])
        self.ep.s3_url = f"http://127.0.0.1:{s3_port}"
        if self.files_store == "gcs":
            gcs, self.gcs = gcs_services(logs)
            services.update({"gcs-source": gcs[0], "gcs-target": gcs[1]})
        for service in services.values():
            self._spawn(service)
        self.s3 = s3_client(self.ep.s3_url, "us-east-1")
        return services

    def _spawn_parse(self, name: str, db_uri: str, bucket: str, port: int | None = None,
                     version: str = CURRENT_PARSE) -> tuple[Service, str]:
        port = port or free_port()
        files: S3Files | GCSFiles = S3Files(endpoint=self.ep.s3_url, bucket=bucket,
                                            region=REGION if bucket == TARGET_BUCKET else "us-east-1",
                                            access_key_id=DUMMY_ACCESS_KEY, secret_access_key=DUMMY_SECRET_KEY)
        if self.gcs is not None and bucket == TARGET_BUCKET:
            files = gcs_parse_files(self.gcs)
        opts = ParseOptions(
            port=port, app_id=APP_ID, master_key=self.keys["master_key"], rest_key=self.keys["rest_key"],
            javascript_key=self.keys["javascript_key"], file_key=self.keys["file_key"], database_uri=db_uri,
            files=files,
        )
        log = self.run_dir / "logs" / f"{name.replace(' ', '-')}.log"
        service = parse_service(opts, log, self.cache_dir, self.node, PARSE_SERVERS[version])
        service.name = f"{name} ({service.name}, {version})"
        return self._spawn(service), opts.url

    def _spawn_tls_front(self, pki: Pki, upstream_port: int) -> Service:
        """The TLS front of the target Parse Server; it connects upstream per connection, so it may start first."""
        self.pki = pki
        port = free_port()
        self.ep.parse_public_url = f"https://localhost:{port}/parse"
        return self._spawn(tls_front_service("TLS front of parse-server", port, upstream_port,
                                             pki.good.cert_file, pki.good.key_file,
                                             self.run_dir / "logs" / "tls-parse.log"))

    def _spawn(self, service: Service) -> Service:
        """Register, then start (under the lock that ``stop`` takes): no child can escape a stop."""
        with self._lock:
            if self._stopping:
                raise SandboxError(f"the sandbox is stopping: {service.name} was not started")
            self.services.append(service)
            service.start()
        return service

    def _await(self, service: Service | None, *workers: Future[Any]) -> None:
        """Wait until ``service`` is ready; a failed worker (seeding, copying) fails the start at once."""
        if service is None:  # a store that is not ours (CUTOVER_TEST_MONGODB_URI)
            return
        deadline = time.monotonic() + service.timeout
        quick = dataclasses.replace(service, timeout=0.5)  # same process, short waits between the checks
        while True:
            for worker in (w for w in workers if w.done()):
                worker.result()
            try:
                quick.wait_ready()
                return
            except SandboxError:
                self._check_stopping()
                exited = service.proc is None or service.proc.poll() is not None
                if exited:
                    raise
                if time.monotonic() > deadline:
                    raise SandboxError(f"{service.name} was not ready after {service.timeout:.0f} s; "
                                       f"see {service.log_path}: {tail(service.log_path)}") from None

    def _await_event(self, event: threading.Event, worker: Future[Any]) -> None:
        while not event.wait(0.1):
            if worker.done():
                worker.result()
                raise SandboxError("the seeding finished without loading every class")

    def _check_stopping(self) -> None:
        if self._stopping:
            raise SandboxError("the sandbox is stopping")

    def _timed(self, step: str, t0: float) -> None:
        self.timings[step] = round(time.monotonic() - t0, 2)

    # -- clients and targets --------------------------------------------------------------------------
    def mongo(self, uri: str) -> Any:
        client: pymongo.MongoClient[Any] = pymongo.MongoClient(uri, serverSelectionTimeoutMS=5000)
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
        live = self.live_spec
        return Target(
            name=name,
            source=Source(kind="mongodb", uri=self.ep.source_uri),
            database=Database(uri=self.ep.target_uri, live_sync=live is not None,
                              count_tolerance=count_tolerance(live) if live else 0,
                              sync_lag_s=live.lag_s if live else 0.0),
            parse=parse,
            source_parse=dataclasses.replace(parse, server_url=self.ep.source_parse_url, public_url=""),
            files=gcs_target_files(self.gcs) if self.gcs is not None else
            Files(adapter="s3", bucket=TARGET_BUCKET, region=REGION, endpoint_url=self.ep.s3_url,
                  access_key_id=DUMMY_ACCESS_KEY, secret_access_key=DUMMY_SECRET_KEY, source_bucket=SOURCE_BUCKET),
            regions={"app_server": f"aws:{REGION}", "database": f"aws:{REGION}",
                     "file_store": f"aws:{REGION}", "clients": "internet"},
            queries=demo_queries(Plan.for_scale(self.scale, SEED, with_gridfs=True)),
            cloud_functions=DEMO_FUNCTIONS,
            thresholds=SANDBOX_THRESHOLDS,
            app_source_dir=str(APP_DIR) if APP_DIR.is_dir() else "",
            production=production,
            secrets=tuple(sorted(keys.values())),
        )

    def fork_target(self, label: str, public_read: bool = False) -> Target:
        """A fresh migrated copy of the source (own database and bucket) to plant a defect in.

        ``public_read`` publishes the bucket before the objects are copied (moto, like S3 with ACLs, fixes an
        object's readability when it is written), for scenarios that reach files by direct access.
        """
        n = len(self._forks) + 1  # a label may be forked twice (one defect proved for two criteria)
        db_name = f"fork_{label}_{self._suffix}_{n}"
        bucket = f"fork-{label.replace('_', '-')}-{self._suffix}-{n}"[:63]
        target_client = self.mongo(self.ep.target_uri)
        src = self.db(self.ep.source_uri)
        copy_database(src, target_client[db_name])
        create_bucket(self.s3, bucket, REGION, public_read=public_read)
        copy_bucket(self.s3, SOURCE_BUCKET, self.s3, bucket)
        self._forks.append((target_client, db_name, bucket))
        base = self.target(f"fork-{label}")
        assert base.files is not None
        return dataclasses.replace(base, database=Database(uri=with_database(self.ep.target_uri, db_name)),
                                   files=dataclasses.replace(base.files, bucket=bucket))


# A short DB-06 health window keeps the demo fast (the checks say it is shorter than the default); the
# stand-in reports no health figure, so its window ends after one sample, a real MongoDB is sampled 10 s.
SANDBOX_THRESHOLDS = Thresholds(timeout_s=10.0, health_window_s=10.0, health_interval_s=1.0)
def demo_queries(plan: Plan) -> tuple[Query, ...]:
    """The demo's declared queries, each matching seeded objects (an empty answer on both sides would make
    API-08's differential prove nothing): the first seeded score's player name and the first user's name."""
    player_name = next(plan.score_docs())["playerName"]
    username = next(plan.user_docs())["username"]
    return (
        Query(cls="GameScore", where={"playerName": player_name}, sort={"score": -1}, name="GameScore by player"),
        Query(cls="_User", where={"username": username}, name="_User by username"),
        # objects the live traffic writes (Player level and country): API-08 exercised under traffic; indexed
        # (country_sparse), as DB-05 requires of a declared query
        Query(cls="Player", where={"country": "JP"}, name="Player by country"),
    )


DEMO_FUNCTIONS = (
    CloudFunction(name="hello", expect_result="Hello world!"),
)


def with_database(uri: str, db_name: str) -> str:
    """``uri`` (``mongodb://host:port/db?opts``) naming the database ``db_name`` instead, its options kept."""
    head, sep, query = uri.partition("?")
    scheme, _, rest = head.partition("://")
    host = rest.split("/", 1)[0]
    return f"{scheme}://{host}/{db_name}{sep}{query}"


def _quietly(fn: Any) -> None:
    with contextlib.suppress(Exception):
        fn()


__all__ = ["Sandbox", "SandboxError"]
