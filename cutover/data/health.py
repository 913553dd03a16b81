"""DB-06 deployment health: topology, and the health figures read from one server document each.

The figures are the seed's Telemetry checks (CPU time, queues, replication lag); :mod:`cutover.data.telemetry`
samples them over a window. Each reader takes one reply document as the server sent it and returns the
figure, or None when that server does not report it (an older version, another platform, a stand-in).
Shapes followed, from MongoDB's manual (``reference/command/serverStatus``, ``hostInfo``,
``replSetGetStatus``) for 5.0 to 8.0:

- ``extra_info.user_time_us`` / ``system_time_us``: process CPU time in microseconds, reported on Linux
  (the manual only promises "fields vary by platform"); Windows and macOS builds omit them.
- ``globalLock.currentQueue.{total,readers,writers}``: operations waiting for a lock, every version.
- admission tickets: ``wiredTiger.concurrentTransactions.{read,write}`` (5.0-7.0: ``out``, ``available``,
  ``totalTickets``; 7.0 adds queue figures such as ``queueLength``), renamed ``queues.execution`` in 8.0,
  whose ``normalPriority`` / ``exempt`` sub-documents hold ``queueLength``; 8.0 adds ``queues.ingress``.
  Before 7.0 an operation waiting for a ticket is counted in ``globalLock.currentQueue``.
- ``hostInfo.system.numCores`` (logical cores); newer servers add ``numCoresAvailableToProcess``.
- ``replSetGetStatus.members[].{name,stateStr,optimeDate}``.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo.database import Database

from cutover.data.inventory import call


@dataclass(frozen=True)
class Topology:
    kind: str                  # standalone | replica set | sharded
    writable_primary: bool
    set_name: str = ""
    me: str = ""
    hosts: tuple[str, ...] = ()   # electable data-bearing members a replica set names in `hello`


def topology(db: Database[Any]) -> Topology:
    return topology_of(call("asking the target who is primary (hello)", lambda: db.client.admin.command("hello")))


def topology_of(reply: Mapping[str, Any]) -> Topology:
    writable = bool(reply.get("isWritablePrimary", reply.get("ismaster", False)))
    me = str(reply.get("me", ""))
    if reply.get("msg") == "isdbgrid":
        return Topology("sharded", writable, "", me)
    if reply.get("setName"):
        return Topology("replica set", writable, str(reply["setName"]), me, tuple(map(str, reply.get("hosts", ()))))
    return Topology("standalone", writable, "", me)


def storage_used(db: Database[Any]) -> int:
    """Data plus index bytes of the database (dbStats)."""
    stats = call("reading dbStats", lambda: db.command("dbStats"))
    return int(stats.get("dataSize", 0)) + int(stats.get("indexSize", 0))


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def cpu_time_us(status: Mapping[str, Any]) -> float | None:
    """User plus system CPU time of the server process since it started (Linux builds), microseconds."""
    extra = status.get("extra_info") or {}
    user, system = _number(extra.get("user_time_us")), _number(extra.get("system_time_us"))
    return None if user is None or system is None else user + system


def uptime_ms(status: Mapping[str, Any]) -> float | None:
    return _number(status.get("uptimeMillis"))


def lock_queue(status: Mapping[str, Any]) -> float | None:
    """Operations waiting for a lock now (globalLock.currentQueue), None when the server does not say."""
    queue = (status.get("globalLock") or {}).get("currentQueue")
    if not isinstance(queue, Mapping):
        return None
    total = _number(queue.get("total"))
    if total is not None:
        return total
    parts = [_number(queue.get(side)) for side in ("readers", "writers")]
    return None if None in parts else sum(p for p in parts if p is not None)


def _admission_pools(status: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    execution = (status.get("queues") or {}).get("execution") or \
        (status.get("wiredTiger") or {}).get("concurrentTransactions") or {}
    for side in ("read", "write"):
        if isinstance(execution.get(side), Mapping):
            yield execution[side]
    ingress = (status.get("queues") or {}).get("ingress")
    if isinstance(ingress, Mapping):
        yield ingress


def _queue_lengths(pool: Mapping[str, Any]) -> Iterator[float]:
    for doc in (pool, *(v for v in pool.values() if isinstance(v, Mapping))):
        length = _number(doc.get("queueLength"))
        if length is not None:
            yield length


def admission_queue(status: Mapping[str, Any]) -> float | None:
    """Operations waiting for an execution or ingress ticket (7.0+ ``queueLength``), None before 7.0."""
    lengths = [length for pool in _admission_pools(status) for length in _queue_lengths(pool)]
    return sum(lengths) if lengths else None


def tickets_available(status: Mapping[str, Any]) -> float | None:
    """The fewest free execution tickets of the read and write pools (context for the queues)."""
    free = [_number(pool.get("available")) for pool in _admission_pools(status)]
    known = [f for f in free if f is not None]
    return min(known) if known else None


def cores(host_info: Mapping[str, Any]) -> int | None:
    system = host_info.get("system") or {}
    for key in ("numCoresAvailableToProcess", "numCores"):
        value = _number(system.get(key))
        if value is not None and value >= 1:
            return int(value)
    return None


def lag_per_secondary(status: Mapping[str, Any]) -> dict[str, float]:
    """Seconds each SECONDARY is behind the PRIMARY (optimeDate); empty when there is no primary."""
    members = status.get("members", [])
    primary = next((m for m in members if m.get("stateStr") == "PRIMARY"), None)
    if primary is None or not isinstance(primary.get("optimeDate"), datetime):
        return {}
    top: datetime = primary["optimeDate"]
    return {str(m.get("name", "")): max(0.0, (top - m["optimeDate"]).total_seconds())
            for m in members if m.get("stateStr") == "SECONDARY" and isinstance(m.get("optimeDate"), datetime)}
