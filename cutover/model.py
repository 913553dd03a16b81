"""The target model: what a named deployment in ``targets.toml`` declares (frozen, validated).

Loading, ``${ENV}`` substitution and validation live in :mod:`cutover.run.config`; this module only
holds the shapes, their defaults and their documentation, so every other module can import them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cutover.ranges import within

# The ranges the numbers of a targets file must lie in (cutover/ranges.py; docs/targets.md states each one).
_TIMEOUT = within(0, 3600, low_open=True, unit="seconds")   # a network call, a sampling window: at most an hour
_WAIT = within(0, 86400, unit="seconds")                     # a budget of waiting: at most a day
_SHARE = within(0, 1, unit="a share")
_COUNT = within(0, 10 ** 9)


REGION_COMPONENTS = ("clients", "app_server", "database", "file_store")   # the keys of Target.regions


def _num(default: Any, rule: dict[str, Any]) -> Any:
    """A numeric field with its range."""
    return field(default=default, metadata=rule)


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
    count_tolerance: int = _num(0, within(0, 10 ** 12, unit="documents"))
    # With live_sync: DB-02 rereads documents that differ (docs/live-sync.md).
    # seconds a source write takes to reach the target; 0: observed by the rechecks
    sync_lag_s: float = _num(0.0, within(0, 3600, unit="seconds"))
    # seconds: a document still differing that changed longer ago than this fails
    max_in_flight_s: float = _num(60.0, within(0, 86400, low_open=True, unit="seconds"))
    # seconds the rechecks of one DB-02 partition may wait in all (keep it at least max_in_flight_s: then every
    # differing document is judged, none left in flight)
    recheck_budget_s: float = _num(60.0, _WAIT)
    recheck_rounds: int = _num(20, within(0, 1000))  # rereads of a partition's differing documents, at most
    # a partition with more differing documents is not reread: they all fail
    recheck_max_docs: int = _num(1000, within(0, 1_000_000, unit="documents"))
    # DB-06 headroom is checked only when a quota is declared
    storage_quota_bytes: int = _num(0, within(0, 2 ** 63 - 1, unit="bytes"))
    # "name@authdb": the user the app's Parse Server connects as (its databaseURI); SEC-02 then judges that user's
    # roles (usersInfo) instead of the user of `uri`, which may be the suite's own
    app_user: str = ""

    def app_user_parts(self) -> tuple[str, str]:
        """(name, authentication database) of ``app_user``; ("", "") when none is declared."""
        name, _, db = self.app_user.rpartition("@")
        return name, db


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
    expect_status: int = _num(200, within(100, 599, unit="an HTTP status"))
    expect_result: Any = None      # None: any result is accepted when the status matches


@dataclass(frozen=True)
class Thresholds:
    replication_lag_s: float = _num(10.0, _WAIT)
    lock_queue_max: int = _num(0, _COUNT)  # DB-06: operations queued for a lock, max over the health window
    admission_queue_max: int = _num(0, _COUNT)  # DB-06: operations waiting for an execution/ingress ticket (7.0+), max
    # DB-06: server CPU time, mean over the window, percent of its cores
    cpu_max_percent: float = _num(20.0, within(0, 100, low_open=True, unit="a percentage"))
    health_window_s: float = _num(60.0, _TIMEOUT)  # DB-06: seconds over which CPU, queues and lag are sampled
    health_interval_s: float = _num(5.0, _TIMEOUT)  # DB-06: seconds between two samples (window 60 s: 13 samples)
    storage_headroom: float = _num(3.0, within(1, 1000, unit="a factor"))
    cert_min_days: int = _num(30, within(0, 3650, unit="days"))
    old_sdk_share: float = _num(0.05, _SHARE)
    file_concurrency: int = _num(32, within(1, 1024))
    file_retries: int = _num(3, within(0, 100))
    timeout_s: float = _num(10.0, _TIMEOUT)
    diff_cap: int = _num(100, within(1, 1_000_000))  # listing cap for mismatches, missing files, orphans
    # FILE-01: share (0..1) of a file's bytes compared where no digest decides
    content_sample_share: float = _num(0.05, _SHARE)
    # FILE-01: bytes compared at least (files up to this size: whole)
    content_sample_min_bytes: int = _num(65536, within(0, 2 ** 40, unit="bytes"))
    # DB-02 partition size (documents per parametrized test; one partition of the target is held in memory)
    partition_docs: int = _num(20000, within(1, 1_000_000, unit="documents"))


@dataclass(frozen=True)
class Scans:
    """How the heavy reads (DB-02 content, DB-04 long keys and index completeness) treat a busy server."""

    read_preference: str = ""      # "" (default): the URI's (primary unless it says otherwise); or primary |
                                   # primaryPreferred | secondary | secondaryPreferred | nearest
    # documents per second per server, all xdist workers together; 0: no cap
    max_docs_per_s: int = _num(0, within(0, 10 ** 9, unit="documents per second"))
    # maxTimeMS of every aggregation and count, seconds; 0: 60 x timeout_s
    aggregation_timeout_s: float = _num(0.0, _WAIT)

    def aggregation_budget(self, timeout_s: float) -> float:
        return self.aggregation_timeout_s or 60 * timeout_s


@dataclass(frozen=True)
class SandboxLive:
    """Live mode of a sandbox target (``sandbox = { live = {...} }``): app traffic on the source through its
    Parse Server, and a sync that copies every change to the target ``lag_s`` seconds later."""

    # app writes per second on the source (inserts + updates + deletes)
    rate: float = _num(10.0, within(0, 1000, low_open=True, unit="writes per second"))
    # seconds between a write on the source and its copy on the target
    lag_s: float = _num(2.0, within(0, 3600, unit="seconds"))
    insert_share: float = _num(0.1, _SHARE)  # share of the writes that create an object (GameScore)
    # share that delete one (GameScore); the rest update GameScore, Player, Post or _User objects
    delete_share: float = _num(0.05, _SHARE)
    seed: int = _num(1, within(0, 2 ** 32 - 1))  # the traffic's random choices derive from it


@dataclass(frozen=True)
class Target:
    """One named deployment."""

    name: str
    source: Source
    database: Database
    parse: ParseServer | None = None
    source_parse: ParseServer | None = None
    files: Files | None = None
    regions: dict[str, str] = field(default_factory=dict)   # REGION_COMPONENTS -> "provider:region"
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
    probe_grace_s: float = _num(3600.0, within(0, 31_536_000, unit="seconds"))
    # what the app's triggers wrote to other classes because of the probes: "undo" (default: removed through
    # REST) or "report" (left in place; API-05 fails naming them)
    probe_side_effects: str = "undo"
    severity: dict[str, str] = field(default_factory=dict)  # per-criterion override
    secrets: tuple[str, ...] = field(default=(), repr=False)  # every substituted ${ENV} value, for redaction
