"""What the live sandbox's app traffic writes: the kind of write, the class, the object, the REST body.

Writes go through the source Parse Server's REST API (master key), so Parse itself stores every document:
it stamps ``_updated_at`` on every write and ``_created_at`` on inserts, and maps each Parse type (Date,
GeoPoint, Pointer, Bytes, ACL, Increment, AddUnique) to its storage form. Only writes whose whole effect is
the one document they name are chosen (no sign-up, which adds a ``_Session``; no ``_User`` delete, which
removes sessions; no new field, which rewrites ``_SCHEMA``): the sync replays exactly what the traffic
journals, so a side effect elsewhere would never reach the target.

Inserts and deletes touch GameScore (deletes only objects that reference no file, so that no file check
changes); updates touch GameScore, Player, Post and ``_User``. Two writes to one object never run at the
same time, so what is read back after a write is that write's result.
"""
from __future__ import annotations

import base64
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cutover.model import SandboxLive
from cutover.sandbox.seed_docs import COUNTRIES, NAMES, TAGS, WORDS

UPDATED = (("GameScore", 6), ("Player", 2), ("Post", 1), ("_User", 1))  # class, weight among updates
# class -> field -> its new value (Parse REST JSON); only fields the class's _SCHEMA already has
UPDATES: dict[str, dict[str, Callable[[random.Random], Any]]] = {
    "GameScore": {"score": lambda rng: {"__op": "Increment", "amount": rng.randrange(1, 500)},
                  "cheatMode": lambda rng: rng.random() < 0.1,
                  "tags": lambda rng: {"__op": "AddUnique", "objects": [rng.choice(TAGS)]},
                  "comment": lambda rng: _text(rng, rng.randrange(3, 30))},
    "Player": {"level": lambda rng: {"__op": "Increment", "amount": 1},
               "country": lambda rng: rng.choice(COUNTRIES)},
    "Post": {"published": lambda rng: rng.random() < 0.75, "title": lambda rng: _text(rng, 5).capitalize()},
    "_User": {"emailVerified": lambda rng: rng.random() < 0.8},
}
INSERTED = "GameScore"
_PICK_TRIES = 20


@dataclass(frozen=True)
class Op:
    """One write: ``object_id`` is empty for an insert (the server names the object)."""

    kind: str                      # insert | update | delete
    cls: str
    object_id: str
    body: dict[str, Any] | None    # the REST JSON body (None for a delete)


class Workload:
    """Chooses the next write; knows which objects exist and which one a write is running on."""

    def __init__(self, ids: dict[str, list[str]], deletable: list[str], mix: SandboxLive) -> None:
        self.ids = {cls: list(ids.get(cls, ())) for cls, _ in UPDATED}
        self.deletable = list(deletable)
        self.mix = mix
        self.rng = random.Random(mix.seed)
        self.busy: set[str] = set()
        self.inserted = 0
        self._lock = threading.Lock()

    @classmethod
    def from_source(cls, db: Any, mix: SandboxLive, timeout_ms: int = 30_000) -> Workload:
        """The objects of the source (ids only); GameScores that reference no file may be deleted."""
        ids = {name: [d["_id"] for d in db[name].find({}, {"_id": 1}, max_time_ms=timeout_ms)]
               for name, _ in UPDATED}
        fileless = {"avatar": {"$exists": False}, "attachments": {"$exists": False}}
        deletable = [d["_id"] for d in db[INSERTED].find(fileless, {"_id": 1}, max_time_ms=timeout_ms)]
        return cls(ids, deletable, mix)

    def next_op(self) -> Op | None:
        """The next write, its object marked busy; None when every candidate object is busy."""
        with self._lock:
            draw = self.rng.random()
            if draw < self.mix.insert_share:
                self.inserted += 1
                return Op("insert", INSERTED, "", self._insert_body(self.inserted))
            if draw < self.mix.insert_share + self.mix.delete_share and self.deletable:
                return self._claim_delete()
            return self._claim_update()

    def finish(self, op: Op, object_id: str) -> None:
        """Release the object. An insert that named its object made a new (deletable) one; a delete, even a
        failed one (it may have happened), takes its object out of the traffic for good."""
        with self._lock:
            self.busy.discard(object_id)
            if op.kind == "insert" and object_id:
                self.ids[INSERTED].append(object_id)
                self.deletable.append(object_id)
            elif op.kind == "delete" and object_id in self.ids[INSERTED]:
                self.ids[INSERTED].remove(object_id)

    def _claim_delete(self) -> Op | None:
        for _ in range(_PICK_TRIES):
            k = self.rng.randrange(len(self.deletable))
            if self.deletable[k] not in self.busy:
                self.deletable[k], self.deletable[-1] = self.deletable[-1], self.deletable[k]
                object_id = self.deletable.pop()
                self.busy.add(object_id)
                return Op("delete", INSERTED, object_id, None)
        return None

    def _claim_update(self) -> Op | None:
        classes = [c for c, _ in UPDATED if self.ids[c]]
        if not classes:
            return None
        cls = self.rng.choices(classes, [w for c, w in UPDATED if self.ids[c]])[0]
        for _ in range(_PICK_TRIES):
            object_id = self.rng.choice(self.ids[cls])
            if object_id not in self.busy:
                self.busy.add(object_id)
                return Op("update", cls, object_id, self._update_body(cls))
        return None

    def _update_body(self, cls: str) -> dict[str, Any]:
        field = self.rng.choice(sorted(UPDATES[cls]))
        return {field: UPDATES[cls][field](self.rng)}

    def _insert_body(self, n: int) -> dict[str, Any]:
        rng, users, players = self.rng, self.ids["_User"], self.ids["Player"]
        owner = rng.choice(users) if users else None
        acl: dict[str, Any] = {"*": {"read": True}, **({owner: {"read": True, "write": True}} if owner else {})}
        body: dict[str, Any] = {
            "score": rng.randrange(100_000), "playerName": f"{rng.choice(NAMES)} live {n}",
            "cheatMode": rng.random() < 0.1, "tags": rng.sample(TAGS, rng.randrange(4)),
            "stats": {"kills": rng.randrange(500), "deaths": rng.randrange(500), "ratio": round(rng.random() * 4, 3),
                      "lastMatch": _date(rng), "weapon": {"name": rng.choice(WORDS), "tier": rng.randrange(5)}},
            "location": {"__type": "GeoPoint", "latitude": round(rng.uniform(-90, 90), 6),
                         "longitude": round(rng.uniform(-180, 180), 6)},
            "playtimeMs": rng.randrange(10**6, 10**12),
            "blob": {"__type": "Bytes", "base64": base64.b64encode(rng.randbytes(24)).decode()},
            "comment": _text(rng, rng.randrange(3, 60)), "ACL": acl,
        }
        if players:
            body["player"] = {"__type": "Pointer", "className": "Player", "objectId": rng.choice(players)}
        return body


def _date(rng: random.Random) -> dict[str, str]:
    moment = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(milliseconds=rng.randrange(365 * 86_400_000))
    return {"__type": "Date", "iso": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")}


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS + NAMES) for _ in range(words))
