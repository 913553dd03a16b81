"""Reply documents of MongoDB 5.0, 6.0, 7.0 and 8.0 for the health figures (DB-06), with planted values.

Shapes, section by section, and where they come from:
- serverStatus instance fields (host, version, process, pid, uptime, uptimeMillis, uptimeEstimate, localTime)
  and ``globalLock.{totalTime, currentQueue{total,readers,writers}, activeClients{...}}``: the manual's
  ``reference/command/serverStatus`` page, identical in the 5.0 and 8.0 editions.
- ``extra_info``: the manual shows ``note: "fields vary by platform"`` and ``page_faults``; Linux builds add
  ``user_time_us``, ``system_time_us``, ``maximum_resident_set_kb``, ``input_blocks``, ``output_blocks``,
  ``page_reclaims``, ``voluntary_context_switches``, ``involuntary_context_switches`` (the server's
  ``processinfo_linux.cpp``; MongoDB's FTDC viewer t2 charts ``extra_info.user_time_us`` as CPUs).
- ``wiredTiger.concurrentTransactions.{read,write}.{out, available, totalTickets}``: the manual's wiredTiger
  section (5.0, 6.0; static 128 tickets). 7.0 adds the queue figures (``addedToQueue``, ``removedFromQueue``,
  ``queueLength``, ``startedProcessing``, ``processing``, ``finishedProcessing``,
  ``totalTimeProcessingMicros``, ``canceled``, ``newAdmissions``) listed by MongoDB's docs ticket DOCS-16407
  (added in 6.1.0-rc0), and dynamic ticket counts (manual include ``7.0-concurrent-transactions.rst``).
- 8.0: ``queues.execution.{read,write}.{out, available, totalTickets, exempt{...}, normalPriority{...}}``,
  ``queues.execution.monitor`` and ``queues.ingress`` (the manual's 8.0 ``queues`` section and its "Queue
  Information" block); ``wiredTiger.concurrentTransactions`` is gone (renamed, 8.0 compatibility notes).
- hostInfo ``system.{currentTime, hostname, cpuAddrSize, memSizeMB, numCores, cpuArch, numaEnabled}``: the
  manual's ``reference/command/hostInfo`` page; servers since 6.0 add ``memLimitMB``, ``numPhysicalCores``,
  ``numCpuSockets``, ``numNumaNodes``, and 8.0-era servers ``numCoresAvailableToProcess`` (seen in real
  output; the manual's example predates them).
- replSetGetStatus ``set``, ``date``, ``myState``, ``members[]{_id, name, health, state, stateStr, uptime,
  optime{ts,t}, optimeDate, ...}``: the manual's ``reference/command/replSetGetStatus`` page.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bson import Int64, Timestamp

VERSIONS = ("5.0.26", "6.0.15", "7.0.12", "8.0.4")
T0 = datetime(2026, 11, 30, 12, 0, 0, tzinfo=UTC)


def _instance(version: str, uptime_ms: float, at: datetime) -> dict[str, Any]:
    return {"host": "db0.example.net:27017", "version": version, "process": "mongod", "pid": Int64(4242),
            "uptime": uptime_ms / 1000, "uptimeMillis": Int64(int(uptime_ms)),
            "uptimeEstimate": Int64(int(uptime_ms // 1000)), "localTime": at}


def _extra_info(cpu_us: float) -> dict[str, Any]:
    user = int(cpu_us * 0.8)
    return {"note": "fields vary by platform", "user_time_us": Int64(user), "system_time_us": Int64(int(cpu_us) - user),
            "maximum_resident_set_kb": Int64(1_048_576), "input_blocks": Int64(72632), "output_blocks": Int64(1200),
            "page_reclaims": Int64(21497), "page_faults": Int64(294), "voluntary_context_switches": Int64(1681),
            "involuntary_context_switches": Int64(478)}


def _global_lock(readers: int, writers: int, uptime_ms: float) -> dict[str, Any]:
    return {"totalTime": Int64(int(uptime_ms * 1000)),
            "currentQueue": {"total": readers + writers, "readers": readers, "writers": writers},
            "activeClients": {"total": 12, "readers": 1, "writers": 0}}


def _tickets(out: int, total: int) -> dict[str, Any]:
    return {"out": out, "available": total - out, "totalTickets": total}


def _queue_info(queued: int) -> dict[str, Any]:
    return {"addedToQueue": Int64(900 + queued), "removedFromQueue": Int64(900), "queueLength": Int64(queued),
            "startedProcessing": Int64(52_000), "processing": Int64(3), "finishedProcessing": Int64(51_997),
            "totalTimeProcessingMicros": Int64(9_000_000), "canceled": Int64(0), "newAdmissions": Int64(51_000),
            "totalTimeQueuedMicros": Int64(12_000)}


def _admission(version: str, queued: int) -> dict[str, Any]:
    major = int(version.split(".")[0])
    if major < 7:
        return {"wiredTiger": {"concurrentTransactions": {"write": _tickets(0, 128), "read": _tickets(1, 128)}}}
    if major == 7:
        pools = {side: {**_tickets(4, 8), **{k: v for k, v in _queue_info(queued if side == "write" else 0).items()
                                               if k != "totalTimeQueuedMicros"}} for side in ("write", "read")}
        return {"wiredTiger": {"concurrentTransactions": pools}}
    pool = {side: {**_tickets(8 if side == "write" and queued else 2, 8), "exempt": _queue_info(0),
                   "normalPriority": _queue_info(queued if side == "write" else 0)} for side in ("write", "read")}
    monitor = {"timesDecreased": Int64(0), "timesIncreased": Int64(2), "totalAmountDecreased": Int64(0),
               "totalAmountIncreased": Int64(8), "resizeDurationMicros": Int64(40)}
    ingress = {**_tickets(1, 1_000_000), "exempt": _queue_info(0), "normalPriority": _queue_info(0)}
    return {"queues": {"execution": {**pool, "monitor": monitor}, "ingress": ingress}}


def server_status(version: str, *, cpu_us: float = 1_004_980, uptime_ms: float = 86_400_000,
                  queued: tuple[int, int] = (0, 0), admission_queued: int = 0, at: datetime = T0,
                  linux: bool = True) -> dict[str, Any]:
    """serverStatus of a mongod of ``version``: CPU time, lock queue (readers, writers), admission queue."""
    doc: dict[str, Any] = _instance(version, uptime_ms, at)
    doc["extra_info"] = _extra_info(cpu_us) if linux else {"note": "fields vary by platform", "page_faults": 294}
    doc["globalLock"] = _global_lock(*queued, uptime_ms)
    doc |= _admission(version, admission_queued)
    doc["opcounters"] = {"insert": Int64(316), "query": Int64(12), "update": Int64(0), "delete": Int64(0),
                         "getmore": Int64(0), "command": Int64(7882)}
    doc["ok"] = 1.0
    return doc


def host_info(version: str, cores: int = 4, available: int | None = None) -> dict[str, Any]:
    system: dict[str, Any] = {"currentTime": T0, "hostname": "db0.example.net", "cpuAddrSize": 64,
                              "memSizeMB": Int64(15_988), "numCores": cores, "cpuArch": "x86_64", "numaEnabled": False}
    if int(version.split(".")[0]) >= 6:
        system |= {"memLimitMB": Int64(15_988), "numPhysicalCores": cores, "numCpuSockets": 1, "numNumaNodes": 1}
    if int(version.split(".")[0]) >= 8:
        system["numCoresAvailableToProcess"] = cores if available is None else available
    return {"system": system, "os": {"type": "Linux", "name": "Ubuntu", "version": "22.04"},
            "extra": {"versionString": "Linux version 6.5.0", "libcVersion": "2.35", "kernelVersion": "6.5.0",
                      "cpuFrequencyMHz": "2400.000", "cpuFeatures": "fpu vme de pse", "pageSize": Int64(4096),
                      "numPages": 4_092_928, "maxOpenFiles": 64_000}, "ok": 1.0}


def _member(ident: int, name: str, state: str, optime: datetime) -> dict[str, Any]:
    code = {"PRIMARY": 1, "SECONDARY": 2, "ARBITER": 7}[state]
    member: dict[str, Any] = {"_id": ident, "name": name, "health": 1.0, "state": code, "stateStr": state,
                              "uptime": 86_400, "configVersion": 3, "configTerm": Int64(7)}
    if state != "ARBITER":
        member |= {"optime": {"ts": Timestamp(int(optime.timestamp()), 1), "t": Int64(7)}, "optimeDate": optime,
                   "lastAppliedWallTime": optime, "lastDurableWallTime": optime}
    return member


def repl_set_status(lags: dict[str, float], at: datetime = T0, arbiter: bool = True) -> dict[str, Any]:
    """replSetGetStatus of set rs0 seen from its primary db0: each named secondary ``lags[name]`` seconds behind."""
    members = [_member(0, "db0.example.net:27017", "PRIMARY", at)]
    members += [_member(i + 1, name, "SECONDARY", at - timedelta(seconds=lag))
                for i, (name, lag) in enumerate(lags.items())]
    if arbiter:
        members.append(_member(len(members), "arb.example.net:27017", "ARBITER", at))
    return {"set": "rs0", "date": at, "myState": 1, "term": Int64(7), "heartbeatIntervalMillis": Int64(2000),
            "majorityVoteCount": 2, "writeMajorityCount": 2, "votingMembersCount": len(members),
            "members": members, "ok": 1.0}


def hello(version: str, *, set_name: str = "rs0", me: str = "db0.example.net:27017",
          hosts: tuple[str, ...] = ("db0.example.net:27017", "db1.example.net:27017")) -> dict[str, Any]:
    """hello of a primary (a standalone when ``set_name`` is empty); shape from the manual's ``hello`` page."""
    major = int(version.split(".")[0])
    doc: dict[str, Any] = {"isWritablePrimary": True, "topologyVersion": {"counter": Int64(6)},
                           "maxBsonObjectSize": 16_777_216, "maxMessageSizeBytes": 48_000_000,
                           "maxWriteBatchSize": 100_000, "localTime": T0, "logicalSessionTimeoutMinutes": 30,
                           "connectionId": 42, "minWireVersion": 0, "readOnly": False, "ok": 1.0,
                           "maxWireVersion": {5: 13, 6: 17, 7: 21, 8: 25}[major]}
    if set_name:
        doc |= {"hosts": list(hosts), "setName": set_name, "setVersion": 3, "secondary": False,
                "primary": me, "me": me}
    return doc
