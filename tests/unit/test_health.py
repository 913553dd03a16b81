"""cutover.data.health: each figure read from real-shaped serverStatus / hostInfo / replSetGetStatus / hello replies
of MongoDB 5.0, 6.0, 7.0 and 8.0 (tests/server_docs.py says where each shape comes from), and None where a
server does not report it."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from cutover.data import health
from cutover.data.replies import UnknownReply
from cutover.errors import UnexpectedAnswer
from tests.server_docs import VERSIONS, hello, host_info, repl_set_status, server_status

MONGOECO_STATUS = {"host": "vm", "version": "7.0.0", "process": "mongod", "pid": 7, "uptime": 18.4,
                   "uptimeMillis": 18446, "uptimeEstimate": 18, "opcounters": {"insert": 0, "command": 1},
                   "storageEngine": {"name": "memory"}, "mongoeco": {"embedded": True, "dialectVersion": "7.0"},
                   "ok": 1.0}


def fake_db(replies: dict[str, Any]) -> Any:
    """A stand-in exposing db.client.admin.command(name) and db.command(name) -> canned reply."""
    def command(name: str, *args: Any, **kwargs: Any) -> Any:
        return replies[name]
    return SimpleNamespace(client=SimpleNamespace(admin=SimpleNamespace(command=command)), command=command)


@pytest.mark.parametrize("version", VERSIONS)
def test_cpu_time_is_user_plus_system_on_linux(version: str) -> None:
    assert health.cpu_time_us(server_status(version, cpu_us=2_500_000)) == 2_500_000
    assert health.cpu_time_us(server_status(version, linux=False)) is None


@pytest.mark.parametrize("version", VERSIONS)
def test_uptime_in_milliseconds(version: str) -> None:
    assert health.uptime_ms(server_status(version, uptime_ms=123_456)) == 123_456


@pytest.mark.parametrize("version", VERSIONS)
def test_lock_queue_is_the_current_queue_total(version: str) -> None:
    assert health.lock_queue(server_status(version, queued=(3, 4))) == 7
    assert health.lock_queue(server_status(version)) == 0


def test_lock_queue_without_total_adds_readers_and_writers() -> None:
    assert health.lock_queue({"globalLock": {"currentQueue": {"readers": 1, "writers": 4}}}) == 5


@pytest.mark.parametrize(("version", "expected"), [("5.0.26", None), ("6.0.15", None), ("7.0.12", 9), ("8.0.4", 9)])
def test_admission_queue_from_7_0_on(version: str, expected: float | None) -> None:
    """5.0 and 6.0 report tickets only (a ticket wait shows in the lock queue); 7.0 and 8.0 the queue length."""
    assert health.admission_queue(server_status(version, admission_queued=9)) == expected
    if expected is not None:
        assert health.admission_queue(server_status(version)) == 0


@pytest.mark.parametrize(("version", "expected"), [("5.0.26", 127), ("6.0.15", 127), ("7.0.12", 4), ("8.0.4", 0)])
def test_tickets_available_is_the_fewest_free(version: str, expected: float) -> None:
    assert health.tickets_available(server_status(version, admission_queued=2)) == expected


def test_eight_oh_counts_the_ingress_queue_too() -> None:
    status = server_status("8.0.4")
    status["queues"]["ingress"]["normalPriority"]["queueLength"] = 5
    assert health.admission_queue(status) == 5


@pytest.mark.parametrize(("version", "cores"), [("5.0.26", 4), ("6.0.15", 4), ("7.0.12", 4), ("8.0.4", 2)])
def test_cores_prefer_what_the_process_may_use(version: str, cores: int) -> None:
    """8.0-era servers under a CPU limit report numCoresAvailableToProcess below numCores."""
    assert health.cores(host_info(version, cores=4, available=2)) == cores


def test_a_stand_in_reports_none_of_the_figures() -> None:
    """mongoeco 4.11's serverStatus (it marks itself with a `mongoeco` section): no extra_info, globalLock, tickets."""
    readers = (health.cpu_time_us, health.lock_queue, health.admission_queue, health.tickets_available)
    assert [read(MONGOECO_STATUS) for read in readers] == [None, None, None, None]


def test_a_real_server_without_a_figure_it_owes_is_an_error_naming_version_and_field() -> None:
    unmarked = {k: v for k, v in MONGOECO_STATUS.items() if k != "mongoeco"}   # a mongod 7.0.0 without globalLock
    with pytest.raises(UnknownReply, match=r"^MongoDB 7\.0\.0: serverStatus reply: globalLock\.currentQueue is absent"):
        health.lock_queue(unmarked)
    no_queues = server_status("8.0.4")
    del no_queues["queues"]
    with pytest.raises(UnknownReply, match=r"MongoDB 8\.0\.4: serverStatus reply: queues\.execution"):
        health.admission_queue(no_queues)
    assert health.admission_queue(server_status("6.0.15")) is None    # 6.0 genuinely reports no queue length
    with pytest.raises(UnknownReply, match=r"hostInfo reply: system\.numCores is None"):
        health.cores({"system": {"hostname": "db0"}})


def test_lag_per_secondary_ignores_arbiters() -> None:
    status = repl_set_status({"db1.example.net:27017": 2.0, "db2.example.net:27017": 14.5})
    assert health.lag_per_secondary(status) == {"db1.example.net:27017": 2.0, "db2.example.net:27017": 14.5}


def test_no_primary_means_lag_cannot_be_measured() -> None:
    status = repl_set_status({"db1.example.net:27017": 2.0, "db2.example.net:27017": 1.0})
    status["members"][0]["stateStr"] = "SECONDARY"
    status["members"][1]["stateStr"] = "RECOVERING"
    with pytest.raises(UnexpectedAnswer, match="rs0 has no PRIMARY member, so the lag of its 2 secondaries"):
        health.lag_per_secondary(status, "MongoDB 8.0.4")
    status["members"][0]["stateStr"] = status["members"][2]["stateStr"] = "STARTUP2"
    assert health.lag_per_secondary(status) == {}    # nothing replicates to a secondary: nothing lags


def test_a_secondary_without_an_optime_date_is_an_error() -> None:
    status = repl_set_status({"db1.example.net:27017": 2.0})
    del status["members"][1]["optimeDate"]
    with pytest.raises(UnknownReply, match=r"MongoDB 5\.0\.26: replSetGetStatus reply: members\[1\]\.optimeDate "
                                           r"\(db1\.example\.net:27017\) is None"):
        health.lag_per_secondary(status, "MongoDB 5.0.26")


@pytest.mark.parametrize("version", VERSIONS)
def test_topology_of_a_replica_set_primary(version: str) -> None:
    topo = health.topology(fake_db({"hello": hello(version)}))
    assert (topo.kind, topo.writable_primary, topo.set_name) == ("replica set", True, "rs0")
    assert topo.hosts == ("db0.example.net:27017", "db1.example.net:27017")


@pytest.mark.parametrize(("reply", "kind", "writable"), [
    (hello("7.0.12", set_name=""), "standalone", True),
    ({"ismaster": False, "secondary": True, "setName": "rs0"}, "replica set", False),
    ({"isWritablePrimary": True, "msg": "isdbgrid"}, "sharded", True),
])
def test_topology(reply: dict[str, Any], kind: str, writable: bool) -> None:
    topo = health.topology_of(reply)
    assert (topo.kind, topo.writable_primary) == (kind, writable)


def test_storage_used_is_data_plus_indexes() -> None:
    assert health.storage_used(fake_db({"dbStats": {"dataSize": 1000, "indexSize": 24, "storageSize": 9}})) == 1024
