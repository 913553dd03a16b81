"""DB-06 deployment health: topology, and the health figures read from one server document each.

The figures are the seed's Telemetry checks (CPU time, queues, replication lag); :mod:`cutover.data.health_window`
samples them over a window. Each reader takes one reply document as the server sent it and returns the
figure; None only where that server genuinely does not report it (an older version, another platform, a mongos,
the sandbox's stand-in); :class:`UnknownReply` (an ERROR naming the server version and the field) where a server
should report it and the reply has no such field. Shapes followed (the manual's ``serverStatus``, ``hostInfo``
and ``replSetGetStatus`` pages, 4.4 to 8.0; tests/fixtures/mongo_replies holds one reply of each):

- ``extra_info.user_time_us`` / ``system_time_us``: process CPU time in microseconds, reported on Linux
  (the manual only promises "fields vary by platform"); Windows and macOS builds omit them.
- ``globalLock.currentQueue.{total,readers,writers}``: operations waiting for a lock, every mongod.
- admission tickets: ``wiredTiger.concurrentTransactions.{read,write}`` (4.4-7.0: ``out``, ``available``,
  ``totalTickets``; 7.0 adds queue figures such as ``queueLength``), renamed ``queues.execution`` in 8.0,
  whose ``normalPriority`` / ``exempt`` sub-documents hold ``queueLength``; 8.0 adds ``queues.ingress``.
  Before 7.0 an operation waiting for a ticket is counted in ``globalLock.currentQueue``.
- ``hostInfo.system.numCores`` (logical cores); newer servers add ``numCoresAvailableToProcess``.
- ``replSetGetStatus.members[].{name,stateStr,optimeDate}`` (arbiters carry no optime).
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo.database import Database

from cutover.data.inventory import call
from cutover.data.replies import UnknownReply, dig, is_stand_in, number, release, server_of, version_of, wire_label
from cutover.errors import UnexpectedAnswer


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
    if "isWritablePrimary" not in reply and "ismaster" not in reply:
        raise UnknownReply(server_of(reply), "hello", "isWritablePrimary", "is absent (and no legacy ismaster)")
    writable = bool(reply.get("isWritablePrimary", reply.get("ismaster", False)))
    me = str(reply.get("me", ""))
    if reply.get("msg") == "isdbgrid":
        return Topology("sharded", writable, "", me)
    if reply.get("setName"):
        return Topology("replica set", writable, str(reply["setName"]), me, tuple(map(str, reply.get("hosts", ()))))
    return Topology("standalone", writable, "", me)


def storage_used(db: Database[Any]) -> int:
    """Data plus index bytes of the database (dbStats; every version reports both)."""
    stats = call("reading dbStats", lambda: db.command("dbStats"))
    sizes = {key: number(stats.get(key)) for key in ("dataSize", "indexSize")}
    for key, size in sizes.items():
        if size is None:
            raise UnknownReply(wire_label(db), "dbStats", key, f"is {stats.get(key)!r}, not a number")
    return int(sum(size for size in sizes.values() if size is not None))


def _quiet(status: Mapping[str, Any]) -> bool:
    """A server that reports no lock manager or admission figures of its own: mongos, or the stand-in."""
    return is_stand_in(status) or status.get("process") == "mongos"


def cpu_time_us(status: Mapping[str, Any]) -> float | None:
    """User plus system CPU time of the server process since it started (Linux builds), microseconds."""
    extra = status.get("extra_info") or {}
    if "user_time_us" not in extra and "system_time_us" not in extra:
        return None   # "fields vary by platform": only Linux builds report them
    user, system = number(extra.get("user_time_us")), number(extra.get("system_time_us"))
    if user is None or system is None:
        raise UnknownReply(server_of(status), "serverStatus", "extra_info.user_time_us/system_time_us",
                           f"are {extra.get('user_time_us')!r}/{extra.get('system_time_us')!r}, not two numbers")
    return user + system


def uptime_ms(status: Mapping[str, Any]) -> float | None:
    uptime = number(status.get("uptimeMillis"))
    if uptime is None:
        raise UnknownReply(server_of(status), "serverStatus", "uptimeMillis", f"is {status.get('uptimeMillis')!r}")
    return uptime


def lock_queue(status: Mapping[str, Any]) -> float | None:
    """Operations waiting for a lock now (globalLock.currentQueue): every mongod reports it; None from mongos and
    the stand-in."""
    queue = dig(status, "globalLock.currentQueue")
    if queue is None and _quiet(status):
        return None
    if not isinstance(queue, Mapping):
        raise UnknownReply(server_of(status), "serverStatus", "globalLock.currentQueue",
                           "is absent" if queue is None else f"is {queue!r}, not a document")
    total = number(queue.get("total"))
    parts = [number(queue.get(side)) for side in ("readers", "writers")]
    if total is None and None in parts:
        raise UnknownReply(server_of(status), "serverStatus", "globalLock.currentQueue.total",
                           "is absent, and readers/writers are not both numbers")
    return total if total is not None else sum(p for p in parts if p is not None)


def _admission_pools(status: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    execution = dig(status, "queues.execution") or dig(status, "wiredTiger.concurrentTransactions") or {}
    for side in ("read", "write"):
        if isinstance(execution.get(side), Mapping):
            yield execution[side]
    ingress = dig(status, "queues.ingress")
    if isinstance(ingress, Mapping):
        yield ingress


def _queue_lengths(pool: Mapping[str, Any]) -> Iterator[float]:
    for doc in (pool, *(v for v in pool.values() if isinstance(v, Mapping))):
        length = number(doc.get("queueLength"))
        if length is not None:
            yield length


def admission_queue(status: Mapping[str, Any]) -> float | None:
    """Operations waiting for an execution or ingress ticket: ``queues.execution`` / ``queues.ingress`` (8.0),
    ``queueLength`` in ``wiredTiger.concurrentTransactions`` where a 7.0 server counts it; None before 7.0 (a
    ticket wait shows in the lock queue). An 8.0 mongod on WiredTiger without execution queue lengths is an
    UnknownReply."""
    lengths = [length for pool in _admission_pools(status) for length in _queue_lengths(pool)]
    if lengths:
        return sum(lengths)
    if _owes_execution_queues(status):
        raise UnknownReply(server_of(status), "serverStatus",
                           "queues.execution.{read,write}.normalPriority.queueLength", "is absent")
    return None


def _owes_execution_queues(status: Mapping[str, Any]) -> bool:
    engine = dig(status, "storageEngine.name")
    return not _quiet(status) and release(version_of(status)) >= (8, 0) and engine in (None, "wiredTiger")


def tickets_available(status: Mapping[str, Any]) -> float | None:
    """The fewest free execution tickets of the read and write pools (context for the queues)."""
    free = [number(pool.get("available")) for pool in _admission_pools(status)]
    known = [f for f in free if f is not None]
    return min(known) if known else None


def cores(host_info: Mapping[str, Any]) -> int:
    """Logical cores the server may use (hostInfo.system: every server reports numCores)."""
    system = host_info.get("system") or {}
    for key in ("numCoresAvailableToProcess", "numCores"):
        value = number(system.get(key))
        if value is not None and value >= 1:
            return int(value)
    raise UnknownReply(server_of(host_info), "hostInfo", "system.numCores", f"is {system.get('numCores')!r}")


def lag_per_secondary(status: Mapping[str, Any], server: str = "") -> dict[str, float]:
    """Seconds each SECONDARY is behind the PRIMARY (optimeDate); empty when there is no secondary."""
    members = status.get("members")
    if not isinstance(members, list) or not all(isinstance(m, Mapping) and "stateStr" in m for m in members):
        raise UnknownReply(server, "replSetGetStatus", "members[].stateStr", "is absent")
    secondaries = [(i, m) for i, m in enumerate(members) if m["stateStr"] == "SECONDARY"]
    primary = next(((i, m) for i, m in enumerate(members) if m["stateStr"] == "PRIMARY"), None)
    if not secondaries:
        return {}
    if primary is None:
        raise UnexpectedAnswer(f"{server or 'the server'}: replica set {status.get('set', '')} has no PRIMARY member, "
                               f"so the lag of its {len(secondaries)} secondaries cannot be measured")
    top = _optime(primary, server)
    return {str(m.get("name", "")): max(0.0, (top - _optime((i, m), server)).total_seconds()) for i, m in secondaries}


def _optime(indexed: tuple[int, Mapping[str, Any]], server: str) -> datetime:
    i, member = indexed
    when = member.get("optimeDate")
    if not isinstance(when, datetime):
        raise UnknownReply(server, "replSetGetStatus", f"members[{i}].optimeDate ({member.get('name', '')})",
                           f"is {when!r}, not a date")
    return when
