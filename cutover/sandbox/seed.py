"""The seeded source app: a realistic Parse app stored exactly as Parse Server stores it in MongoDB.

Storage facts (parse-server MongoTransform, MongoSchemaCollection, DatabaseController): `_id` is the
objectId; `_created_at`/`_updated_at` are dates; a top-level File is its bare name, a nested one keeps
`{"__type": "File", "name", "url"}`; a GeoPoint is `[longitude, latitude]`; Bytes are BSON binary; a Pointer
is `_p_<field>: "Class$id"`; a Relation lives in `_Join:<field>:<Class>` as `{relatedId, owningId}` with an
ObjectId `_id`; ACLs are `_rperm`, `_wperm` and the legacy `_acl`; `_SCHEMA` maps field -> type, `_metadata`
holds `indexes` (name -> key, as updateSchemaWithIndexes writes them) and `class_permissions`.

Indexes are created BEFORE loading (unique index builds on existing data are quadratic on mongoeco) and
documents are streamed from generators into insert_many batches, so `scale` can reach 1,000,000. Files are
written for at most FILE_OBJECT_CAP objects whatever the scale. Everything derives from `seed`.
"""
from __future__ import annotations

import hashlib
import itertools
import random
import string
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bson import Int64, ObjectId
from pymongo import ASCENDING, DESCENDING
from pymongo.database import Database

from cutover.errors import SandboxError
from cutover.sandbox.migrate import ensure_bucket

BATCH = 5000
FILE_OBJECT_CAP = 2000  # at most this many GameScores carry files, whatever the scale
FILE_EVERY = 10  # one GameScore in FILE_EVERY has an avatar; every other one of those also attachments
UPLOAD_THREADS = 8
GRIDFS_CHUNK = 255 * 1024  # the drivers' default chunkSize
APP_ID = "cutover-sandbox"
FILES_URL = f"http://localhost:1337/parse/files/{APP_ID}/"
BASE = datetime(2023, 1, 1)
# bcrypt (cost 10) of the password "parse-demo-1", shared by every seeded user.
PASSWORD = "parse-demo-1"
PASSWORD_HASH = "$2b$10$Cut0verSandb0xSeedSa1uz3h/sNy1gPGa/spgaSwrHqKuIh2.sVm"

NAMES = ("Zoë", "Łukasz", "Søren", "渡辺", "Анна", "José", "Chloé", "Ngọc", "Ömer", "Amélie", "Kwame",
         "Priya")
WORDS = ("boss", "level", "combo", "quest", "rank", "speedrun", "loot", "raid", "glitch", "patch", "arena")
TAGS = ("pvp", "coop", "ranked", "casual", "weekly", "hardcore", "mobile")
COUNTRIES = ("FR", "DE", "JP", "BR", "US", "NG", "IN", "VN", "PL")
ALNUM = string.ascii_letters + string.digits
NEW_SDKS = {"ios": ("1.19.4", "1.17.3", "1.12.0"), "android": ("1.26.0", "1.17.3", "1.13.0"),
            "js": ("js2.19.0", "js1.11.1", "js1.6.14"), "dotnet": ("1.7.1", "1.7.0", "2.0.0")}
OLD_SDKS = {"ios": ("1.11.0", "1.7.5"), "android": ("1.12.0", "1.10.3"),
            "js": ("js1.6.13", "js1.5.0"), "dotnet": ("1.6.2", "1.5.4")}
OLD_EVERY = 33  # one installation in 33 (~3%) runs an SDK too old to change its server URL
ROLES = ("Admin", "Moderator", "Auditor")
ACTIONS = ("login", "ban", "refund")
_OWNER_CLP = {op: {"*": True} for op in ("find", "count", "get", "create", "update", "delete", "addField")}
_AUDIT_CLP = {**{op: {"role:Auditor": True} for op in ("find", "count", "get")},
              **{op: {} for op in ("create", "update", "delete", "addField")}}


@dataclass(frozen=True)
class SeedSummary:
    """What was seeded: documents per collection, file names per store, indexes made (collection, name)."""

    counts: dict[str, int]
    s3_files: tuple[str, ...]
    gridfs_files: tuple[str, ...]
    indexes: tuple[tuple[str, str], ...]
    bucket: str


def seed_source(db: Database[Any], s3: Any, bucket: str, *, gridfs_db: Database[Any] | None = None,
                scale: int = 3000, seed: int = 7) -> SeedSummary:
    """Create indexes, load every class, upload the files; the same seed always gives the same data."""
    if scale < 100:
        raise SandboxError(f"seed scale {scale} is too small: use at least 100 app objects")
    plan = Plan.for_scale(scale, seed, with_gridfs=gridfs_db is not None)
    with ThreadPoolExecutor(1) as background:  # S3 uploads overlap the database load
        uploads = background.submit(upload_s3, s3, bucket, plan.s3_files())
        indexes = create_indexes(db)
        counts = {name: load(db, name, docs) for name, docs in plan.collections()}
        counts["_Idempotency"] = 0  # exists, empty, through its indexes
        counts["_SCHEMA"] = load(db, "_SCHEMA", schema_documents(index_map(db)))
        gridfs_files = write_gridfs(gridfs_db, plan.gridfs_files()) if gridfs_db is not None else ()
        s3_files = uploads.result()
    return SeedSummary(counts, s3_files, gridfs_files, indexes, bucket)


def load(db: Database[Any], name: str, docs: Iterable[dict[str, Any]]) -> int:
    """insert_many in batches of BATCH, never holding more than one batch in memory."""
    total, iterator = 0, iter(docs)
    while chunk := list(itertools.islice(iterator, BATCH)):
        db[name].insert_many(chunk, ordered=True)
        total += len(chunk)
    return total


# (collection, keys, options). Parse's own come from DatabaseController.performInitialization.
_CI = {"locale": "en_US", "strength": 2}
_UNIQUE = {"unique": True, "sparse": True, "background": True}
PARSE_INDEXES: tuple[tuple[str, list[tuple[str, int]], dict[str, Any]], ...] = (
    ("_User", [("username", ASCENDING)], _UNIQUE),
    ("_User", [("username", ASCENDING)],
     {"name": "case_insensitive_username", "collation": _CI, "sparse": True, "background": True}),
    ("_User", [("email", ASCENDING)], _UNIQUE),
    ("_User", [("email", ASCENDING)],
     {"name": "case_insensitive_email", "collation": _CI, "sparse": True, "background": True}),
    ("_Role", [("name", ASCENDING)], _UNIQUE),
    ("_Idempotency", [("reqId", ASCENDING)], _UNIQUE),
    ("_Idempotency", [("expire", ASCENDING)],
     {"name": "ttl", "expireAfterSeconds": 0, "sparse": True, "background": True}),
)
APP_INDEXES: tuple[tuple[str, list[tuple[str, int]], dict[str, Any]], ...] = (
    ("GameScore", [("_p_player", ASCENDING), ("score", DESCENDING)], {"name": "player_score"}),
    ("GameScore", [("score", DESCENDING)],
     {"name": "cheaters_by_score", "partialFilterExpression": {"cheatMode": True}}),
    ("GameScore", [("playerName", ASCENDING)], {"name": "playerName_1"}),
    ("Player", [("name", ASCENDING)], {"name": "name_ci", "collation": {"locale": "en", "strength": 2}}),
    ("Player", [("country", ASCENDING)], {"name": "country_sparse", "sparse": True}),
    ("Post", [("_p_author", ASCENDING), ("publishedAt", DESCENDING)], {"name": "author_published"}),
    ("AuditLog", [("expiresAt", ASCENDING)], {"name": "expiresAt_ttl", "expireAfterSeconds": 604800}),
    ("_Session", [("_session_token", ASCENDING)], {"name": "_session_token_1"}),
)


def create_indexes(db: Database[Any]) -> tuple[tuple[str, str], ...]:
    """Every Parse and app index, created on empty collections (before any document is loaded)."""
    specs = PARSE_INDEXES + APP_INDEXES
    return tuple((coll, db[coll].create_index(keys, **opts)) for coll, keys, opts in specs)


def index_map(db: Database[Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """class -> {index name: key} for every class that has indexes besides `_id_`."""
    classes = sorted({coll for coll, _, _ in PARSE_INDEXES + APP_INDEXES})
    return {cls: {ix["name"]: dict(ix["key"]) for ix in db[cls].list_indexes()} for cls in classes}


# ---- identities, times, ACLs, files: pure functions of the seed ----

def object_id(seed: int, cls: str, i: int) -> str:
    """A 10-character Parse objectId, stable for (seed, class, index)."""
    n = int.from_bytes(hashlib.blake2b(f"{seed}:{cls}:{i}".encode(), digest_size=8).digest(), "big")
    return "".join(ALNUM[(n // 62**k) % 62] for k in range(10))


def mongo_object_id(seed: int, *parts: object) -> ObjectId:
    return ObjectId(hashlib.blake2b(f"{seed}:{parts}".encode(), digest_size=12).digest())


def moment(rng: random.Random, days: int = 730) -> datetime:
    """A date at millisecond precision (what BSON keeps), so it round-trips unchanged."""
    return BASE + timedelta(milliseconds=rng.randrange(days * 86_400_000))


def stamps(rng: random.Random) -> dict[str, datetime]:
    created = moment(rng)
    return {"_created_at": created, "_updated_at": created + timedelta(milliseconds=rng.randrange(9 * 10**8))}


def acl(read: list[str], write: list[str]) -> dict[str, Any]:
    """Parse's stored ACL: `_acl` is built from the write list first, then the read list."""
    legacy: dict[str, dict[str, bool]] = {k: {"w": True} for k in write}
    for k in read:
        legacy.setdefault(k, {})["r"] = True
    return {"_rperm": read, "_wperm": write, "_acl": legacy}


def owned(uid: str) -> dict[str, Any]:
    return acl(["*", uid], [uid])


def file_name(seed: int, label: str) -> str:
    """`<32 hex>_<name>`, the name Parse Server gives an uploaded file."""
    return f"{hashlib.blake2b(f'{seed}:{label}'.encode(), digest_size=16).hexdigest()}_{label.split(':')[-1]}"


def file_body(name: str) -> bytes:
    """Small, non-empty, deterministic bytes (48 to ~2 KB)."""
    digest = hashlib.blake2b(name.encode(), digest_size=64).digest()
    return f"cutover sandbox file {name}\n".encode() + digest * (digest[0] % 32)


def content_type(name: str) -> str:
    types = {"png": "image/png", "jpg": "image/jpeg", "pdf": "application/pdf"}
    return types.get(name.rsplit(".", 1)[-1], "application/octet-stream")


def nested_file(name: str) -> dict[str, str]:
    return {"__type": "File", "name": name, "url": FILES_URL + name}


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS + NAMES) for _ in range(words))


@dataclass(frozen=True)
class Plan:
    """How many objects of each class one seed makes; the generators below stream them."""

    seed: int
    players: int
    posts: int
    audit: int
    documents: int
    scores: int
    users: int
    installations: int
    with_gridfs: bool

    @classmethod
    def for_scale(cls, scale: int, seed: int, *, with_gridfs: bool) -> Plan:
        players, posts, audit = scale // 10, scale // 5, scale // 20
        documents = min(20, max(5, scale // 200))
        return cls(seed, players, posts, audit, documents, scale - players - posts - audit - documents,
                   max(20, scale // 20), max(100, scale // 10), with_gridfs)

    def uid(self, i: int) -> str:
        return object_id(self.seed, "_User", i % self.users)

    def rng(self, cls: str) -> random.Random:
        return random.Random(f"{self.seed}:{cls}")

    def collections(self) -> Iterator[tuple[str, Iterator[dict[str, Any]]]]:
        yield "_User", self.user_docs()
        yield "_Role", self.role_docs()
        yield "_Join:users:_Role", self.role_joins()
        yield "_Session", self.session_docs()
        yield "_Installation", self.installation_docs()
        yield "Player", self.player_docs()
        yield "GameScore", self.score_docs()
        yield "Post", self.post_docs()
        yield "_Join:likes:Post", self.like_joins()
        yield "AuditLog", self.audit_docs()
        yield "Document", self.document_docs()

    def user_docs(self) -> Iterator[dict[str, Any]]:
        rng = self.rng("_User")
        for i in range(self.users):
            uid, verified = self.uid(i), rng.random() < 0.8
            doc: dict[str, Any] = {"_id": uid, "username": f"{rng.choice(NAMES).lower()}.{i}",
                                   "_hashed_password": PASSWORD_HASH, "emailVerified": verified}
            if i % 10 != 9:  # some users signed up without an email (the unique index is sparse)
                doc["email"] = f"player{i}@example.com"
            if not verified:
                doc["_email_verify_token"] = f"{rng.getrandbits(128):032x}"
            if i % 10 == 3:
                doc["_auth_data_facebook"] = {"id": str(10**15 + i),
                                              "access_token": f"EAAB{rng.getrandbits(96):x}"}
            yield {**doc, **owned(uid), **stamps(rng)}

    def role_docs(self) -> Iterator[dict[str, Any]]:
        rng = self.rng("_Role")
        for k, name in enumerate(ROLES):
            yield {"_id": object_id(self.seed, "_Role", k), "name": name,
                   **acl(["*"], ["role:Admin"]), **stamps(rng)}

    def role_joins(self) -> Iterator[dict[str, Any]]:
        members = {"Admin": range(0, 3), "Moderator": range(3, 10), "Auditor": range(0, 20, 10)}
        for k, name in enumerate(ROLES):
            for i in members[name]:
                yield {"_id": mongo_object_id(self.seed, "users", k, i), "relatedId": self.uid(i),
                       "owningId": object_id(self.seed, "_Role", k)}

    def session_docs(self) -> Iterator[dict[str, Any]]:
        rng = self.rng("_Session")
        for i in range(self.users // 2):
            uid, times = self.uid(i), stamps(rng)
            yield {"_id": object_id(self.seed, "_Session", i),
                   "_session_token": f"r:{rng.getrandbits(128):032x}",
                   "_p_user": f"_User${uid}", "createdWith": {"action": "login", "authProvider": "password"},
                   "restricted": False, "installationId": _uuid(rng),
                   "expiresAt": times["_created_at"] + timedelta(days=365), **acl([uid], [uid]), **times}

    def installation_docs(self) -> Iterator[dict[str, Any]]:
        rng = self.rng("_Installation")
        for i in range(self.installations):
            device = rng.choices(("ios", "android", "js", "dotnet"), (45, 45, 7, 3))[0]
            versions = OLD_SDKS if i % OLD_EVERY == OLD_EVERY // 2 else NEW_SDKS
            doc = {"_id": object_id(self.seed, "_Installation", i), "installationId": _uuid(rng),
                   "deviceType": device, "parseVersion": rng.choice(versions[device]),
                   "appIdentifier": "com.example.cutover", "appName": "Cutover Demo",
                   "appVersion": f"2.{rng.randrange(6)}.{rng.randrange(10)}", "timeZone": "Europe/Paris",
                   "localeIdentifier": rng.choice(("en-US", "fr-FR", "ja-JP")), "channels": ["", "news"]}
            doc.update(_push_fields(rng, device))
            yield {**doc, **stamps(rng)}

    def player_docs(self) -> Iterator[dict[str, Any]]:
        rng = self.rng("Player")
        for i in range(self.players):
            doc: dict[str, Any] = {"_id": object_id(self.seed, "Player", i),
                                   "name": f"{rng.choice(NAMES)} {rng.choice(WORDS).title()} {i}",
                                   "level": rng.randrange(1, 100), "joinedAt": moment(rng)}
            if i % 5:
                doc["country"] = rng.choice(COUNTRIES)
            yield {**doc, **acl(["*"], [self.uid(i)]), **stamps(rng)}

    def score_files(self, i: int) -> tuple[str | None, tuple[str, ...]]:
        """(avatar, attachments) of GameScore i; only a bounded number of GameScores carry files."""
        if i % FILE_EVERY or i >= FILE_EVERY * FILE_OBJECT_CAP:
            return None, ()
        avatar = file_name(self.seed, f"GameScore:{i}:avatar.png")
        if (i // FILE_EVERY) % 2:
            return avatar, ()
        return avatar, tuple(file_name(self.seed, f"GameScore:{i}:{n}") for n in ("replay.bin", "shot.jpg"))

    def score_docs(self) -> Iterator[dict[str, Any]]:
        rng = self.rng("GameScore")
        for i in range(self.scores):
            yield self._score(rng, i)

    def _score(self, rng: random.Random, i: int) -> dict[str, Any]:
        player = object_id(self.seed, "Player", rng.randrange(max(1, self.players)))
        doc: dict[str, Any] = {
            "_id": object_id(self.seed, "GameScore", i),
            "score": rng.randrange(100_000) + (0.5 if i % 7 == 3 else 0),  # mostly int, some double
            "playerName": f"{rng.choice(NAMES)} {i}", "cheatMode": rng.random() < 0.1,
            "tags": rng.sample(TAGS, rng.randrange(4)),
            "stats": {"kills": rng.randrange(500), "deaths": rng.randrange(500),
                      "ratio": round(rng.random() * 4, 3), "lastMatch": moment(rng),
                      "weapon": {"name": rng.choice(WORDS), "tier": rng.randrange(5)}},
            "location": [round(rng.uniform(-180, 180), 6), round(rng.uniform(-90, 90), 6)],
            "_p_player": f"Player${player}", "playtimeMs": Int64(rng.randrange(10**6, 10**12)),
            "blob": rng.getrandbits(8 * 24).to_bytes(24, "big"), "comment": _text(rng, rng.randrange(3, 90)),
        }
        avatar, attachments = self.score_files(i)
        if avatar:
            doc["avatar"] = avatar
        if attachments:
            doc["attachments"] = [nested_file(n) for n in attachments]
        return {**doc, **owned(self.uid(i)), **stamps(rng)}

    def post_docs(self) -> Iterator[dict[str, Any]]:
        rng = self.rng("Post")
        for i in range(self.posts):
            author = self.uid(rng.randrange(self.users))
            yield {"_id": object_id(self.seed, "Post", i), "title": _text(rng, 5).capitalize(),
                   "body": _text(rng, rng.randrange(30, 120)), "_p_author": f"_User${author}",
                   "published": i % 4 != 0, "publishedAt": moment(rng), **owned(author), **stamps(rng)}

    def like_joins(self) -> Iterator[dict[str, Any]]:
        rng = self.rng("likes")
        for i in range(self.posts):
            for j in sorted(rng.sample(range(self.users), rng.randrange(4))):
                yield {"_id": mongo_object_id(self.seed, "likes", i, j), "relatedId": self.uid(j),
                       "owningId": object_id(self.seed, "Post", i)}

    def audit_docs(self) -> Iterator[dict[str, Any]]:
        rng = self.rng("AuditLog")
        for i in range(self.audit):
            at = moment(rng)
            ip = f"10.0.{rng.randrange(256)}.{rng.randrange(256)}"
            yield {"_id": object_id(self.seed, "AuditLog", i), "action": rng.choice(ACTIONS),
                   "_p_actor": f"_User${self.uid(rng.randrange(self.users))}", "at": at,
                   "details": {"ip": ip, "changes": [i, "status"]},
                   "expiresAt": at + timedelta(days=365 * 30),  # TTL-indexed: must lie in the future
                   **acl([], []), "_created_at": at, "_updated_at": at}

    def document_names(self) -> tuple[str, ...]:
        return tuple(file_name(self.seed, f"Document:{i}:scan.pdf") for i in range(self.documents))

    def document_docs(self) -> Iterator[dict[str, Any]]:
        rng = self.rng("Document")
        for i, name in enumerate(self.document_names()):
            yield {"_id": object_id(self.seed, "Document", i), "title": f"Scan {i}", "scan": name,
                   "pages": rng.randrange(1, 40), **owned(self.uid(i)), **stamps(rng)}

    def s3_files(self) -> Iterator[tuple[str, bytes]]:
        for i in range(0, min(self.scores, FILE_EVERY * FILE_OBJECT_CAP), FILE_EVERY):
            avatar, attachments = self.score_files(i)
            for name in (avatar, *attachments):
                if name:
                    yield name, file_body(name)
        if not self.with_gridfs:
            yield from ((name, file_body(name)) for name in self.document_names())

    def gridfs_files(self) -> Iterator[tuple[ObjectId, str, bytes]]:
        for i, name in enumerate(self.document_names()):
            body = file_body(name)
            if i == 1:  # one file spans several chunks
                body = (body * (3 * GRIDFS_CHUNK // len(body) + 1))[: 2 * GRIDFS_CHUNK + 1000]
            yield mongo_object_id(self.seed, "gridfs", i), name, body


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _push_fields(rng: random.Random, device: str) -> dict[str, Any]:
    if device == "ios":
        return {"deviceToken": f"{rng.getrandbits(256):064x}", "badge": rng.randrange(5)}
    if device == "android":
        token = f"f{rng.getrandbits(400):x}"
        return {"deviceToken": token, "pushType": "gcm", "GCMSenderId": "1076345567071"}
    return {}


_FIELDS: dict[str, dict[str, str]] = {
    "_User": {"username": "string", "password": "string", "email": "string", "emailVerified": "boolean",
              "authData": "object"},
    "_Role": {"name": "string", "users": "relation<_User>", "roles": "relation<_Role>"},
    "_Session": {"sessionToken": "string", "user": "*_User", "createdWith": "object", "restricted": "boolean",
                 "installationId": "string", "expiresAt": "date"},
    "_Installation": {"installationId": "string", "deviceToken": "string", "channels": "array",
                      "deviceType": "string", "pushType": "string", "GCMSenderId": "string",
                      "timeZone": "string",
                      "localeIdentifier": "string", "badge": "number", "appVersion": "string",
                      "appName": "string", "appIdentifier": "string", "parseVersion": "string"},
    "_Idempotency": {"reqId": "string", "expire": "date"},
    "GameScore": {"score": "number", "playerName": "string", "cheatMode": "boolean", "tags": "array",
                  "stats": "object", "location": "geopoint", "player": "*Player", "avatar": "file",
                  "attachments": "array", "blob": "bytes", "playtimeMs": "number", "comment": "string"},
    "Player": {"name": "string", "level": "number", "country": "string", "joinedAt": "date"},
    "Post": {"title": "string", "body": "string", "author": "*_User", "published": "boolean",
             "publishedAt": "date", "likes": "relation<_User>"},
    "AuditLog": {"action": "string", "actor": "*_User", "at": "date", "details": "object",
                 "expiresAt": "date"},
    "Document": {"title": "string", "scan": "file", "pages": "number"},
}


def schema_documents(indexes: dict[str, dict[str, dict[str, Any]]]) -> Iterator[dict[str, Any]]:
    """One `_SCHEMA` document per class; AuditLog is closed to the public by its CLP."""
    for cls, fields in _FIELDS.items():
        metadata: dict[str, Any] = {"class_permissions": {**(_AUDIT_CLP if cls == "AuditLog" else _OWNER_CLP),
                                                          "protectedFields": {"*": []}}}
        if cls in indexes:
            metadata["indexes"] = indexes[cls]
        yield {"_id": cls, "objectId": "string", "updatedAt": "date", "createdAt": "date",
               **fields, "_metadata": metadata}


def upload_s3(s3: Any, bucket: str, files: Iterator[tuple[str, bytes]]) -> tuple[str, ...]:
    """Create the bucket if needed and put every file through a bounded pool; fail on the first error."""
    ensure_bucket(s3, bucket)
    names: list[str] = []

    def put(name: str, body: bytes) -> None:
        s3.put_object(Bucket=bucket, Key=name, Body=body, ContentType=content_type(name))

    with ThreadPoolExecutor(UPLOAD_THREADS) as pool:
        futures = []
        for name, body in files:
            names.append(name)
            futures.append(pool.submit(put, name, body))
        for future in futures:
            future.result()
    return tuple(names)


def write_gridfs(db: Database[Any], files: Iterator[tuple[ObjectId, str, bytes]]) -> tuple[str, ...]:
    """Files in the layout GridFS drivers write (fs.files + fs.chunks), with deterministic ids and dates."""
    db["fs.files"].create_index([("filename", ASCENDING), ("uploadDate", ASCENDING)])
    db["fs.chunks"].create_index([("files_id", ASCENDING), ("n", ASCENDING)], unique=True)
    names = []
    for k, (file_id, name, body) in enumerate(files):
        offsets = range(0, len(body), GRIDFS_CHUNK)
        chunks = [{"_id": mongo_object_id(0, file_id, n), "files_id": file_id, "n": n,
                   "data": body[off:off + GRIDFS_CHUNK]} for n, off in enumerate(offsets)]
        db["fs.chunks"].insert_many(chunks)
        db["fs.files"].insert_one({"_id": file_id, "length": len(body), "chunkSize": GRIDFS_CHUNK,
                                   "uploadDate": BASE + timedelta(days=k), "filename": name, "metadata": {}})
        names.append(name)
    return tuple(names)
