"""Live mode of the sandbox, the parent's side: start the traffic-and-sync child and steer it.

``Sandbox.live(rate, lag)`` (or ``python -m cutover.sandbox --live RATE --lag SECONDS``, or a sandbox target
with ``sandbox = { live = {...} }``) starts :mod:`cutover.sandbox.live_main` as a sandbox service: app
traffic on the source through its Parse Server (:mod:`cutover.sandbox.live_mix`) and a sync copying every
write to the target about ``lag`` seconds later (:mod:`cutover.sandbox.live_sync`). The child is stopped
with the sandbox. :class:`LiveControl` is its remote control: start and stop the traffic, change its
rate, pause and resume the sync, change the lag, drain, and read the counters (:class:`LiveStatus`).
"""
from __future__ import annotations

import json
import math
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from cutover.errors import SandboxError
from cutover.model import SandboxLive
from cutover.sandbox.live_main import MASTER_KEY_ENV
from cutover.sandbox.process import Service, free_port, port_open
from cutover.sandbox.proxy_cli import importable_env

CONTROL_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Spread:
    """A distribution in seconds over the most recent writes (observed lags, or write latencies)."""

    count: int
    min_s: float | None
    p50_s: float | None
    p95_s: float | None
    max_s: float | None


@dataclass(frozen=True)
class LiveStatus:
    """The counters of a live sandbox at one moment."""

    traffic_running: bool
    sync_running: bool
    rate: float                    # writes/s asked for
    lag_s: float                   # the sync's configured lag
    written: int                   # writes made on the source (each one journaled)
    written_by: dict[str, int]     # per kind (insert, update, delete, lookup) and per class
    synced: int                    # writes copied to the target
    in_flight: int                 # writes not yet copied
    current_lag_s: float           # age of the oldest write not yet copied (0 when none)
    observed_lag: Spread           # copy time minus write time
    write_latency: Spread          # how long the source took to acknowledge a write (the app's view)
    traffic_s: float               # seconds the traffic has run
    achieved_rate: float           # written / traffic_s
    missed: int                    # schedule slots skipped after a stall of more than a second
    traffic_errors: int
    traffic_last_error: str
    sync_errors: int
    sync_last_error: str
    uptime_s: float

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LiveStatus:
        return cls(**{**data, "observed_lag": Spread(**data["observed_lag"]),
                      "write_latency": Spread(**data["write_latency"])})

    def line(self) -> str:
        """One line for a terminal or a log."""
        lag, took = self.observed_lag, self.write_latency
        observed = f"p50 {lag.p50_s:.2f} s, max {lag.max_s:.2f} s" if lag.count else "none copied yet"
        latency = f", write p95 {took.p95_s:.3f} s" if took.count else ""
        return (f"{self.written} written ({self.achieved_rate:.1f}/s of {self.rate:g}/s asked{latency}), "
                f"{self.synced} copied, {self.in_flight} in flight, oldest {self.current_lag_s:.1f} s "
                f"(lag {self.lag_s:g} s; observed {observed}); errors: traffic {self.traffic_errors}, "
                f"sync {self.sync_errors}; traffic {'on' if self.traffic_running else 'off'}, "
                f"sync {'on' if self.sync_running else 'PAUSED'}")


@dataclass(frozen=True)
class LiveOp:
    """One journaled write: wall-clock times (seconds since the epoch); ``applied_at`` None until copied."""

    seq: int
    kind: str
    cls: str
    object_id: str
    written_at: float
    updated_at: float | None
    lookup: bool
    latency_s: float
    applied_at: float | None


class LiveControl:
    """The remote control of a running live child (HTTP on loopback; every call has a timeout)."""

    def __init__(self, url: str, service: Service) -> None:
        self.url, self.service = url, service

    def status(self) -> LiveStatus:
        return LiveStatus.from_json(self._call("GET", "/status"))

    def ops(self, since: int = 0, limit: int = 5000) -> list[LiveOp]:
        """Journaled writes with ``seq > since``, oldest first."""
        return [LiveOp(**{k: op[k] for k in LiveOp.__dataclass_fields__})
                for op in self._call("GET", f"/ops?since={since}&limit={limit}")["ops"]]

    def start_traffic(self, rate: float | None = None) -> LiveStatus:
        return self._post("/traffic", {"running": True, "rate": rate})

    def stop_traffic(self) -> LiveStatus:
        return self._post("/traffic", {"running": False})

    def set_rate(self, rate: float) -> LiveStatus:
        return self._post("/traffic", {"rate": rate})

    def pause_sync(self) -> LiveStatus:
        """Stop copying (the "stopped sync"): writes keep being journaled, none reaches the target."""
        return self._post("/sync", {"running": False})

    def resume_sync(self) -> LiveStatus:
        return self._post("/sync", {"running": True})

    def set_lag(self, lag_s: float) -> LiveStatus:
        return self._post("/sync", {"lag_s": lag_s})

    def drain(self, timeout_s: float = 60.0) -> LiveStatus:
        """Stop the traffic and wait until every write is on the target; SandboxError if it cannot be."""
        return self._post("/drain", {"timeout_s": timeout_s}, timeout_s + CONTROL_TIMEOUT_S)

    def stop(self) -> None:
        """Stop the child (the sandbox also does when it stops)."""
        self.service.stop()

    def _post(self, path: str, body: dict[str, Any], timeout: float = CONTROL_TIMEOUT_S) -> LiveStatus:
        return LiveStatus.from_json(self._call("POST", path, body, timeout))

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None,
              timeout: float = CONTROL_TIMEOUT_S) -> dict[str, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                return dict(json.loads(answer.read()))
        except urllib.error.HTTPError as err:
            problem = json.loads(err.read() or b"{}").get("error", err.reason)
            raise SandboxError(f"live sandbox {method} {path}: {problem}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise SandboxError(f"live sandbox {method} {path} failed: {exc}; "
                               f"see {self.service.log_path}") from None


def check_live(spec: SandboxLive) -> None:
    """SandboxError naming the first value out of range."""
    if not spec.rate > 0 or not math.isfinite(spec.rate):
        raise SandboxError(f"live traffic rate must be a positive number of writes/s, got {spec.rate}")
    if not 0 <= spec.lag_s <= 3600:   # the range targets.toml allows (cutover.model.SandboxLive)
        raise SandboxError(f"live sync lag must be between 0 and 3600 s, got {spec.lag_s}")
    shares = (spec.insert_share, spec.delete_share)
    if not all(0 <= share <= 1 for share in shares) or sum(shares) > 1:
        raise SandboxError(f"live insert_share and delete_share must lie in [0, 1] and sum to at most 1, "
                           f"got {spec.insert_share} and {spec.delete_share}")


def count_tolerance(spec: SandboxLive) -> int:
    """What a team that knows this traffic declares as DB-01's ``count_tolerance``: four times the inserts
    and deletes in flight on average (rate x lag x their share), and at least 10."""
    in_flight = spec.rate * spec.lag_s * (spec.insert_share + spec.delete_share)
    return max(10, math.ceil(round(4 * in_flight, 6)))  # rounded first: 4 x 10 x 2 x 0.15 is 12, not 13


def live_service(spec: SandboxLive, parse_url: str, app_id: str, master_key: str, source_uri: str,
                 target_uri: str, log_path: Any) -> tuple[Service, str]:
    """The child as a sandbox Service (ready once its control port accepts) and its control URL."""
    check_live(spec)
    port = free_port()
    argv = [sys.executable, "-m", "cutover.sandbox.live_main", "--control-port", str(port),
            "--parse-url", parse_url, "--app-id", app_id, "--source-uri", source_uri, "--target-uri", target_uri,
            "--rate", repr(spec.rate), "--lag", repr(spec.lag_s), "--insert-share", repr(spec.insert_share),
            "--delete-share", repr(spec.delete_share), "--seed", str(spec.seed)]
    service = Service(name=f"live traffic and sync ({spec.rate:g} writes/s, lag {spec.lag_s:g} s)", argv=argv,
                      log_path=log_path, ready=lambda: port_open("127.0.0.1", port),
                      env={**importable_env(), MASTER_KEY_ENV: master_key}, timeout=60.0)
    return service, f"http://127.0.0.1:{port}"
