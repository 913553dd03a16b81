"""The criteria registry: the single source of the catalogue (id, severity, area, title, what it checks, and
where it applies). ``docs/CHECKS.md`` and ``cutover criteria`` are generated from it (:mod:`cutover.run.catalogue`).

Applicability (CHECKS.md amendment of 2026-11-30): each criterion names the source kinds (mongodb, rest,
export) it applies to and, when it depends on the files store, the stores (s3, gridfs, gcs). A criterion that
cannot apply to a target is "not applicable" with its reason (covered for the gate); one that applies but could
not be checked is an ERROR.
"""
from __future__ import annotations

from dataclasses import dataclass

SOURCE_KINDS = ("mongodb", "rest", "export")
STORES = ("s3", "gridfs", "gcs")
SEVERITIES = ("blocker", "major", "minor")        # most severe first: the one list of severities
GATING = ("blocker", "major")                       # a failed check of these fails the gate (a major: unless waived)
SEVERITY_ORDER = {severity: rank for rank, severity in enumerate(SEVERITIES)}
AREAS = ("Data", "Files", "REST", "Transport", "Secrets", "Clients")


@dataclass(frozen=True)
class Criterion:
    id: str
    severity: str                 # blocker | major | minor (a target may override it)
    area: str
    title: str
    text: str = ""                # what it checks, as the catalogue states it
    sources: tuple[str, ...] = SOURCE_KINDS
    stores: tuple[str, ...] | None = None   # None: does not depend on the files store
    why_not: str = ""             # why it does not apply where it does not
    checks: str = ""              # the module of cutover_pytest/checks that holds its checks (e.g. "test_data")

    def not_applicable(self, source_kind: str, store: str | None) -> str:
        """'' when the criterion applies to a target with this source kind and files store, else the reason."""
        if source_kind not in self.sources:
            return f"{self.id} does not apply to source kind '{source_kind}': {self.why_not}"
        if self.stores is not None and store is not None and store not in self.stores:
            return f"{self.id} does not apply to files store '{store}': {self.why_not}"
        return ""   # a store the target does not declare is the check's to report: the criterion still applies


_ALL: tuple[Criterion, ...] = (
    Criterion("DB-01", "blocker", "Data", "Row counts per class",
              "For every class (collection) the target holds exactly as many documents as the source. One test "
              "per class; a tolerance only where the target says a live sync is still running.",
              checks="test_data"),
    Criterion("DB-02", "blocker", "Data", "Document content equal",
              "Every source document exists on the target with equal content (type-aware: a Long that became a "
              "Double is a difference; field order is not). Reported as missingOnTarget / extraOnTarget / content "
              "with `_id` and field path. Compare by `_id`-range partitions with server-side hashing first, then a "
              "per-document diff of the partitions that differ. `--sample N` for a quick pass. From a REST source "
              "or an export, every object is compared through the REST <-> storage mapping of every Parse type; "
              "fields a REST source never returns are listed as not verifiable from that source.",
              checks="test_data"),
    Criterion("DB-03", "blocker", "Data", "Indexes present with the same options",
              "Every source index exists on the target with the same key pattern and options (unique, sparse, "
              "partialFilterExpression, collation, expireAfterSeconds); Parse Server's own indexes exist (`_User` "
              "username/email unique sparse and case-insensitive, `_Role` name, `_Idempotency` reqId and TTL on "
              "expire); `_SCHEMA._metadata.indexes` agrees with the real indexes.",
              checks="test_indexes"),
    Criterion("DB-04", "blocker", "Data", "No index key over the Index Key Limit",
              "No document holds an indexed value whose key exceeds the Index Key Limit (1024 bytes with overhead; "
              "a single string of 1013 bytes or more). Found server-side (aggregation with "
              "`$strLenBytes`/`$bsonSize`), never by pulling documents. Also: documents missing from an index "
              "(hinted count vs plain count on the same filter) and the server's `failIndexKeyTooLong` / "
              "feature-compatibility version, reported.",
              checks="test_indexes"),
    Criterion("DB-05", "major", "Data", "Declared queries served by an index",
              "Parse Server does not auto-index. Each query pattern the target declares (or that the source's "
              "profiler recorded) is answered through an index on the target (`explain` shows IXSCAN, no "
              "COLLSCAN).",
              checks="test_indexes"),
    Criterion("DB-06", "major", "Data", "Deployment health before finalizing",
              "Writable primary, replication lag [< 10 s], lock queues [~0], storage headroom [>= 3x data+index "
              "size] where a quota is declared.",
              checks="test_health"),
    Criterion("DB-07", "major", "Data", "Collections and metadata equal",
              "No collection missing or extra; options (capped, validator, views) equal; every `_SCHEMA` class has "
              "a collection and vice versa.",
              checks="test_data"),
    Criterion("DB-08", "blocker", "Data", "Schema field types agree",
              "Every field's `_SCHEMA` type on the target equals the source's (MongoDB source: its `_SCHEMA`; REST "
              "source: `/schemas`; export: `_SCHEMA.json`, or the types its objects imply), over the classes both "
              "declare; and no document holds a value whose Parse type differs from its class's `_SCHEMA` for that "
              "field (a pointer to another class included), found server-side (`$type` per field, grouped), "
              "`--sample N` for a quick pass. A type change breaks every SDK that reads the class.",
              checks="test_data"),
    Criterion("FILE-01", "blocker", "Files", "Every referenced file resolves",
              "Every file an object references resolves: the URL the target's files adapter produces answers 200 "
              "with a non-empty body (HEAD, or a ranged GET), size equal to the source's where known. References "
              "are top-level File fields named in `_SCHEMA` (stored as bare names) and `{\"__type\": \"File\"}` "
              "values nested anywhere. Checked concurrently with a bounded pool and retries. Content is compared "
              "too: store digests (S3 ETag/checksums, GridFS md5, GCS md5Hash/crc32c) against the source store, "
              "else a sampled byte comparison, stated as sampled; the served Content-Type keeps its family.",
              stores=STORES,
              checks="test_files"),
    Criterion("FILE-02", "blocker", "Files", "No dependency on Parse-hosted files",
              "No object still depends on the retired Parse-hosted file service: no `tfss-`/legacy names or "
              "`files.parsetfss.com` / `files.parse.com` URLs, unless that file is present in the new store.",
              stores=STORES,
              checks="test_files"),
    Criterion("FILE-03", "major", "Files", "Storage configuration sound",
              "The bucket exists and is in the declared region (GetBucketLocation); with direct access the bucket "
              "name has no `.` and objects are publicly readable; GridFS files have all their chunks.", stores=STORES,
              checks="test_files"),
    Criterion("FILE-04", "minor", "Files", "Orphaned files in the store",
              "Objects in the store that nothing references (reported, never failing).", stores=STORES,
              checks="test_files"),
    Criterion("API-01", "blocker", "REST", "Health, mount path and app id",
              "`/health` answers 200 `{\"status\":\"ok\"}`; the mount path (`/parse` or `/1`) and app id are "
              "right.",
              checks="test_rest"),
    Criterion("API-02", "blocker", "REST", "CRUD round-trip for every Parse type",
              "CRUD round-trip on a probe class: create, get, query, update, increment, delete; what comes back "
              "equals what was sent for every Parse type (String, Number, Boolean, Date, Array, Object, GeoPoint, "
              "Pointer, Relation, File, Bytes, ACL). Probe objects are always removed, also when a step fails. "
              "The same round-trip also runs through the official Parse JavaScript SDK against the public URL "
              "(without Node.js it is skipped, saying so, and the REST round-trip decides).",
              checks="test_rest"),
    Criterion("API-03", "blocker", "REST", "Server wired to the target database",
              "An object written through REST is visible in the target database, and the REST count of each class "
              "equals the database count (the server runs on the production database, not the staging copy).",
              checks="test_rest"),
    Criterion("API-04", "blocker", "REST", "Files round-trip",
              "Upload through `/files`, the returned URL resolves, the bytes are identical, and the file sits in "
              "the configured store; again through the Parse JavaScript SDK (Parse.File), as for API-02.",
              checks="test_rest"),
    Criterion("API-05", "major", "REST", "Cloud Code functions answer",
              "Each declared function answers its declared sample call as expected.",
              checks="test_rest"),
    Criterion("API-06", "blocker", "REST", "Access control holds",
              "Without the master key, classes closed by CLPs refuse reads, an ACL-protected probe object is "
              "invisible, `/schemas` is refused, no password hash is ever returned.",
              checks="test_rest"),
    Criterion("API-07", "major", "REST", "User sign-up, log-in, log-out",
              "Sign-up, log-in, `users/me` and log-out round-trip on a probe user, removed afterwards; again "
              "through the Parse JavaScript SDK (its current user, revocable session and installation id), as "
              "for API-02.",
              checks="test_rest"),
    Criterion("API-08", "major", "REST", "Source and target answer queries alike",
              "Each declared query returns the same results from the source server and the target server.",
              sources=("mongodb", "rest"),
              why_not="a Parse JSON export has no server left to ask; the differential needs the old server",
              checks="test_rest"),
    Criterion("TLS-01", "blocker", "Transport", "Cross-region links encrypted",
              "Every link that crosses a region (app server to database, clients to Parse Server, app server to "
              "file store) is encrypted: the connection is configured for TLS (`tls=true`, `ssl=true` or "
              "`mongodb+srv`) and a live handshake succeeds. Regions come from the target's declared topology, "
              "S3's GetBucketLocation, or detection.",
              checks="test_transport"),
    Criterion("TLS-02", "blocker", "Transport", "TLS handshakes sound",
              "The handshake is sound: TLS 1.2 or newer, the chain verifies, the host name matches, the certificate "
              "is valid for [>= 30] more days; production targets never set tlsAllowInvalidCertificates / "
              "tlsInsecure.",
              checks="test_transport"),
    Criterion("TLS-03", "major", "Transport", "Public server URL is https",
              "A production target's public server URL is https.",
              checks="test_transport"),
    Criterion("SEC-01", "blocker", "Secrets", "No secrets in the app source",
              "No secrets in the deployed app code: no master key, file key, AWS secret or MongoDB URI with a "
              "password in the app's source tree.",
              checks="test_secrets"),
    Criterion("SEC-02", "major", "Secrets", "Least-privilege database user",
              "The database user is not a cluster administrator and the database is not `admin`.",
              checks="test_secrets"),
    Criterion("CLI-01", "major", "Clients", "SDKs able to change server URL",
              "The share of `_Installation` records on an SDK too old to change its server URL (iOS < 1.12, "
              "Android < 1.13.0, JS < 1.6.14, .NET < 1.7.0) is below a threshold [5%].",
              checks="test_clients"),
)

CRITERIA: dict[str, Criterion] = {c.id: c for c in _ALL}


def severity_of(criterion_id: str, overrides: dict[str, str] | None = None) -> str:
    """The severity of a criterion, a target's override first."""
    if overrides and criterion_id in overrides:
        return overrides[criterion_id]
    return CRITERIA[criterion_id].severity


def not_applicable(criterion_id: str, source_kind: str, store: str | None) -> str:
    """'' when the criterion applies to a target with this source kind and files store, else why not."""
    return CRITERIA[criterion_id].not_applicable(source_kind, store)
