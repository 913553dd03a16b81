"""Live mode on real servers: the traffic keeps its rate, every write reaches the target about the lag later,
a drain leaves both sides equal byte for byte, a paused sync leaves a growing difference, nothing outlives a stop.

One sandbox in live mode is shared by the module; each test starts from a drained state (traffic off, every
write copied, the sync running) and sets the rate and lag it needs. Times are wall-clock seconds, the clock
the live child journals with.
"""
from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from bson.raw_bson import RawBSONDocument

from cutover.errors import SandboxError
from cutover.sandbox.cache_dir import default_cache_dir
from cutover.sandbox.live import LiveControl, LiveOp, count_tolerance
from cutover.sandbox.migrate import collection_infos, raw
from cutover.sandbox.process import port_open
from cutover.sandbox.stack import Sandbox
from tests.proctable import alive, descendants

pytestmark = pytest.mark.sandbox
REPO = Path(__file__).resolve().parents[2]
CACHE = default_cache_dir()
SCALE = 300
WRITTEN = ("GameScore", "Player", "Post", "_User")  # the classes the traffic writes
POLL_S = 0.05


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    sandbox = Sandbox(tmp_path_factory.mktemp("live"), scale=SCALE, cache_dir=CACHE)
    with sandbox:
        sandbox.live(rate=10.0, lag_s=1.0)
        yield sandbox


@pytest.fixture
def live(box: Sandbox) -> LiveControl:
    """The module's live control, drained: traffic off, nothing in flight, the sync running."""
    control = box.live_control
    assert control is not None
    control.resume_sync()
    control.set_lag(1.0)
    control.drain(timeout_s=60)
    return control


def documents(box: Sandbox, uri: str, name: str) -> dict[Any, bytes]:
    return {doc["_id"]: bytes(doc.raw) for doc in raw(box.db(uri)[name]).find()
            if isinstance(doc, RawBSONDocument)}


def differing(box: Sandbox, names: tuple[str, ...] = WRITTEN) -> dict[str, int]:
    """Per class: objects missing, extra or with other bytes on the target."""
    found = {}
    for name in names:
        src, dst = documents(box, box.ep.source_uri, name), documents(box, box.ep.target_uri, name)
        found[name] = sum(src.get(k) != dst.get(k) for k in src.keys() | dst.keys())
    return found


def measured_rate(live: LiveControl, seconds: float) -> float:
    before, t0 = live.status().written, time.monotonic()
    time.sleep(seconds)
    return (live.status().written - before) / (time.monotonic() - t0)


# -- rate ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("rate", [4.0, 12.0])
def test_the_traffic_writes_at_the_rate_asked(live: LiveControl, rate: float) -> None:
    live.start_traffic(rate)
    time.sleep(1.0)  # past the first slots
    achieved = measured_rate(live, 6.0)
    status = live.stop_traffic()
    assert status.traffic_errors == 0, status.traffic_last_error
    # Low: a loaded machine may slow single writes, never the schedule by a fifth. High: a schedule never
    # runs ahead; the margin is the writes under way at either end of the window (one per worker).
    assert 0.8 * rate <= achieved <= rate + 3 / 6.0, f"{achieved:.2f} writes/s for {rate} asked"


# -- lag -------------------------------------------------------------------------------------------------
class TargetWatcher:
    """Polls the target for each journaled write and notes when the target first shows it."""

    def __init__(self, box: Sandbox, live: LiveControl) -> None:
        self.db, self.live = box.db(box.ep.target_uri), live
        self.ops: dict[int, LiveOp] = {}
        self.seen: dict[int, float] = {}
        self.present_after: dict[int, float] = {}  # delete seq -> when its object was last seen present
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        last = max((op.seq for op in self.live.ops(0)), default=0)
        while not self.stop.is_set():
            for op in self.live.ops(last):
                self.ops[op.seq], last = op, op.seq
            self._poll()
            time.sleep(POLL_S)

    def _poll(self) -> None:
        waiting = [op for seq, op in self.ops.items() if seq not in self.seen]
        for cls in {op.cls for op in waiting}:
            ids = [op.object_id for op in waiting if op.cls == cls]
            found = {d["_id"]: d["_updated_at"].replace(tzinfo=UTC).timestamp()
                     for d in self.db[cls].find({"_id": {"$in": ids}}, {"_updated_at": 1})}
            now = time.time()  # after the answer: the target showed this by now, maybe a little earlier
            for op in (op for op in waiting if op.cls == cls):
                self._note(op, found, now)

    def _note(self, op: LiveOp, found: dict[str, float], now: float) -> None:
        if op.kind == "delete":
            if op.object_id in found:
                self.present_after[op.seq] = now
            elif op.seq in self.present_after:
                self.seen[op.seq] = now
        elif op.object_id in found and op.updated_at is not None and found[op.object_id] >= op.updated_at - 5e-4:
            self.seen[op.seq] = now


def superseded(op: LiveOp, ops: dict[int, LiveOp]) -> bool:
    """A later write on the same object may hide this one from a poller (an update then a delete)."""
    return any(o.object_id == op.object_id and o.seq > op.seq for o in ops.values())


def test_every_write_reaches_the_target_about_the_lag_later(box: Sandbox, live: LiveControl) -> None:
    lag = 1.5
    live.set_lag(lag)
    watcher = TargetWatcher(box, live)
    watcher.thread.start()
    live.start_traffic(10.0)
    time.sleep(8.0)
    live.stop_traffic()
    deadline = time.monotonic() + lag + 10
    while time.monotonic() < deadline and len(watcher.seen) < len(watcher.ops):
        time.sleep(0.2)
    watcher.stop.set()
    watcher.thread.join(5)
    ops = watcher.ops
    unseen = [op for seq, op in ops.items() if seq not in watcher.seen and not superseded(op, ops)]
    lags = sorted(watcher.seen[seq] - ops[seq].written_at for seq in watcher.seen)
    figures = {"writes": len(ops), "seen": len(lags), "min_s": lags[0], "p50_s": lags[len(lags) // 2],
               "p95_s": lags[int(0.95 * len(lags))], "max_s": lags[-1]}
    print(f"observed lag (lag {lag} s): {figures}")  # shown with -rP
    assert len(ops) >= 60 and not unseen, f"{len(unseen)} writes never reached the target: {unseen[:3]}"
    assert lags[0] >= lag, f"a write reached the target {lags[0]:.3f} s after it was made, before the lag"
    assert figures["p95_s"] <= lag + 1.0 and lags[-1] <= lag + 3.0, figures


def test_the_lag_can_be_changed_while_running(live: LiveControl) -> None:
    live.set_lag(0.2)
    live.start_traffic(10.0)
    time.sleep(3.0)
    short = live.status()
    changed = live.set_lag(2.5)
    time.sleep(4.0)
    long = live.stop_traffic()
    assert short.in_flight <= 6 and short.current_lag_s < 1.0, short
    assert long.in_flight >= 15 and long.current_lag_s >= 2.0, long
    after = [op for op in live.ops(since=changed.written) if op.applied_at is not None]
    assert after and min(op.applied_at - op.written_at for op in after if op.applied_at) >= 2.5


# -- drain, pause ----------------------------------------------------------------------------------------
def test_a_drain_leaves_every_collection_equal_byte_for_byte(box: Sandbox, live: LiveControl) -> None:
    live.set_lag(2.0)
    live.start_traffic(20.0)
    time.sleep(4.0)
    assert sum(differing(box).values()) > 0, "writes in flight should differ: the comparison proves nothing"
    status = live.drain(timeout_s=60)
    assert status.in_flight == 0 and status.synced == status.written >= 40, status
    assert (status.traffic_errors, status.sync_errors) == (0, 0), (status.traffic_last_error, status.sync_last_error)
    names = [str(info["name"]) for info in collection_infos(box.db(box.ep.source_uri))]
    assert differing(box, tuple(names)) == dict.fromkeys(names, 0)


def test_a_paused_sync_leaves_a_growing_difference_and_loses_nothing(box: Sandbox, live: LiveControl) -> None:
    live.set_lag(0.2)
    paused = live.pause_sync()
    live.start_traffic(10.0)
    time.sleep(2.0)
    early, early_status = sum(differing(box).values()), live.status()
    time.sleep(3.0)
    late, late_status = sum(differing(box).values()), live.status()
    print(f"paused sync: {early} objects differ after 2 s, {late} after 5 s")  # shown with -rP
    assert 0 < early < late, f"difference {early} then {late}: a stopped sync must leave a growing one"
    assert late_status.synced == early_status.synced == paused.synced
    assert late_status.current_lag_s >= 4.0 and late_status.in_flight > early_status.in_flight
    with pytest.raises(SandboxError, match="the sync is paused"):
        live.drain(timeout_s=5)
    live.resume_sync()
    assert live.drain(timeout_s=60).in_flight == 0
    assert sum(differing(box).values()) == 0


# -- the target, the CLI, the stop -----------------------------------------------------------------------
def test_the_target_declares_the_live_sync_and_one_live_mode_only(box: Sandbox) -> None:
    assert box.live_spec is not None
    database = box.target().database
    assert database.live_sync and database.count_tolerance == count_tolerance(box.live_spec) > 0
    assert database.sync_lag_s == box.live_spec.lag_s      # DB-02's settle delay (docs/live-sync.md)
    with pytest.raises(SandboxError, match="already running"):
        box.live(rate=1.0)


def test_python_m_sandbox_live_prints_counters_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    argv = [sys.executable, "-m", "cutover.sandbox", "--scale", "100", "--run-dir", str(tmp_path / "run"),
            "--cache-dir", str(CACHE), "--live", "5", "--lag", "1", "--status-every", "1"]
    proc = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []

    def read() -> None:
        for line in proc.stdout or ():
            lines.append(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 240
        while not re.search(r"live: [1-9]\d* written", "".join(lines)) and time.monotonic() < deadline:
            assert proc.poll() is None, "".join(lines)
            time.sleep(0.2)
        out = "".join(lines)
        assert re.search(r"live: [1-9]\d* written", out), out
        control = re.search(r"live control +http://127\.0\.0\.1:(\d+)", out)
        assert control and "live_sync = true" in out, out
        pids = descendants(proc.pid)
        assert any("live_main" in (Path("/proc") / str(p) / "cmdline").read_text() for p in pids)
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=60)
        reader.join(5)
    assert code == 0 and "sandbox stopped" in "".join(lines)
    assert not [p for p in pids if alive(p)], "a process outlived the sandbox"
    assert not port_open("127.0.0.1", int(control.group(1)))
