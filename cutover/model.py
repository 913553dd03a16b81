"""The target model: what a named deployment in ``targets.toml`` declares (frozen, validated).

Loading, ``${ENV}`` substitution and validation live in :mod:`cutover.run.config`; this module only
holds the shapes, their defaults and their documentation, so every other module can import them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Source:
    """Where the data came from."""

    kind: str = "mongodb"          # mongodb | rest | export
    uri: str = ""                  # kind=mongodb
    endpoint: str = ""             # kind=rest: Parse Server URL (counts via count=1&limit=0)
    app_id: str = ""               # kind=rest
    master_key: str = field(default="", repr=False)           # kind=rest
    export_dir: str = ""           # kind=export: the export's folder, one <Class>.json per class (docs/targets.md)
    export_file: str = ""          # kind=export: the export as its zip file, read in place (instead of export_dir)


@dataclass(frozen=True)
class Database:
    """The migrated (target) MongoDB."""

    uri: str
    tls_ca_file: str = ""          # CA bundle for the live handshake; system store when empty
    live_sync: bool = False        # a sync is still running: DB-01 applies count_tolerance
    count_tolerance: int = 0
    # With live_sync: DB-02 rereads documents that differ (docs/live-sync.md).
    sync_lag_s: float = 0.0        # seconds a source write takes to reach the target; 0: observed by the rechecks
    max_in_flight_s: float = 60.0  # seconds: a document still differing that changed longer ago than this fails
    recheck_budget_s: float = 60.0  # seconds the rechecks of one DB-02 partition may wait in all (keep it at least
    #                                max_in_flight_s: then every differing document is judged, none left in flight)
    recheck_rounds: int = 20       # rereads of a partition's differing documents, at most
    recheck_max_docs: int = 1000   # a partition with more differing documents is not reread: they all fail
    storage_quota_bytes: int = 0   # DB-06 headroom is checked only when a quota is declared


@dataclass(frozen=True)
class ParseServer:
    """A Parse Server (the target's, or the source's for differential checks)."""

    server_url: str
    app_id: str
    master_key: str = field(default="", repr=False)
    rest_key: str = field(default="", repr=False)
    javascript_key: str = field(default="", repr=False)
    file_key: str = field(default="", repr=False)  # legacy tfss- files: files.parsetfss.com/<file_key>/<name>
    public_url: str = ""           # the URL clients use; defaults to server_url
    ca_file: str = ""
    health_path: str = "/health"


@dataclass(frozen=True)
class Files:
    """The files adapter of the target's Parse Server."""

    adapter: str = "s3"            # s3 | gridfs | gcs
    bucket: str = ""
    prefix: str = ""               # the adapter's bucketPrefix
    region: str = ""               # declared region of the bucket (us-east-1 when GetBucketLocation says None)
    direct_access: bool = False
    base_url: str = ""             # the adapter's baseUrl, when set
    base_url_direct: bool = False  # the adapter's baseUrlDirect: baseUrl already points at the objects
    endpoint_url: str = ""         # S3-compatible endpoint (empty: AWS)
    access_key_id: str = field(default="", repr=False)
    secret_access_key: str = field(default="", repr=False)
    gridfs_uri: str = ""           # adapter=gridfs: defaults to the target database
    source_bucket: str = ""        # where the files were before (for sizes, FILE-01); optional
    source_endpoint_url: str = ""
    source_adapter: str = ""       # the source bucket's store: s3 | gcs ("" = s3)


@dataclass(frozen=True)
class Query:
    """A declared query pattern (DB-05) and differential query (API-08)."""

    cls: str
    where: dict[str, Any] = field(default_factory=dict)
    sort: dict[str, int] = field(default_factory=dict)
    name: str = ""

    @property
    def label(self) -> str:
        return self.name or f"{self.cls}:{'+'.join(sorted(self.where)) or 'all'}"


@dataclass(frozen=True)
class CloudFunction:
    """A declared Cloud Code function and its sample call (API-05)."""

    name: str
    params: dict[str, Any] = field(default_factory=dict)
    expect_status: int = 200
    expect_result: Any = None      # None: any result is accepted when the status matches


@dataclass(frozen=True)
class Thresholds:
    replication_lag_s: float = 10.0
    lock_queue_max: int = 0        # DB-06: operations queued for a lock, max over the health window
    admission_queue_max: int = 0   # DB-06: operations waiting for an execution/ingress ticket (7.0+), max
    cpu_max_percent: float = 20.0  # DB-06: server CPU time, mean over the window, percent of its cores
    health_window_s: float = 60.0  # DB-06: seconds over which CPU, queues and lag are sampled
    health_interval_s: float = 5.0  # DB-06: seconds between two samples (window 60 s: 13 samples)
    storage_headroom: float = 3.0
    cert_min_days: int = 30
    old_sdk_share: float = 0.05
    file_concurrency: int = 32
    file_retries: int = 3
    timeout_s: float = 10.0
    diff_cap: int = 100            # listing cap for mismatches, missing files, orphans
    content_sample_share: float = 0.05  # FILE-01: share (0..1) of a file's bytes compared where no digest decides
    content_sample_min_bytes: int = 65536  # FILE-01: bytes compared at least (files up to this size: whole)
    partition_docs: int = 20000    # DB-02 partition size (documents per parametrized test)


@dataclass(frozen=True)
class Scans:
    """How the heavy reads (DB-02 content, DB-04 long keys and index completeness) treat a busy server."""

    read_preference: str = ""      # "" (default): the URI's (primary unless it says otherwise); or primary |
                                   # primaryPreferred | secondary | secondaryPreferred | nearest
    max_docs_per_s: int = 0        # documents per second per server, all xdist workers together; 0: no cap
    aggregation_timeout_s: float = 0.0  # maxTimeMS of every aggregation and count, seconds; 0: 60 x timeout_s

    def aggregation_budget(self, timeout_s: float) -> float:
        return self.aggregation_timeout_s or 60 * timeout_s


@dataclass(frozen=True)
class SandboxLive:
    """Live mode of a sandbox target (``sandbox = { live = {...} }``): app traffic on the source through its
    Parse Server, and a sync that copies every change to the target ``lag_s`` seconds later."""

    rate: float = 10.0             # app writes per second on the source (inserts + updates + deletes)
    lag_s: float = 2.0             # seconds between a write on the source and its copy on the target
    insert_share: float = 0.1      # share of the writes that create an object (GameScore)
    delete_share: float = 0.05     # share that delete one (GameScore); the rest update GameScore, Player,
    #                                Post or _User objects
    seed: int = 1                  # the traffic's random choices derive from it


@dataclass(frozen=True)
class Target:
    """One named deployment."""

    name: str
    source: Source
    database: Database
    parse: ParseServer | None = None
    source_parse: ParseServer | None = None
    files: Files | None = None
    regions: dict[str, str] = field(default_factory=dict)   # app_server, database, file_store, clients
    queries: tuple[Query, ...] = ()
    cloud_functions: tuple[CloudFunction, ...] = ()
    thresholds: Thresholds = field(default_factory=Thresholds)
    scans: Scans = field(default_factory=Scans)
    # dbHash locks the database against writes while it hashes: only for a quiesced copy (default false)
    allow_blocking_commands: bool = False
    app_source_dir: str = ""
    production: bool = False
    probe_class: str = "CutoverProbe"
    # seconds: the sweep at the start of a run removes marked probes older than this (killed runs' leftovers);
    # younger ones may belong to a concurrent run and are left alone. Default 3600 (an hour).
    probe_grace_s: float = 3600.0
    # what the app's triggers wrote to other classes because of the probes: "undo" (default: removed through
    # REST) or "report" (left in place; API-05 fails naming them)
    probe_side_effects: str = "undo"
    severity: dict[str, str] = field(default_factory=dict)  # per-criterion override
    secrets: tuple[str, ...] = field(default=(), repr=False)  # every substituted ${ENV} value, for redaction
