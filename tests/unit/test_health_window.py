"""The health window: the sampler (against scripted replies of real shape), the file other processes read,
and the series judged from it (CPU %, mean weighted by time, p95, peak and when, own operations left out)."""
from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from pymongo.errors import AutoReconnect, OperationFailure

from cutover.data import health_series as hs
from cutover.data.health_window import NOTHING_TO_SAMPLE, Sample, Sampler, Window, claim, read_window
from cutover.errors import CouldNotVerify, TargetTimeout
from cutover.model import Database, Source, Target
from cutover.session import Session
from tests.server_docs import hello, host_info, repl_set_status, server_status

INTERVAL = 0.02


class Server:
    """Answers admin commands from per-command scripts: a function of the call number, or an exception."""

    def __init__(self, **scripts: Callable[[int], Any]) -> None:
        self.scripts = scripts
        self.calls: dict[str, int] = {}
        self.admin = SimpleNamespace(command=self.command)

    def command(self, cmd: Any) -> Any:
        name = next(iter(cmd)) if isinstance(cmd, dict) else cmd
        n = self.calls.get(name, 0)
        self.calls[name] = n + 1
        reply = self.scripts[name](n)
        if isinstance(reply, Exception):
            raise reply
        return reply


def replica_set(**overrides: Callable[[int], Any]) -> Server:
    scripts: dict[str, Callable[[int], Any]] = {
        "hello": lambda n: hello("8.0.4"), "hostInfo": lambda n: host_info("8.0.4", cores=4),
        "serverStatus": lambda n: server_status("8.0.4", cpu_us=1e6 + n * 4e4, uptime_ms=1e5 + n * 100),
        "replSetGetStatus": lambda n: repl_set_status({"db1.example.net:27017": float(n)}),
        "currentOp": lambda n: {"inprog": [{"appName": "cutover", "waitingForLock": n == 2}], "ok": 1.0}}
    return Server(**{**scripts, **overrides})


def run(server: Server, path: Path, window_s: float = 10 * INTERVAL) -> Window:
    Sampler(server, path, window_s, INTERVAL).start()
    return read_window(path, wait_s=10)


def test_a_window_samples_every_interval_and_ends_done(tmp_path: Path) -> None:
    server = replica_set()
    window = run(server, tmp_path / "w.json")
    assert window.state == "done" and not window.failures
    assert len(window.samples) == 11 == server.calls["serverStatus"] == server.calls["replSetGetStatus"]
    assert (window.topology, window.set_name, window.cores) == ("replica set", "rs0", 4)
    first, last = window.samples[0], window.samples[-1]
    assert first.figures["lag:db1.example.net:27017"] == 0 and last.figures["lag:db1.example.net:27017"] == 10
    assert last.offset_s >= 10 * INTERVAL and first.at.endswith("Z")


def test_cpu_is_a_share_of_the_cores_per_interval(tmp_path: Path) -> None:
    """40 ms of CPU per 100 ms of uptime on 4 cores: 10% in every interval and over the window."""
    window = run(replica_set(), tmp_path / "w.json")
    series, mean = hs.cpu(window), hs.cpu_mean(window)
    assert series is not None and mean is not None
    assert [round(p.value, 6) for p in series.points] == [10.0] * 10 and round(mean, 6) == 10.0
    assert series.figure == "CPU time (extra_info user+system, 4 cores)"


def test_the_stand_in_reporting_nothing_ends_after_one_sample(tmp_path: Path) -> None:
    """mongoeco marks its replies (gitVersion, a `mongoeco` section): what it lacks is its limit, said so."""
    bare = {"version": "7.0.0", "process": "mongod", "uptimeMillis": 5, "mongoeco": {"embedded": True}, "ok": 1.0}
    stand_in_hello = hello("7.0.0", set_name="") | {"gitVersion": "mongoeco"}
    server = replica_set(hello=lambda n: stand_in_hello, serverStatus=lambda n: bare)
    window = run(server, tmp_path / "w.json", window_s=60)
    assert len(window.samples) == 1 and window.state == "done" and NOTHING_TO_SAMPLE in window.notes
    assert hs.cpu(window) is None and hs.lock_queue(window) is None and hs.admission_queue(window) is None
    assert window.stand_in and hs.cpu_not_reported(window).startswith("the sandbox's stand-in (mongoeco) reports no "
                                                                       "process CPU time")
    assert hs.stand_in_facts(window)["stand_in"]["cannot"].startswith("reports no CPU time")


def test_a_real_server_missing_a_figure_is_an_error_naming_version_and_field(tmp_path: Path) -> None:
    """A mongod that reports no globalLock.currentQueue is a reply cutover does not know: never not applicable."""
    status = replica_set().scripts["serverStatus"]
    server = replica_set(serverStatus=lambda n: {k: v for k, v in status(n).items() if k != "globalLock"})
    window = run(server, tmp_path / "w.json")
    assert not window.stand_in and hs.cpu(window) is not None    # the other figures are still judged
    with pytest.raises(CouldNotVerify, match=r"lock queue .* could not be read: MongoDB 8\.0\.4: serverStatus reply: "
                                             r"globalLock\.currentQueue is absent"):
        hs.lock_queue(window)


def test_a_failed_sample_is_kept_as_a_gap_that_makes_the_window_unusable(tmp_path: Path) -> None:
    status = replica_set().scripts["serverStatus"]
    server = replica_set(serverStatus=lambda n: AutoReconnect("connection reset") if n == 3 else status(n))
    window = run(server, tmp_path / "w.json")
    assert len(window.samples) == 10 and len(window.failures) == 1 and "AutoReconnect" in window.failures[0]
    with pytest.raises(CouldNotVerify, match="1 of 11 health samples failed"):
        hs.usable(window)


def test_refused_current_op_is_noted_and_not_asked_again(tmp_path: Path) -> None:
    refused = OperationFailure("not authorized on admin to execute command", code=13)
    server = replica_set(currentOp=lambda n: refused)
    window = run(server, tmp_path / "w.json")
    assert server.calls["currentOp"] == 1 and window.state == "done"
    assert any("own operations are not counted" in note for note in window.notes)
    assert hs.own_load(window) == "this run's own operations could not be counted (currentOp)"


def test_refused_host_info_makes_cpu_unverifiable_not_inapplicable(tmp_path: Path) -> None:
    """hostInfo needs the clusterMonitor role: a refusal is "could not verify", never "not applicable"."""
    refused = OperationFailure("not authorized on admin to execute command { hostInfo: 1 }", code=13)
    window = run(replica_set(hostInfo=lambda n: refused), tmp_path / "w.json")
    assert window.cores is None and "not authorized" in window.unread["cores"]
    with pytest.raises(CouldNotVerify, match="number of cores could not be read"):
        hs.cpu(window)


def test_refused_repl_set_status_makes_only_the_lag_unverifiable(tmp_path: Path) -> None:
    refused = OperationFailure("not authorized on admin to execute command { replSetGetStatus: 1 }", code=13)
    window = hs.usable(run(replica_set(replSetGetStatus=lambda n: refused), tmp_path / "w.json"))
    with pytest.raises(CouldNotVerify, match="replication lag could not be sampled"):
        hs.lag(window)
    assert hs.cpu(window) is not None and hs.lock_queue(window) is not None


@pytest.mark.parametrize(("reply", "why"), [
    (AutoReconnect("connection refused"), "could not learn the server's role"),
    ({"isWritablePrimary": True, "msg": "isdbgrid", "ok": 1.0}, "sharded cluster reached through mongos"),
])
def test_a_window_of_unknown_role_or_through_mongos_cannot_be_judged(tmp_path: Path, reply: Any, why: str) -> None:
    window = run(replica_set(hello=lambda n: reply), tmp_path / "w.json")
    with pytest.raises(CouldNotVerify, match=why):
        hs.usable(window)


def test_close_stops_the_sampler_and_readers_learn_it_was_cut_short(tmp_path: Path) -> None:
    path = tmp_path / "w.json"
    sampler = Sampler(replica_set(), path, window_s=60, interval_s=5).start()
    sampler.close()
    window = read_window(path, wait_s=10)
    assert window.state == "stopped"
    with pytest.raises(CouldNotVerify, match="cut short"):
        hs.usable(window)


def test_closing_the_session_stops_a_sampler_it_keeps(tmp_path: Path) -> None:
    """Every way a run ends reaches Session.close(): a sampler kept by the session stops with it."""
    target = Target(name="t", source=Source(uri="mongodb://h/src"), database=Database(uri="mongodb://h/dst"))
    session = Session(target)
    session.keep(Sampler(replica_set(), tmp_path / "w.json", window_s=60, interval_s=5).start())
    session.close()
    assert read_window(tmp_path / "w.json", wait_s=10).state == "stopped"


def test_reading_a_window_that_never_finishes_times_out(tmp_path: Path) -> None:
    path = tmp_path / "w.json"
    path.write_text(Window(60, 5).to_json())
    with pytest.raises(TargetTimeout, match="not finished within 0 s"):
        read_window(path, wait_s=0.05, poll_s=0.01)


def test_only_one_process_claims_the_sampler(tmp_path: Path) -> None:
    wins: list[bool] = []
    threads = [threading.Thread(target=lambda: wins.append(claim(tmp_path / "claim"))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(wins) == [False] * 7 + [True]


def window_of(values: list[dict[str, float]], cores: int | None = 2) -> Window:
    samples = tuple(Sample(float(i * 5), f"2026-11-30T12:00:{i * 5:02d}.000Z", figures)
                    for i, figures in enumerate(values))
    return Window(60, 5, started="2026-11-30T12:00:00.000Z", state="done", topology="replica set", set_name="rs0",
                  cores=cores, samples=samples)


def test_series_statistics_and_the_peak_named_with_its_time() -> None:
    window = window_of([{"lock_queue": v} for v in [0, 0, 3, 25, 25, 1, 0, 0, 0, 0, 0, 0, 0]])
    series = hs.lock_queue(window)
    assert series is not None
    assert (series.max, series.p95, series.last) == (25, 25, 0)
    assert series.peak_text() == "peak 25 operations at 2026-11-30T12:00:15.000Z (15.0 s into the window)"
    assert series.chart(0)["points"][3] == [15.0, 25]


def test_p95_is_the_nearest_rank() -> None:
    series = hs.lock_queue(window_of([{"lock_queue": float(v)} for v in range(1, 21)]))
    assert series is not None and series.p95 == 19


def test_this_suites_own_waiting_operations_are_left_out_of_the_lock_queue() -> None:
    window = window_of([{"lock_queue": 2, "own_waiting": 2, "own_ops": 3}, {"lock_queue": 5, "own_waiting": 1}])
    series = hs.lock_queue(window)
    assert series is not None and [p.value for p in series.points] == [0, 4]


def test_cpu_mean_is_weighted_by_time_not_by_sample() -> None:
    """1 s at 100% of 2 cores, then 3 s idle: 25% over the window (the mean of the two samples would say 50%)."""
    window = window_of([{"cpu_us": 0, "uptime_ms": 0}, {"cpu_us": 2e6, "uptime_ms": 1000},
                        {"cpu_us": 2e6, "uptime_ms": 4000}])
    series = hs.cpu(window)
    assert series is not None and [p.value for p in series.points] == [100.0, 0.0]
    assert hs.cpu_mean(window) == 25.0


def test_cpu_without_cores_is_not_reported() -> None:
    window = window_of([{"cpu_us": 0, "uptime_ms": 0}, {"cpu_us": 1, "uptime_ms": 1}], cores=None)
    assert hs.cpu(window) is None and "numCores" in hs.cpu_not_reported(window)


def test_a_restarted_server_cannot_be_judged() -> None:
    window = window_of([{"cpu_us": 5e6, "uptime_ms": 9000}, {"cpu_us": 1e3, "uptime_ms": 10}])
    with pytest.raises(CouldNotVerify, match="restarted"):
        hs.cpu(window)


def test_lag_is_one_series_per_secondary() -> None:
    window = window_of([{"lag:b:27017": 1.0, "lag:c:27017": 0.0}, {"lag:b:27017": 14.0}])
    assert [(s.figure, s.max, len(s.points)) for s in hs.lag(window)] == [
        ("replication lag of b:27017", 14.0, 2), ("replication lag of c:27017", 0.0, 1)]


def test_the_own_load_hint_appears_only_when_the_suite_was_busy() -> None:
    assert hs.own_load_hint(window_of([{"own_ops": 0}, {"own_ops": 0}])) == ""
    hint = hs.own_load_hint(window_of([{"own_ops": 2}, {"own_ops": 0}]))
    assert "in 1 of 2 samples" in hint and "-k test_health" in hint


def test_the_window_round_trips_through_json() -> None:
    window = window_of([{"lock_queue": 1.0}], cores=8)
    assert Window.from_json(window.to_json()) == window
