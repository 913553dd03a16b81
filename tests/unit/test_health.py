"""cutover.health: topology from `hello`, lag from replSetGetStatus, lock queues from serverStatus."""
from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from cutover import health

T0 = datetime(2026, 1, 1, 12, 0, 0)


def fake_db(replies: dict[str, Any]) -> Any:
    """A stand-in exposing db.client.admin.command(name) -> canned reply (real-server reply shapes)."""
    def command(name: str, *args: Any, **kwargs: Any) -> Any:
        return replies[name]
    return SimpleNamespace(client=SimpleNamespace(admin=SimpleNamespace(command=command)), command=command)


@pytest.mark.parametrize(("hello", "kind", "writable"), [
    ({"isWritablePrimary": True, "setName": "rs0", "me": "a:27017"}, "replica set", True),
    ({"ismaster": False, "secondary": True, "setName": "rs0"}, "replica set", False),
    ({"isWritablePrimary": True, "msg": "isdbgrid"}, "sharded", True),
    ({"isWritablePrimary": True}, "standalone", True),
])
def test_topology(hello: dict[str, Any], kind: str, writable: bool) -> None:
    topo = health.topology(fake_db({"hello": hello}))
    assert (topo.kind, topo.writable_primary) == (kind, writable)


def test_lag_is_the_worst_secondary() -> None:
    status = {"set": "rs0", "members": [
        {"name": "a:27017", "stateStr": "PRIMARY", "optimeDate": T0},
        {"name": "b:27017", "stateStr": "SECONDARY", "optimeDate": T0 - timedelta(seconds=2)},
        {"name": "c:27017", "stateStr": "SECONDARY", "optimeDate": T0 - timedelta(seconds=14)},
        {"name": "d:27017", "stateStr": "ARBITER"},
    ]}
    lag = health.replication_lag(fake_db({"replSetGetStatus": status}))
    assert (lag.seconds, lag.slowest) == (14.0, "c:27017")


def test_no_secondary_means_no_lag() -> None:
    assert health.lag_from_status({"members": [{"stateStr": "PRIMARY", "optimeDate": T0}]}).seconds == 0.0


@pytest.mark.parametrize(("status", "queued"), [
    ({"globalLock": {"currentQueue": {"total": 3, "readers": 1, "writers": 2}}}, 3),
    ({"globalLock": {"currentQueue": {"readers": 1, "writers": 4}}}, 5),
    ({"host": "vm", "version": "7.0.0"}, None),
])
def test_lock_queue(status: dict[str, Any], queued: int | None) -> None:
    assert health.lock_queue(fake_db({"serverStatus": status})) == queued


def test_storage_used_is_data_plus_indexes() -> None:
    assert health.storage_used(fake_db({"dbStats": {"dataSize": 1000, "indexSize": 24, "storageSize": 9}})) == 1024
