"""The live sandbox's child process: app traffic, the lagged sync, and a small HTTP control API.

    CUTOVER_LIVE_MASTER_KEY=... python -m cutover.sandbox.live_main --control-port P --parse-url URL \
        --app-id ID --source-uri URI --target-uri URI --rate 10 --lag 2 [--insert-share .1 --delete-share .05]

Started by :func:`cutover.sandbox.live.live_service` as a sandbox service (its own process group, stopped
with the sandbox). It reads the source's object ids, then listens on 127.0.0.1:P (so an open port means
ready) and starts the sync and the traffic. Control (JSON bodies and answers):

    GET  /status                      counters (see ``status``)
    GET  /ops?since=SEQ&limit=N       journal entries after SEQ: seq, kind, cls, object_id, written_at,
                                      updated_at, applied_at (wall-clock seconds), latency_s, lookup
    POST /traffic {"running", "rate"} start or stop the traffic, change its rate
    POST /sync {"running", "lag_s"}   pause or resume the sync, change its lag
    POST /drain {"timeout_s"}         stop the traffic, wait until every write is on the target

SIGTERM or SIGINT stops it.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pymongo

from cutover.model import SandboxLive
from cutover.sandbox.live_journal import Journal
from cutover.sandbox.live_mix import Workload
from cutover.sandbox.live_sync import LaggedSync
from cutover.sandbox.live_traffic import Traffic

MASTER_KEY_ENV = "CUTOVER_LIVE_MASTER_KEY"
OPS_LIMIT = 5000


class Live:
    """The traffic and the sync of one live sandbox, and what the control API asks of them."""

    def __init__(self, traffic: Traffic, sync: LaggedSync, journal: Journal) -> None:
        self.traffic, self.sync, self.journal = traffic, sync, journal
        self.started = time.monotonic()

    def status(self) -> dict[str, Any]:
        pending, oldest = self.journal.pending()
        running_s = self.traffic.running_s()
        written = sum(self.journal.written[k] for k in ("insert", "update", "delete"))
        return {
            "traffic_running": self.traffic.running.is_set(), "sync_running": self.sync.running.is_set(),
            "rate": self.traffic.pacer.rate, "lag_s": self.sync.lag_s, "written": written,
            "written_by": dict(self.journal.written), "synced": self.journal.synced, "in_flight": pending,
            "current_lag_s": time.time() - oldest if oldest is not None else 0.0,
            "observed_lag": self.journal.lag_stats(), "write_latency": self.journal.latency_stats(),
            "traffic_s": running_s,
            "achieved_rate": written / running_s if running_s > 0 else 0.0, "missed": self.traffic.pacer.missed,
            "traffic_errors": self.traffic.errors, "traffic_last_error": self.traffic.last_error,
            "sync_errors": self.sync.errors, "sync_last_error": self.sync.last_error,
            "uptime_s": time.monotonic() - self.started,
        }

    def set_traffic(self, body: dict[str, Any]) -> None:
        if body.get("rate") is not None:
            self.traffic.set_rate(_positive(body["rate"], "rate"))
        if body.get("running") is not None:
            self.traffic.set_running(bool(body["running"]))

    def set_sync(self, body: dict[str, Any]) -> None:
        if body.get("lag_s") is not None:
            self.sync.set_lag(_positive(body["lag_s"], "lag_s", zero=True))
        if body.get("running") is not None:
            self.sync.set_running(bool(body["running"]))

    def drain(self, timeout_s: float) -> str:
        """Stop the traffic and wait until the target holds every write; '' when done, else why not."""
        if not self.sync.running.is_set():
            return "the sync is paused: resume it before draining"
        self.traffic.set_running(False)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.traffic.idle() and self.journal.pending()[0] == 0:
                return ""
            time.sleep(0.02)
        pending = self.journal.pending()[0]
        return f"not drained after {timeout_s:.0f} s: {pending} writes still to copy (lag {self.sync.lag_s} s)"

    def close(self) -> None:
        self.traffic.close()
        self.sync.close()


def _positive(value: Any, name: str, zero: bool = False) -> float:
    number = float(value)
    if not math.isfinite(number) or number < 0 or (number == 0 and not zero):
        raise ValueError(f"{name} must be {'>= 0' if zero else '> 0'}, got {value}")
    return number


class _Control(BaseHTTPRequestHandler):
    live: Live

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/status":
            self._answer(200, self.live.status())
        elif url.path == "/ops":
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            limit = min(int(query.get("limit", OPS_LIMIT)), OPS_LIMIT)
            self._answer(200, {"ops": self.live.journal.recent(int(query.get("since", 0)), limit)})
        else:
            self._answer(404, {"error": f"no such resource: {url.path}"})

    def do_POST(self) -> None:
        try:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            path = urlsplit(self.path).path
            if path == "/drain":
                problem = self.live.drain(float(body.get("timeout_s", 60)))
                self._answer(409 if problem else 200, {"error": problem} if problem else self.live.status())
                return
            {"/traffic": self.live.set_traffic, "/sync": self.live.set_sync}[path](body)
        except KeyError:
            self._answer(404, {"error": f"no such resource: {self.path}"})
        except (ValueError, TypeError) as exc:
            self._answer(400, {"error": str(exc)})
        else:
            self._answer(200, self.live.status())

    def _answer(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt: str, *args: Any) -> None:
        pass


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m cutover.sandbox.live_main", description=__doc__.splitlines()[0])
    parser.add_argument("--control-port", type=int, required=True)
    parser.add_argument("--parse-url", required=True, help="the source Parse Server (REST writes)")
    parser.add_argument("--app-id", required=True)
    parser.add_argument("--source-uri", required=True, help="the source MongoDB (read-backs, lookups)")
    parser.add_argument("--target-uri", required=True, help="the target MongoDB (the sync writes there)")
    parser.add_argument("--rate", type=float, default=SandboxLive.rate)
    parser.add_argument("--lag", type=float, default=SandboxLive.lag_s)
    parser.add_argument("--insert-share", type=float, default=SandboxLive.insert_share)
    parser.add_argument("--delete-share", type=float, default=SandboxLive.delete_share)
    parser.add_argument("--seed", type=int, default=SandboxLive.seed)
    return parser.parse_args(argv)


def build(args: argparse.Namespace) -> Live:
    mix = SandboxLive(rate=args.rate, lag_s=args.lag, insert_share=args.insert_share,
                      delete_share=args.delete_share, seed=args.seed)
    source, target = _database(args.source_uri), _database(args.target_uri)
    journal = Journal()
    headers = {"X-Parse-Application-Id": args.app_id, "X-Parse-Master-Key": os.environ.get(MASTER_KEY_ENV, "")}
    traffic = Traffic(args.parse_url, headers, source, Workload.from_source(source, mix), journal, args.rate)
    return Live(traffic, LaggedSync(journal, target, source, args.lag), journal)


def _database(uri: str) -> Any:
    client: pymongo.MongoClient[Any] = pymongo.MongoClient(uri, serverSelectionTimeoutMS=5000,
                                                           socketTimeoutMS=60_000)
    return client.get_default_database()


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.rate <= 0 or args.lag < 0:
        raise SystemExit(f"--rate must be > 0 and --lag >= 0, got {args.rate} and {args.lag}")
    live = build(args)
    server = ThreadingHTTPServer(("127.0.0.1", args.control_port), type("Control", (_Control,), {"live": live}))
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start())
    live.sync.start()
    live.traffic.start()
    live.traffic.set_running(True)
    print(f"live sandbox ready: {args.rate} writes/s, lag {args.lag} s, control on 127.0.0.1:{args.control_port}",
          flush=True)
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        live.close()
        server.server_close()
    print(f"live sandbox stopped: {json.dumps(live.status())}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
