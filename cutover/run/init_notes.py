"""One short line per key of a targets file, for the file ``cutover init`` writes (:mod:`cutover.run.init_file`).

Keys, types and defaults come from the model (:mod:`cutover.model`); these lines only say what a key is for.
``docs/targets.md`` holds the full meaning of each. A unit test fails when a key of the model has no line here,
or a line names no key. Keys are ``table.key`` (``""`` is the target's own table; ``parse`` also serves
``source_parse``).
"""
from __future__ import annotations

NOTES: dict[str, str] = {
    # [targets.NAME]
    ".production": "a production target: https (TLS-03), no tlsInsecure (TLS-02), access control (SEC-02)",
    ".app_source_dir": "the app's source tree, scanned for leaked secrets (SEC-01); SEC-01 is not run without it",
    ".probe_class": "the class the REST checks write their probe objects to (always removed)",
    ".probe_grace_s": "seconds: marked probes older than this, left by killed runs, are swept at the start",
    ".probe_side_effects": "what the app's triggers wrote because of the probes: undone, or left and reported",
    ".allow_blocking_commands": "true lets DB-02 send dbHash, which blocks writes: only for a quiesced copy",
    # [targets.NAME.source]
    "source.kind": "where the data came from",
    "source.uri": "kind = mongodb: the source MongoDB URI, database named in the path",
    "source.endpoint": "kind = rest: the old Parse Server's URL (read-only GETs with the master key)",
    "source.app_id": "kind = rest: the old app id",
    "source.master_key": "kind = rest: the old master key, e.g. \"${VAR}\"",
    "source.export_dir": "kind = export: the folder of a Parse JSON export (one <Class>.json per class)",
    "source.export_file": "kind = export: the export as its .zip, read in place (instead of export_dir)",
    # [targets.NAME.database]
    "database.uri": "the migrated MongoDB, database named in the path",
    "database.tls_ca_file": "CA bundle for the TLS handshake; the system store when empty",
    "database.live_sync": "a sync is still running: counts may lag, differences are rechecked",
    "database.count_tolerance": "with live_sync: documents a count may lag by",
    "database.sync_lag_s": "with live_sync: seconds a source write takes to arrive (0: learned)",
    "database.max_in_flight_s": "with live_sync: a difference older than this fails",
    "database.recheck_budget_s": "with live_sync: seconds the rechecks of one DB-02 partition may wait",
    "database.recheck_rounds": "with live_sync: rereads of a partition's differing documents, at most",
    "database.recheck_max_docs": "with live_sync: more differing documents in a partition all fail",
    "database.storage_quota_bytes": "the storage quota; DB-06 checks headroom only when one is declared",
    "database.app_user": ("\"name@authdb\" of the app's Parse Server databaseURI: SEC-02 judges that user, not "
                          "the one in uri (viewUser needed)"),
    # [targets.NAME.parse] and [targets.NAME.source_parse]
    "parse.server_url": "the Parse Server URL with its mount path",
    "parse.app_id": "the app id",
    "parse.master_key": "the master key (probes and counts need it)",
    "parse.rest_key": "the REST API key, for requests without the master key",
    "parse.javascript_key": "the JavaScript key, for client requests when set",
    "parse.file_key": "the legacy file key (files.parsetfss.com, FILE-02)",
    "parse.public_url": "the URL clients use (TLS-03); server_url when empty",
    "parse.ca_file": "CA bundle for the server's certificate; the system store when empty",
    "parse.health_path": "the health endpoint below server_url (API-01)",
    # [targets.NAME.files]
    "files.adapter": "the Parse Server's files adapter",
    "files.bucket": "the bucket",
    "files.prefix": "the adapter's bucketPrefix",
    "files.region": "the bucket's region",
    "files.direct_access": "the adapter's directAccess: clients fetch files from the store",
    "files.base_url": "the adapter's baseUrl, when set",
    "files.base_url_direct": "the adapter's baseUrlDirect",
    "files.endpoint_url": "an S3-compatible endpoint (AWS when empty); gcs: the JSON API endpoint",
    "files.access_key_id": "S3 key id; empty (with the secret): the default AWS credential chain",
    "files.secret_access_key": "S3 secret key, e.g. \"${VAR}\"; empty (with the id): the default chain",
    "files.gridfs_uri": "adapter = gridfs: its database; the target database when empty",
    "files.source_bucket": "where the files were before: sizes, digests and types compared (FILE-01)",
    "files.source_endpoint_url": "the source bucket's endpoint; endpoint_url when empty",
    "files.source_adapter": "the source bucket's store (s3 when empty)",
    # [[targets.NAME.queries]]
    "queries.class": "the class queried",
    "queries.where": "the Parse REST where",
    "queries.sort": "field -> 1 or -1",
    "queries.name": "a label for reports",
    # [[targets.NAME.cloud_functions]]
    "cloud_functions.name": "the Cloud Code function",
    "cloud_functions.params": "the sample call's parameters",
    "cloud_functions.expect_status": "the expected HTTP status",
    "cloud_functions.expect_result": "the expected result; any result when absent",
    # [targets.NAME.thresholds]
    "thresholds.replication_lag_s": "DB-06: the largest replication lag allowed, seconds",
    "thresholds.lock_queue_max": "DB-06: operations queued for locks allowed",
    "thresholds.admission_queue_max": "DB-06: operations waiting for a ticket allowed",
    "thresholds.cpu_max_percent": "DB-06: the server's mean CPU time over the window, percent",
    "thresholds.health_window_s": "DB-06: seconds the health figures are sampled",
    "thresholds.health_interval_s": "DB-06: seconds between two samples",
    "thresholds.storage_headroom": "DB-06: the quota must be this times data + index size",
    "thresholds.cert_min_days": "TLS-02: days a certificate must stay valid",
    "thresholds.old_sdk_share": "CLI-01: the largest share of installations on a too-old SDK",
    "thresholds.file_concurrency": "FILE-01: file URLs checked at once",
    "thresholds.file_retries": "FILE-01: retries of a URL that answered 429/5xx",
    "thresholds.timeout_s": "the timeout of every network call, seconds",
    "thresholds.diff_cap": "listing cap for mismatches, missing files, orphans",
    "thresholds.content_sample_share": "FILE-01: share of a file's bytes compared where no digest decides",
    "thresholds.content_sample_min_bytes": "FILE-01: the fewest bytes a sampled comparison reads",
    "thresholds.partition_docs": "DB-02: documents per partition",
    # [targets.NAME.scans]
    "scans.read_preference": "the heavy reads' read preference (\"\": as the URI says)",
    "scans.max_docs_per_s": "documents per second read from each server, whole run (0: no cap)",
    "scans.aggregation_timeout_s": "maxTimeMS of every aggregation and count (0: 60 x timeout_s)",
}

# What each optional table is for, written above it.
TABLES: dict[str, str] = {
    "source": "Where the data came from: the old MongoDB, the old Parse Server's REST API, or a JSON export.",
    "database": "The migrated MongoDB. Give the suite its own read-only user: docs/targets.md, \"The suite's own "
                "database user\" (the commands are printed by `cutover init` and `cutover roles`).",
    "parse": "The target's Parse Server: without it the REST criteria (API-01..API-08) are not run.",
    "source_parse": "The old Parse Server, for API-08's differential queries. A REST source is not reused: "
                    "repeat its endpoint, app id and master key here.",
    "files": "The target's files adapter: without it the files criteria (FILE-01..FILE-04) are not run.",
    "regions": "The \"cloud:region\" of each component, for TLS-01 (app_server, database, file_store, clients).",
    "queries": "A declared query pattern (DB-05, API-08); repeat the table for each.",
    "cloud_functions": "A declared Cloud Code function and its sample call (API-05); repeat for each.",
    "thresholds": "Limits and budgets.",
    "scans": "How the heavy reads (DB-02, DB-04) treat a busy production server.",
    "severity": "Per-criterion severity override: \"CRITERION\" = \"blocker\" | \"major\" | \"minor\".",
}
