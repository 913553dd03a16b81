"""Deployment health (DB-06): the seed's Telemetry checks over a sampled window, failover, storage headroom.

CPU time, queues and replication lag are sampled once per run over `health_window_s`, from collection on
(``cutover_pytest.health_window``): the window overlaps the other checks, and these checks run last, waiting
only for what is left of it. A figure the server does not report is "not applicable" on this server (an
explicit skip with its reason), never a pass.
"""
from __future__ import annotations

from typing import Any

import pytest

from cutover.data import Series, Topology, Window, health_series
from cutover.model import Target, Thresholds
from cutover.session import Session
from cutover_pytest.params import not_applicable, parametrize

DEFAULT_WINDOW_S = Thresholds().health_window_s


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    parametrize(metafunc, "quota", _declared_quota,
                not_applicable("no storage quota declared (database.storage_quota_bytes)"))


def _declared_quota(session: Session) -> list[tuple[str, int]]:
    quota = session.target.database.storage_quota_bytes
    return [("quota", quota)] if quota > 0 else []


def _window_facts(window: Window) -> dict[str, Any]:
    declared = "" if window.window_s >= DEFAULT_WINDOW_S else \
        f"shorter than the {DEFAULT_WINDOW_S:g} s default: declared by this target (health_window_s)"
    return {"window": {"started": window.started, "declared_s": window.window_s, "interval_s": window.interval_s,
                       "sampled_s": window.length_s, "note": declared,
                       "overlap": "sampled while this run's other checks ran; " + health_series.own_load(window),
                       "server_notes": list(window.notes), "cores": window.cores,
                       "samples": [{"offset_s": s.offset_s, "at": s.at, **s.figures} for s in window.samples]}}


def _record(key: str, series: Series, limit: float, record_facts: Any, report_series: Any, **more: Any) -> None:
    record_facts(**{key: {**series.facts(), "limit": limit, **more}})
    report_series(series.chart(limit))


@pytest.mark.criterion("DB-06")
def test_writable_primary(session: Session, record_facts: Any) -> None:
    """DB-06: the target's server is a writable primary."""
    topo = session.data.topology()
    record_facts(topology=topo.kind, set_name=topo.set_name, writable_primary=topo.writable_primary)
    assert topo.writable_primary, f"target database ({topo.kind}) is not a writable primary"


@pytest.mark.criterion("DB-06")
def test_replica_set(session: Session, target: Target, record_facts: Any) -> None:
    """DB-06: a production target runs on a replica set with at least two electable members (failover)."""
    topo = session.data.topology()
    record_facts(topology=topo.kind, set_name=topo.set_name, electable=list(topo.hosts), production=target.production)
    if topo.kind == "sharded":
        pytest.skip("not applicable: a sharded cluster through mongos; each shard is a replica set")
    failover = topo.kind == "replica set" and len(topo.hosts) >= 2
    if not target.production and not failover:
        pytest.skip(f"not applicable: no replica set to fail over to ({topo.kind} server, production = false)")
    assert failover, (f"{_no_failover(topo)} for a production target (production = true); expected a replica "
                      "set with at least 2 electable members")


def _no_failover(topo: Topology) -> str:
    if topo.kind == "replica set":
        return (f"target database: replica set {topo.set_name} has {len(topo.hosts)} electable member(s) "
                f"({', '.join(topo.hosts)}): no failover")
    return f"target database is a {topo.kind} server: no replica set, so no failover"


@pytest.mark.criterion("DB-06")
@pytest.mark.health_window
def test_cpu(health_window: Window, target: Target, record_facts: Any, report_series: Any) -> None:
    """DB-06: the server's CPU time, averaged over the window, stays under `cpu_max_percent` of its cores."""
    record_facts(**_window_facts(health_window))
    series, mean = health_series.cpu(health_window), health_series.cpu_mean(health_window)
    if series is None or mean is None:
        record_facts(**health_series.stand_in_facts(health_window))
        pytest.skip(f"not applicable: {health_series.cpu_not_reported(health_window)}")
    limit = target.thresholds.cpu_max_percent
    _record("cpu", series, limit, record_facts, report_series, mean=mean)
    assert mean < limit, (
        f"target database: CPU time averaged {mean:.1f}% of {health_window.cores} cores over the "
        f"{health_window.length_s:.0f} s window (limit {limit:g}%); {series.peak_text()}, p95 "
        f"{series.p95:.1f}%, last {series.last:.1f}%{health_series.own_load_hint(health_window)}")


@pytest.mark.criterion("DB-06")
@pytest.mark.health_window
def test_lock_queue(health_window: Window, target: Target, record_facts: Any, report_series: Any) -> None:
    """DB-06: no operations queue for a lock at any sample of the window (other clients' operations)."""
    record_facts(**_window_facts(health_window))
    unreported = (f"{health_series.not_reported(health_window, 'lock queue')} (serverStatus has no "
                  "globalLock.currentQueue: a mongos or the stand-in; every mongod reports one)")
    _judge_queue(health_window, "lock_queue", health_series.lock_queue(health_window), target.thresholds.lock_queue_max,
                 unreported, record_facts, report_series)


@pytest.mark.criterion("DB-06")
@pytest.mark.health_window
def test_admission_queue(health_window: Window, target: Target, record_facts: Any, report_series: Any) -> None:
    """DB-06: no operations wait for an execution or ingress ticket at any sample (MongoDB 7.0 and later)."""
    record_facts(**_window_facts(health_window))
    tickets = health_series.tickets_available(health_window)
    if tickets is not None:
        record_facts(tickets_available=tickets.facts())
    unreported = (f"{health_series.not_reported(health_window, 'admission queue length')} (queues.execution, "
                  "wiredTiger.concurrentTransactions queueLength); before MongoDB 7.0 an operation waiting for a "
                  "ticket is counted in the lock queue")
    _judge_queue(health_window, "admission_queue", health_series.admission_queue(health_window),
                 target.thresholds.admission_queue_max, unreported, record_facts, report_series)


def _judge_queue(window: Window, key: str, series: Series | None, limit: float, unreported: str, record_facts: Any,
                 report_series: Any) -> None:
    """One queue of the window: never longer than ``limit`` at any sample; not applicable (``unreported``: why)
    where the server does not report it."""
    __tracebackhide__ = True
    if series is None:
        record_facts(**health_series.stand_in_facts(window))
        pytest.skip(f"not applicable: {unreported}")
    _record(key, series, limit, record_facts, report_series)
    assert series.max <= limit, (
        f"target database: {series.figure} {series.peak_text()} (limit {limit}); p95 {series.p95:g}, "
        f"last {series.last:g}")


@pytest.mark.criterion("DB-06")
@pytest.mark.health_window
def test_replication_lag(health_window: Window, target: Target, record_facts: Any, report_series: Any) -> None:
    """DB-06: every secondary's replication lag stays below `replication_lag_s` at every sample."""
    record_facts(**_window_facts(health_window), topology=health_window.topology)
    if health_window.topology != "replica set":
        record_facts(**health_series.stand_in_facts(health_window))
        pytest.skip(f"not applicable: no replica set ({health_window.topology} server), nothing replicates")
    members = health_series.lag(health_window)
    if not members:
        pytest.skip(f"not applicable: replica set {health_window.set_name} has no secondary to lag")
    limit = target.thresholds.replication_lag_s
    for series in members:
        _record(f"lag {series.figure.rsplit(' ', 1)[-1]}", series, limit, record_facts, report_series)
    slow = [f"{s.figure} {s.peak_text()}, from {s.points[0].value:.1f} s at the start to {s.last:.1f} s at the end"
            for s in members if s.max >= limit]
    assert not slow, f"replica set {health_window.set_name}: {'; '.join(slow)} (limit {limit:g} s)"


@pytest.mark.criterion("DB-06")
def test_storage_headroom(session: Session, target: Target, quota: int, record_facts: Any) -> None:
    """DB-06: the declared storage quota is at least `storage_headroom` x (data + index size)."""
    used = session.data.storage_used()
    factor = target.thresholds.storage_headroom
    record_facts(used_bytes=used, quota_bytes=quota, required_factor=factor)
    assert quota >= factor * used, (
        f"target database: quota {quota} bytes is {quota / max(used, 1):.1f}x data+indexes ({used} bytes), "
        f"expected >= {factor}x")


@pytest.mark.criterion("DB-06")
def test_live_sync_delivers(session: Session, target: Target, record_facts: Any, report_table: Any) -> None:
    """DB-06: a declared live sync is delivering: every source change not yet on the target is younger than
    `max_in_flight_s` (a stopped sync, or a lag that keeps growing, fails); observed lag and in-flight
    changes per class recorded."""
    spec = target.database
    if not spec.live_sync:
        pytest.skip("not applicable: no live sync declared (database.live_sync = false)")
    found = session.data.sync_watch()
    lags = [lag for c in found for lag in c.lags]
    rows = [[c.cls, f"{c.in_flight}{'+' if c.capped else ''}", c.arrived, round(c.oldest_s, 1),
             round(max(c.lags), 1) if c.lags else "not observed", "yes" if c.converging else "no"] for c in found]
    report_table("Live sync per class", ["class", "in flight", "arrived while watched", "oldest not arrived (s)",
                                         "observed lag (s, at most)", "converging"], rows)
    record_facts(sync={"observed_lag_max_s": round(max(lags), 2) if lags else "not observed",
                       "declared_lag_s": spec.sync_lag_s or "not declared", "max_in_flight_s": spec.max_in_flight_s,
                       "converging": all(c.converging for c in found),
                       "in_flight": {c.cls: c.in_flight for c in found if c.in_flight},
                       "oldest_not_arrived_s": {c.cls: round(c.oldest_s, 1) for c in found if c.oldest_s}})
    stuck = [f"{c.cls} ({c.in_flight} changes not on the target, oldest {c.oldest_s:.0f} s old, "
             f"{c.arrived} arrived while watched)" for c in found if c.oldest_s > spec.max_in_flight_s]
    assert not stuck, (f"the live sync is not delivering (stopped, or more than max_in_flight_s = "
                       f"{spec.max_in_flight_s:g} s behind): " + "; ".join(stuck))
