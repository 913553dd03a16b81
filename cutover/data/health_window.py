"""Sampling the target's health figures over a window, once per run, in a background thread.

A :class:`Sampler` reads ``serverStatus`` (and ``replSetGetStatus`` on a replica set) every ``interval_s``
for ``window_s`` and writes the whole :class:`Window` to a JSON file after every sample (atomically), so
any process of the run (pytest-xdist workers included) can read it with :func:`read_window`. The window
starts before the heavy checks and runs while they run: the suite's own operations are counted at each
sample (``currentOp``, this suite's ``appName``) so the judgement can leave them out where the server
allows it, and say so where it does not (CPU time is per process).

Only commands that never block other clients are sent: ``hello``, ``hostInfo``, ``serverStatus``,
``replSetGetStatus``, ``currentOp`` restricted to this user's own operations.
"""
from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cutover.atomic_file import write_atomically
from cutover.data import health
from cutover.data.inventory import call
from cutover.data.replies import is_stand_in, server_of
from cutover.errors import CouldNotVerify, TargetTimeout

SUITE_APP = "cutover"   # the appName of every client of this suite (cutover.data.mongo_client)
_OWN_OPS = {"currentOp": 1, "$ownOps": True, "active": True, "appName": SUITE_APP,
            "command.currentOp": {"$exists": False}}


@dataclass(frozen=True)
class Sample:
    offset_s: float                  # seconds since the window started
    at: str                          # UTC time of the sample, ISO 8601
    figures: dict[str, float]        # only what the server reported; lag per member as "lag:<name>"
    refused: dict[str, str] = field(default_factory=dict)   # figure ("lock_queue", "lag") -> why it was not read


@dataclass(frozen=True)
class Window:
    window_s: float
    interval_s: float
    started: str = ""
    state: str = "running"           # running | done | stopped
    topology: str = ""
    set_name: str = ""
    server: str = ""                 # how messages name the server ("MongoDB 8.0 (wire version 25)")
    stand_in: bool = False           # the sandbox's stand-in answered: what it lacks is its limit, not the target's
    cores: int | None = None
    unread: dict[str, str] = field(default_factory=dict)   # "topology" / "cores" -> why hello / hostInfo failed
    notes: tuple[str, ...] = ()
    samples: tuple[Sample, ...] = ()
    failures: tuple[str, ...] = ()   # "<offset> s: <why>" for each sample that could not be taken

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @staticmethod
    def from_json(text: str) -> Window:
        raw = json.loads(text)
        samples = tuple(Sample(**s) for s in raw.pop("samples"))
        return Window(**{**raw, "notes": tuple(raw["notes"]), "failures": tuple(raw["failures"]),
                         "samples": samples})

    @property
    def length_s(self) -> float:
        return self.samples[-1].offset_s - self.samples[0].offset_s if self.samples else 0.0


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def sample_figures(admin: Any, topology: str, server: str = "") -> tuple[dict[str, float], dict[str, str]]:
    """One sample: the figures this server reports (serverStatus, and replSetGetStatus on a replica set), and the
    figures it could not give, by name, with why (a reply of a shape cutover does not know, a refused command);
    a serverStatus failure fails the whole sample."""
    status = call("reading serverStatus", lambda: admin.command("serverStatus"))
    readers: dict[str, Callable[[Mapping[str, Any]], float | None]] = {
        "cpu_us": health.cpu_time_us, "uptime_ms": health.uptime_ms, "lock_queue": health.lock_queue,
        "admission_queue": health.admission_queue, "tickets_available": health.tickets_available}
    figures: dict[str, float] = {}
    refused: dict[str, str] = {}
    for name, read in readers.items():
        try:
            value = read(status)
        except CouldNotVerify as exc:
            refused[name] = str(exc)
            continue
        if value is not None:
            figures[name] = value
    if topology != "replica set":
        return figures, refused
    try:
        lags = health.lag_per_secondary(call("reading replSetGetStatus", lambda: admin.command("replSetGetStatus")),
                                        server)
    except CouldNotVerify as exc:
        return figures, refused | {"lag": str(exc)}
    return figures | {f"lag:{member}": seconds for member, seconds in lags.items()}, refused


def own_operations(admin: Any) -> dict[str, float]:
    """This suite's operations running now, and how many of them wait for a lock (currentOp)."""
    inprog = call("counting this suite's operations (currentOp)", lambda: admin.command(dict(_OWN_OPS)))["inprog"]
    return {"own_ops": float(len(inprog)), "own_waiting": float(sum(1 for op in inprog if op.get("waitingForLock")))}


MEASURED = ("cpu_us", "lock_queue", "admission_queue")
NOTHING_TO_SAMPLE = ("ended after the first sample: this server reports no CPU time, no lock or admission queue, "
                     "and is no replica set")


def measurable(window: Window) -> bool:
    """Whether the window can show anything: a health figure reported, or a replica set to follow."""
    reported = {name for s in window.samples for name in (*s.figures, *s.refused)}   # refused: reported, unread
    return window.topology == "replica set" or any(name in reported for name in MEASURED)


def write_window(path: Path, window: Window) -> None:
    write_atomically(path, window.to_json())   # readers in other processes never see half a file


def read_window(path: Path, wait_s: float, poll_s: float = 0.2) -> Window:
    """The finished window in ``path``, waiting up to ``wait_s`` for its sampler to finish it."""
    deadline = time.monotonic() + wait_s
    while True:
        window = Window.from_json(path.read_text(encoding="utf-8")) if path.exists() else None
        if window is not None and window.state != "running":
            return window
        if time.monotonic() >= deadline:
            raise TargetTimeout(f"the health window was not finished within {wait_s:.0f} s "
                                f"({len(window.samples) if window else 0} samples taken): its sampler stalled or died")
        time.sleep(poll_s)


def claim(path: Path) -> bool:
    """True for the one process of the run that creates ``path`` first: it runs the sampler."""
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


@dataclass
class Sampler:
    """Samples ``client`` over the window in a daemon thread; ``close()`` stops it (idempotent)."""

    client: Any
    path: Path
    window_s: float
    interval_s: float
    clock: Callable[[], float] = time.monotonic
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> Sampler:
        write_window(self.path, Window(self.window_s, self.interval_s, started=utc_now()))
        self._thread = threading.Thread(target=self._run, name="cutover-health-window", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=30)

    def _run(self) -> None:
        window = Window(self.window_s, self.interval_s, started=utc_now())
        try:
            window = self._sample_all(self._opening(window))
        except Exception as exc:  # a bug in the sampler must end the window as unusable, never as done
            window = replace(window, state="stopped", failures=(*window.failures, f"sampler failed: {exc!r}"))
        with contextlib.suppress(OSError):
            write_window(self.path, window)

    def _opening(self, window: Window) -> Window:
        admin, unread = self.client.admin, dict[str, str]()
        try:
            hello = call("asking who is primary (hello)", lambda: admin.command("hello"))
            topo = health.topology_of(hello)
            window = replace(window, topology=topo.kind, set_name=topo.set_name, server=server_of(hello),
                             stand_in=is_stand_in(hello))
        except CouldNotVerify as exc:
            unread["topology"] = str(exc)
        try:
            window = replace(window, cores=health.cores(call("reading hostInfo", lambda: admin.command("hostInfo"))))
        except CouldNotVerify as exc:
            unread["cores"] = str(exc)
        return replace(window, unread=unread)

    def _sample_all(self, window: Window) -> Window:
        """Samples at 0, interval, 2 x interval ... up to window_s; state "done", or "stopped" by close()."""
        start, count_own, n = self.clock(), True, 0
        while not self._stop.is_set():
            window, count_own = self._sample_one(window, start, count_own)
            write_window(self.path, window)
            n += 1
            if n == 1 and window.samples and not measurable(window):
                return replace(window, state="done", notes=(*window.notes, NOTHING_TO_SAMPLE))
            due = start + n * self.interval_s
            if due > start + self.window_s + 1e-6:
                return replace(window, state="done")
            self._stop.wait(max(0.0, due - self.clock()))
        return replace(window, state="stopped")

    def _sample_one(self, window: Window, start: float, count_own: bool) -> tuple[Window, bool]:
        offset = round(self.clock() - start, 3)
        try:
            figures, refused = sample_figures(self.client.admin, window.topology, window.server)
        except CouldNotVerify as exc:
            return replace(window, failures=(*window.failures, f"{offset:g} s: {exc}")), count_own
        if count_own:
            try:
                figures.update(own_operations(self.client.admin))
            except (CouldNotVerify, KeyError) as exc:
                note = f"this suite's own operations are not counted (currentOp refused: {exc})"
                window, count_own = replace(window, notes=(*window.notes, note)), False
        return replace(window, samples=(*window.samples, Sample(offset, utc_now(), figures, refused))), count_own
