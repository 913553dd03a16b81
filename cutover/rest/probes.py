"""Probe objects, files and users for the writing REST checks: marked as the suite's own, always removed.

What marks a probe is in :mod:`cutover.probe_marks`. A :class:`ProbeRun` holds the probes of one check;
:meth:`ProbeRun.cleanup` (leaving the ``with`` block, or :meth:`cutover.rest.phase.ProbePhase.close` when
the process ends) removes them through the REST API with the master key, then settles what the app's
triggers did meanwhile (:mod:`cutover.rest.side_effects`). Probe files are also written down as ledger rows in
the probe class, so that a later run's sweep (:mod:`cutover.rest.sweep`) finds what a killed run left.
Once a run's probes are gone the probe class itself is dropped (``DELETE /schemas/<class>``), so the
target's collections and ``_SCHEMA`` are exactly as before.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from cutover import probe_marks as marks
from cutover.errors import CouldNotVerify
from cutover.rest.client import Answer, ParseClient, results
from cutover.rest.compare import date

if TYPE_CHECKING:
    from cutover.rest.side_effects import Effects, SideEffectWatch

RUN_FIELD, AT_FIELD, NAME_PREFIX = marks.RUN_FIELD, marks.AT_FIELD, marks.NAME_PREFIX
KIND_FIELD = "probeKind"
REF_FIELD = "probeRef"
_NOT_EMPTY, _NO_CLASS = 255, 103
_SKEW = timedelta(minutes=10)


def new_run_id() -> str:
    """A run id that sorts by time: ``20261125T230718Z-3fa9c1``."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


@dataclass(frozen=True)
class Cleanup:
    """What a cleanup or sweep removed, and what it could not remove (with the server's answer)."""

    removed: int
    left: tuple[str, ...]

    @property
    def clean(self) -> bool:
        return not self.left


class ProbeRun:
    """The probes of one check; :meth:`cleanup` (or leaving the ``with`` block) removes all of them."""

    def __init__(self, client: ParseClient, probe_class: str, run_id: str,
                 watch: SideEffectWatch | None = None, drop_class: bool = True) -> None:
        self.client, self.cls, self.run_id = client, probe_class, run_id
        self.drop_class = drop_class   # False in one of several processes: dropping races the others' writes
        self.marker = {RUN_FIELD: run_id, AT_FIELD: date(datetime.now(UTC))}
        self.objects: list[str] = []
        self.files: list[str] = []
        self.users: list[str] = []
        self.watch = watch
        self.effects: Effects | None = None       # what the last cleanup found the app's triggers did
        self.done = False
        self._written: dict[str, set[str]] = {"objects": set(), "users": set()}
        self._first_write: datetime | None = None    # Parse's createdAt of the first write since the last cleanup
        self._installations: dict[str, str] = {}

    def __enter__(self) -> ProbeRun:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()

    def create(self, fields: dict[str, Any], auth: str = "master") -> Answer:
        """Create a probe object (carrying the marker) in the probe class."""
        answer = self.client.create(self.cls, {**fields, **self.marker}, auth=auth)
        if answer.ok and isinstance(answer.body, dict) and "objectId" in answer.body:
            self.keep("objects", str(answer.body["objectId"]), answer.body.get("createdAt"))
        return answer

    def upload(self, data: bytes, content_type: str = "text/plain") -> Answer:
        """Upload a probe file named after the run (the server prefixes it with a random hex)."""
        answer = self.client.upload_file(marks.file_name(self.run_id), data, content_type)
        if answer.ok and isinstance(answer.body, dict) and "name" in answer.body:
            self.keep_file(str(answer.body["name"]))
        return answer

    def keep_file(self, name: str) -> None:
        """A probe file uploaded (by this run or by a client it drives): removed at cleanup, and written down
        as a ledger row so that a later sweep finds it if this run is killed."""
        self.files.append(name)
        self.create({KIND_FIELD: "file", REF_FIELD: name})

    def new_user(self) -> tuple[str, str, str]:
        """A fresh probe user's username, password and the installation id its sessions carry."""
        suffix = secrets.token_hex(3)
        username, password = marks.username(self.run_id, suffix), secrets.token_urlsafe(16)
        self._installations[username] = marks.installation_id(self.run_id, suffix)
        return username, password, self._installations[username]

    def new_installation(self) -> str:
        """An installation id marked as this run's (for a client app that signs no user up)."""
        return marks.installation_id(self.run_id, secrets.token_hex(3))

    def sign_up(self) -> tuple[Answer, str, str]:
        """Sign up a marked probe user with the client key: (answer, username, password)."""
        username, password, installation = self.new_user()
        answer = self.client.sign_up(username, password, marks.email(username), installation)
        if answer.ok and isinstance(answer.body, dict) and "objectId" in answer.body:
            self.keep("users", str(answer.body["objectId"]), answer.body.get("createdAt"))
        return answer, username, password

    def log_in(self, username: str, password: str) -> Answer:
        """Log a probe user in; its session carries the probe's installation id."""
        return self.client.log_in(username, password, self._installations.get(username, ""))

    def keep(self, kind: str, object_id: str, created_at: Any = None) -> None:
        """A probe object or user (``kind`` "objects" or "users") written by this run or by a client it drives:
        removed at cleanup, its side effects looked for from ``created_at`` (Parse's createdAt) on."""
        listing = self.objects if kind == "objects" else self.users
        if object_id not in listing:
            listing.append(object_id)
        self._written[kind].add(object_id)
        written = _server_time(created_at)
        if self._first_write is None or written < self._first_write:
            self._first_write = written

    def _adopt_unacknowledged(self) -> None:
        """Probes whose creation reply never arrived (a slow server), found by this run's id and the marker."""
        own = {**marks.OBJECT_MATCH, RUN_FIELD: self.run_id}
        own_users = {"username": {"$regex": f"^{re.escape(marks.username(self.run_id, ''))}"}}
        try:
            rows = results(self.client.query(self.cls, own, keys=f"{RUN_FIELD},{AT_FIELD},createdAt", limit=1000))
            users = results(self.client.query("_User", own_users, keys="username,email,createdAt", limit=1000))
        except CouldNotVerify:
            return  # the known probes are still removed; a later run's sweep takes the rest
        for row in filter(marks.is_probe_object, rows):
            self.keep("objects", str(row["objectId"]), row.get("createdAt"))
        for user in filter(marks.is_probe_user, users):
            self.keep("users", str(user["objectId"]), user.get("createdAt"))

    def cleanup(self) -> Cleanup:
        """Remove sessions and users, files, objects, then the probe class if it is empty; then find (and by
        default undo) the side effects of what was written since the last cleanup."""
        self._adopt_unacknowledged()
        touched = bool(self.objects or self.files or self.users)
        outcome = merge(*(remove_user(self.client, u) for u in self.users),
                         *(remove_file(self.client, f) for f in self.files),
                         unrelate(self.client, self.cls, self.objects),
                         *(remove_object(self.client, self.cls, o) for o in self.objects))
        self.objects, self.files, self.users = [], [], []
        if touched and self.drop_class:
            outcome = merge(outcome, drop_if_empty(self.client, self.cls))
        written, self._written = self._written, {"objects": set(), "users": set()}
        first, self._first_write = self._first_write, None
        if self.watch is not None and first is not None:
            self.effects = self.watch.settle(frozenset(written["objects"]), frozenset(written["users"]), first)
        self.done = True
        return outcome


def _server_time(created_at: Any) -> datetime:
    """Parse's ``createdAt`` of a write; without one (an odd server), our clock less a generous skew."""
    try:
        return datetime.fromisoformat(str(created_at))
    except ValueError:
        return datetime.now(UTC) - _SKEW


def remove_object(client: ParseClient, cls: str, object_id: str) -> Cleanup:
    return _removed(client.delete(cls, object_id), f"{cls}/{object_id}")


def unrelate(client: ParseClient, cls: str, object_ids: list[str]) -> Cleanup:
    """Empty the Relation fields of these objects first: Parse keeps join rows of deleted objects."""
    fields = relation_fields(client, cls) if object_ids else []
    return merge(*(_unrelate_one(client, cls, oid, name) for oid in object_ids for name in fields))


def relation_fields(client: ParseClient, cls: str) -> list[str]:
    schema = client.request("GET", f"/schemas/{cls}")
    fields = schema.body.get("fields", {}) if schema.ok and isinstance(schema.body, dict) else {}
    return sorted(name for name, spec in fields.items() if spec.get("type") == "Relation")


def _unrelate_one(client: ParseClient, cls: str, object_id: str, name: str) -> Cleanup:
    owner = {"__type": "Pointer", "className": cls, "objectId": object_id}
    found = results(client.query(cls, {"$relatedTo": {"object": owner, "key": name}}, keys="objectId"))
    if not found:
        return Cleanup(0, ())
    related = [{"__type": "Pointer", "className": cls, "objectId": r["objectId"]} for r in found]
    answer = client.update(cls, object_id, {name: {"__op": "RemoveRelation", "objects": related}})
    return _removed(answer, f"{cls}/{object_id}.{name} relation") if answer.code != 101 else Cleanup(0, ())


def remove_file(client: ParseClient, name: str) -> Cleanup:
    return _removed(client.delete_file(name), f"file {name}")


def remove_user(client: ParseClient, user_id: str) -> Cleanup:
    """Delete the user's sessions (Parse keeps them when a user is deleted), then the user."""
    pointer = {"__type": "Pointer", "className": "_User", "objectId": user_id}
    found = client.query("_Session", {"user": pointer}, keys="objectId", limit=1000)
    sessions = [remove_object(client, "_Session", s["objectId"]) for s in results(found)]
    return merge(*sessions, _removed(client.delete("_User", user_id), f"_User/{user_id}"))


def drop_if_empty(client: ParseClient, cls: str) -> Cleanup:
    """Drop the probe class; 'not empty' (another run's probes) and 'no such class' are fine."""
    answer = client.drop_class(cls)
    if answer.ok or answer.code in (_NOT_EMPTY, _NO_CLASS):
        return Cleanup(1 if answer.ok else 0, ())
    return Cleanup(0, (f"class {cls}: {answer.describe()}",))


def _removed(answer: Answer, what: str) -> Cleanup:
    if answer.ok or answer.code == 101 or answer.status == 404:  # already gone counts as removed
        return Cleanup(1, ())
    return Cleanup(0, (f"{what}: {answer.describe()}",))


def merge(*parts: Cleanup) -> Cleanup:
    return Cleanup(sum(p.removed for p in parts), tuple(item for p in parts for item in p.left))


