"""Probe objects, files and users for the writing REST checks: tagged with a run id, always removed.

Every probe object carries ``cutoverRun: <run id>``; probe files and users carry the run id in their names.
Files and users are also written down as ledger rows in the probe class, so that a later run can find what
a killed run left behind: :func:`sweep` removes every probe older than an hour. Once a run's probes are
gone the probe class itself is dropped (``DELETE /schemas/<class>``), so the target's collections and
``_SCHEMA`` are exactly as before.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cutover.errors import CouldNotVerify
from cutover.parse_compare import date
from cutover.parse_rest import Answer, ParseClient, results

RUN_FIELD = "cutoverRun"
KIND_FIELD = "probeKind"
REF_FIELD = "probeRef"
NAME_PREFIX = "cutover-probe-"
SWEEP_AGE = timedelta(hours=1)
_NOT_EMPTY, _NO_CLASS = 255, 103


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

    def __init__(self, client: ParseClient, probe_class: str, run_id: str) -> None:
        self.client, self.cls, self.run_id = client, probe_class, run_id
        self.objects: list[str] = []
        self.files: list[str] = []
        self.users: list[str] = []

    def __enter__(self) -> ProbeRun:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()

    def create(self, fields: dict[str, Any], auth: str = "master") -> Answer:
        """Create a probe object (tagged with the run id) in the probe class."""
        answer = self.client.create(self.cls, {**fields, RUN_FIELD: self.run_id}, auth=auth)
        if answer.ok and isinstance(answer.body, dict) and "objectId" in answer.body:
            self.objects.append(str(answer.body["objectId"]))
        return answer

    def upload(self, data: bytes, content_type: str = "text/plain") -> Answer:
        """Upload a probe file named after the run (the server prefixes it with a random hex)."""
        answer = self.client.upload_file(f"{NAME_PREFIX}{self.run_id}.txt", data, content_type)
        if answer.ok and isinstance(answer.body, dict) and "name" in answer.body:
            self.files.append(str(answer.body["name"]))
            self._ledger("file", str(answer.body["name"]))
        return answer

    def sign_up(self) -> tuple[Answer, str, str]:
        """Sign up a probe user with the client key: (answer, username, password)."""
        username = f"{NAME_PREFIX}{self.run_id}-{secrets.token_hex(3)}"
        password = secrets.token_urlsafe(16)
        answer = self.client.sign_up(username, password)
        if answer.ok and isinstance(answer.body, dict) and "objectId" in answer.body:
            self.users.append(str(answer.body["objectId"]))
            self._ledger("user", str(answer.body["objectId"]))
        return answer, username, password

    def _adopt_unacknowledged(self) -> None:
        try:
            rows = results(self.client.query(self.cls, {RUN_FIELD: self.run_id}, keys="objectId", limit=1000))
            users = results(self.client.query("_User", {"username": {"$regex": f"^{NAME_PREFIX}{self.run_id}-"}},
                                              keys="objectId", limit=1000))
        except CouldNotVerify:
            return  # the known probes are still removed; a later run's sweep takes the rest
        self.objects += [str(r["objectId"]) for r in rows if str(r["objectId"]) not in self.objects]
        self.users += [str(u["objectId"]) for u in users if str(u["objectId"]) not in self.users]

    def _ledger(self, kind: str, ref: str) -> None:
        self.create({KIND_FIELD: kind, REF_FIELD: ref})

    def cleanup(self) -> Cleanup:
        """Remove sessions and users, files, objects, then the probe class if it is empty.

        Probes whose creation reply never arrived (a slow server) are found by this run's id and removed too.
        """
        self._adopt_unacknowledged()
        touched = bool(self.objects or self.files or self.users)
        outcome = _merge(*(remove_user(self.client, u) for u in self.users),
                         *(remove_file(self.client, f) for f in self.files),
                         unrelate(self.client, self.cls, self.objects),
                         *(remove_object(self.client, self.cls, o) for o in self.objects))
        self.objects, self.files, self.users = [], [], []
        return _merge(outcome, drop_if_empty(self.client, self.cls)) if touched else outcome


def remove_object(client: ParseClient, cls: str, object_id: str) -> Cleanup:
    return _removed(client.delete(cls, object_id), f"{cls}/{object_id}")


def unrelate(client: ParseClient, cls: str, object_ids: list[str]) -> Cleanup:
    """Empty the Relation fields of these objects first: Parse keeps join rows of deleted objects."""
    fields = relation_fields(client, cls) if object_ids else []
    return _merge(*(_unrelate_one(client, cls, oid, name) for oid in object_ids for name in fields))


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
    return _merge(*sessions, _removed(client.delete("_User", user_id), f"_User/{user_id}"))


def drop_if_empty(client: ParseClient, cls: str) -> Cleanup:
    """Drop the probe class; 'not empty' (another run's probes) and 'no such class' are fine."""
    answer = client.drop_class(cls)
    if answer.ok or answer.code in (_NOT_EMPTY, _NO_CLASS):
        return Cleanup(1 if answer.ok else 0, ())
    return Cleanup(0, (f"class {cls}: {answer.describe()}",))


def sweep(client: ParseClient, probe_class: str, now: datetime | None = None,
          max_age: timedelta = SWEEP_AGE) -> Cleanup:
    """Remove probes older than ``max_age`` that killed runs left (ledger rows, objects, users)."""
    cutoff = {"$lt": date((now or datetime.now(UTC)) - max_age)}
    rows = results(client.query(probe_class, {"createdAt": cutoff}, limit=1000))
    outcome = unrelate(client, probe_class, [row["objectId"] for row in rows])
    outcome = _merge(outcome, *(_sweep_row(client, probe_class, row) for row in rows))
    users = results(client.query("_User", {"username": {"$regex": f"^{NAME_PREFIX}"}, "createdAt": cutoff},
                                 keys="objectId", limit=1000))
    outcome = _merge(outcome, *(remove_user(client, u["objectId"]) for u in users))
    return _merge(outcome, drop_if_empty(client, probe_class)) if rows else outcome


def _sweep_row(client: ParseClient, cls: str, row: dict[str, Any]) -> Cleanup:
    kind, ref = row.get(KIND_FIELD), str(row.get(REF_FIELD, ""))
    probe = remove_file(client, ref) if kind == "file" else Cleanup(0, ())
    if kind == "user":
        probe = remove_user(client, ref)
    return _merge(probe, remove_object(client, cls, row["objectId"]))


def _removed(answer: Answer, what: str) -> Cleanup:
    if answer.ok or answer.code == 101 or answer.status == 404:  # already gone counts as removed
        return Cleanup(1, ())
    return Cleanup(0, (f"{what}: {answer.describe()}",))


def _merge(*parts: Cleanup) -> Cleanup:
    return Cleanup(sum(p.removed for p in parts), tuple(item for p in parts for item in p.left))
