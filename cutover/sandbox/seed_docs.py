"""The seeded app's documents and files: pure functions of the seed, streamed from generators.

What each class holds and how Parse Server stores it is described in :mod:`cutover.sandbox.seed`, which
loads these documents; ``Plan`` says how many objects of each class one seed makes and generates them.
"""
from __future__ import annotations

import hashlib
import random
import string
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bson import Int64, ObjectId

FILE_OBJECT_CAP = 2000  # at most this many GameScores carry files, whatever the scale
FILE_EVERY = 10  # one GameScore in FILE_EVERY has an avatar; every other one of those also attachments
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
    tenants: int = 0    # small classes of a multi-tenant app besides these (cutover.sandbox.tenants)

    @classmethod
    def for_scale(cls, scale: int, seed: int, *, with_gridfs: bool, classes: int = 0) -> Plan:
        players, posts, audit = scale // 10, scale // 5, scale // 20
        documents = min(20, max(5, scale // 200))
        return cls(seed, players, posts, audit, documents, scale - players - posts - audit - documents,
                   max(20, scale // 20), max(100, scale // 10), with_gridfs, classes)

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
        if self.tenants:
            from cutover.sandbox import tenants  # it builds on this module's identities and ACLs

            yield from tenants.collections(self.seed, self.tenants, self.uid)

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
        if self.tenants:
            from cutover.sandbox import tenants

            yield from ((name, file_body(name)) for name in tenants.files(self.seed, self.tenants))

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
