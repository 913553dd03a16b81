"""The sweep every run starts with: probes that killed runs left behind, older than a grace period, removed.

Only probes carrying both the reserved name and the marker (:mod:`cutover.probe_marks`) are touched, and
only when both the marker's time and Parse's ``createdAt`` are older than the grace period, so a concurrent
run's fresh probes are left alone. Everything goes through the REST API with the master key, never by raw
deletes, so Parse's side tables go with it: a user's sessions, relation rows, the files of ledger rows.
``survey`` is the read-only twin: it counts what a sweep would remove and removes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cutover import probe_marks as marks
from cutover.errors import CouldNotVerify
from cutover.rest.client import ParseClient, results
from cutover.rest.compare import date
from cutover.rest.probes import (
    AT_FIELD,
    KIND_FIELD,
    REF_FIELD,
    Cleanup,
    drop_if_empty,
    merge,
    remove_file,
    remove_object,
    remove_user,
    unrelate,
)

_PAGE = 1000
_MAX_PAGES = 20      # a sweep removes at most 20,000 probes of a kind; the next run takes the rest


@dataclass(frozen=True)
class Sweep:
    """What the sweep at the start of a run found and did."""

    grace_s: float
    removed: dict[str, int] = field(default_factory=dict)   # objects, users, sessions, files
    stale: int = 0              # probes older than the grace period that were seen
    fresh: int = 0              # probes younger than it (a concurrent run's): left alone
    left: tuple[str, ...] = ()  # what could not be removed, with the server's answer
    read_only: bool = False
    error: str = ""             # the sweep could not run at all

    def line(self) -> str:
        """The terminal line."""
        head = f"probe sweep (grace {self.grace_s:g} s)"
        if self.error:
            return f"{head}: could not sweep: {self.error}"
        if self.read_only:
            verb = f"{self.stale} stale probes exist, left in place (--read-only writes nothing)" if self.stale \
                else "no stale probes"
            return f"{head}: {verb}; {self.fresh} fresh probes of other runs"
        kinds = ", ".join(f"{n} {kind}" for kind, n in self.removed.items() if n) or "nothing"
        left = f"; {len(self.left)} could not be removed: {'; '.join(self.left[:3])}" if self.left else ""
        return f"{head}: removed {kinds}; {self.fresh} fresh probes of other runs left alone{left}"

    def facts(self) -> dict[str, Any]:
        return {"grace_s": self.grace_s, "removed": dict(self.removed), "stale": self.stale, "fresh": self.fresh,
                "left": list(self.left), "read_only": self.read_only, "error": self.error}


def sweep(client: ParseClient, probe_class: str, grace_s: float, now: datetime | None = None) -> Sweep:
    """Remove every marked probe older than ``grace_s`` seconds: ledger files, objects, users, sessions."""
    cutoff = (now or datetime.now(UTC)) - timedelta(seconds=grace_s)
    try:
        objects = _swept_objects(client, probe_class, cutoff)
        users = _swept_users(client, cutoff)
        sessions = _swept_pages(client, "_Session", _stale(marks.SESSION_MATCH, cutoff))
        fresh = _fresh(client, probe_class, cutoff)
    except CouldNotVerify as exc:
        return Sweep(grace_s, error=str(exc))
    removed = {"objects": objects[0], "files": objects[1], "users": users.removed, "sessions": sessions.removed}
    return Sweep(grace_s, removed, sum(removed.values()), fresh, objects[2].left + users.left + sessions.left)


def survey(client: ParseClient, probe_class: str, grace_s: float, now: datetime | None = None) -> Sweep:
    """What a sweep would remove, counted and left in place (``--read-only``)."""
    cutoff = (now or datetime.now(UTC)) - timedelta(seconds=grace_s)
    try:
        stale = sum(_count(client, cls, _stale(match, cutoff)) for cls, match in _kinds(probe_class))
        fresh = _fresh(client, probe_class, cutoff)
    except CouldNotVerify as exc:
        return Sweep(grace_s, read_only=True, error=str(exc))
    return Sweep(grace_s, stale=stale, fresh=fresh, read_only=True)


def _kinds(probe_class: str) -> list[tuple[str, dict[str, Any]]]:
    return [(probe_class, marks.OBJECT_MATCH), ("_User", marks.USER_MATCH), ("_Session", marks.SESSION_MATCH)]


def _stale(match: dict[str, Any], cutoff: datetime) -> dict[str, Any]:
    where = {**match, "createdAt": {"$lt": date(cutoff)}}
    if AT_FIELD in match:
        where[AT_FIELD] = {"$lt": date(cutoff)}
    return where


def _fresh(client: ParseClient, probe_class: str, cutoff: datetime) -> int:
    return sum(_count(client, cls, {**match, "createdAt": {"$gte": date(cutoff)}})
               for cls, match in _kinds(probe_class))


def _swept_objects(client: ParseClient, probe_class: str, cutoff: datetime) -> tuple[int, int, Cleanup]:
    """Stale probe objects: the files their ledger rows name, their relations, then the objects."""
    objects = files = 0
    outcome = Cleanup(0, ())
    for _ in range(_MAX_PAGES):
        rows = _query(client, probe_class, _stale(marks.OBJECT_MATCH, cutoff))
        named = [str(r[REF_FIELD]) for r in rows if r.get(KIND_FIELD) == "file" and r.get(REF_FIELD)]
        gone = merge(*(remove_file(client, name) for name in named))
        ids = [str(r["objectId"]) for r in rows]
        done = merge(unrelate(client, probe_class, ids), *(remove_object(client, probe_class, i) for i in ids))
        objects, files, outcome = objects + len(ids), files + gone.removed, merge(outcome, gone, done)
        if len(rows) < _PAGE or not done.clean:
            break
    if objects:
        outcome = merge(outcome, drop_if_empty(client, probe_class))
    return objects, files, outcome


def _swept_users(client: ParseClient, cutoff: datetime) -> Cleanup:
    """Stale probe users, each with its sessions (checked once more on the answer: both marks)."""
    outcome, count = Cleanup(0, ()), 0
    for _ in range(_MAX_PAGES):
        users = [u for u in _query(client, "_User", _stale(marks.USER_MATCH, cutoff)) if marks.is_probe_user(u)]
        done = merge(*(remove_user(client, str(u["objectId"])) for u in users))
        outcome, count = merge(outcome, done), count + len(users)
        if len(users) < _PAGE or not done.clean:
            break
    return Cleanup(count, outcome.left)


def _swept_pages(client: ParseClient, cls: str, where: dict[str, Any]) -> Cleanup:
    """Stale objects of ``cls`` matching ``where`` (probe sessions whose user is already gone)."""
    outcome, count = Cleanup(0, ()), 0
    for _ in range(_MAX_PAGES):
        ids = [str(r["objectId"]) for r in _query(client, cls, where)]
        done = merge(*(remove_object(client, cls, i) for i in ids))
        outcome, count = merge(outcome, done), count + len(ids)
        if len(ids) < _PAGE or not done.clean:
            break
    return Cleanup(count, outcome.left)


def _query(client: ParseClient, cls: str, where: dict[str, Any]) -> list[dict[str, Any]]:
    answer = client.query(cls, where, limit=_PAGE, order="createdAt")
    if not answer.ok and answer.code != 103:   # 103: no such class, so nothing to sweep in it
        raise CouldNotVerify(f"GET /classes/{cls} (master key) answered {answer.describe()}")
    return results(answer)


def _count(client: ParseClient, cls: str, where: dict[str, Any]) -> int:
    answer = client.count(cls, where)
    body = answer.body if isinstance(answer.body, dict) else {}
    if answer.ok and isinstance(body.get("count"), int):
        return int(body["count"])
    if answer.code == 103:
        return 0
    raise CouldNotVerify(f"counting probes in {cls} (master key) answered {answer.describe()}")
