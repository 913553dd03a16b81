"""DB-06 deployment health: writable primary, replication lag, lock queues, storage headroom.

A standalone server has no replication: that is reported (kind "standalone", lag None), not failed. A fact a
server does not report (lock queues on a server whose ``serverStatus`` has no ``globalLock``) is None and
the caller records it as such.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo.database import Database

from cutover.inventory import call


@dataclass(frozen=True)
class Topology:
    kind: str                  # standalone | replica set | sharded
    writable_primary: bool
    set_name: str = ""
    me: str = ""


def topology(db: Database[Any]) -> Topology:
    reply = call("asking the target who is primary (hello)", lambda: db.client.admin.command("hello"))
    writable = bool(reply.get("isWritablePrimary", reply.get("ismaster", False)))
    if reply.get("msg") == "isdbgrid":
        return Topology("sharded", writable, "", str(reply.get("me", "")))
    if reply.get("setName"):
        return Topology("replica set", writable, str(reply["setName"]), str(reply.get("me", "")))
    return Topology("standalone", writable, "", str(reply.get("me", "")))


@dataclass(frozen=True)
class Lag:
    seconds: float
    slowest: str               # the member that lags most ("" when there is no secondary)


def replication_lag(db: Database[Any]) -> Lag:
    """Primary optime minus each secondary's optime, the worst of them (replica sets only)."""
    status = call("reading replSetGetStatus", lambda: db.client.admin.command("replSetGetStatus"))
    return lag_from_status(status)


def lag_from_status(status: dict[str, Any]) -> Lag:
    members = status.get("members", [])
    primary = next((m for m in members if m.get("stateStr") == "PRIMARY"), None)
    secondaries = [m for m in members if m.get("stateStr") == "SECONDARY"]
    if primary is None or not secondaries:
        return Lag(0.0, "")
    top: datetime = primary["optimeDate"]
    worst = max(secondaries, key=lambda m: (top - m["optimeDate"]).total_seconds())
    return Lag(max(0.0, (top - worst["optimeDate"]).total_seconds()), str(worst.get("name", "")))


def lock_queue(db: Database[Any]) -> int | None:
    """Operations waiting for a lock now (globalLock.currentQueue), or None when the server does not say."""
    status = call("reading serverStatus", lambda: db.client.admin.command("serverStatus"))
    queue = (status.get("globalLock") or {}).get("currentQueue")
    if not isinstance(queue, dict):
        return None
    return int(queue.get("total", int(queue.get("readers", 0)) + int(queue.get("writers", 0))))


def storage_used(db: Database[Any]) -> int:
    """Data plus index bytes of the database (dbStats)."""
    stats = call("reading dbStats", lambda: db.command("dbStats"))
    return int(stats.get("dataSize", 0)) + int(stats.get("indexSize", 0))
