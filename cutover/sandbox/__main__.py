"""Run the embedded sandbox by hand until Ctrl-C.

    python -m cutover.sandbox [--scale N] [--classes N] [--run-dir DIR] [--cache-dir DIR]
                              [--live RATE --lag SECONDS] [--source-parse-server VERSION]

Starts, seeds and migrates the sandbox, prints its endpoints and a targets-file snippet whose secrets are
``${ENV}`` references (their values go to ``<run dir>/sandbox.env``, mode 0600, never to the terminal),
then waits. With ``--live RATE`` app traffic writes RATE objects/s on the source and a sync copies each
write to the target ``--lag`` seconds later (the targets file then declares ``live_sync``); a status line
is printed every ``--status-every`` seconds. Ctrl-C, SIGTERM or SIGHUP, during the start or after it, stops
every process it started; after SIGKILL each service's guard (:mod:`cutover.sandbox.guard`) stops it within
seconds.
Exit status: 0 after a stop asked for once ready, 1 when the start failed, 130 when interrupted during it.
"""
from __future__ import annotations

import argparse
import signal
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from cutover.errors import SandboxError
from cutover.model import SandboxLive
from cutover.run import dump_target
from cutover.sandbox.node_env import CURRENT_PARSE, PARSE_SERVERS
from cutover.sandbox.stack import Sandbox

TARGET_NAME = "sandbox"
READY_LINE = "sandbox ready"
LIVE_LINE = "live:"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m cutover.sandbox", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=3000, help="number of app objects to seed (default 3000)")
    parser.add_argument("--classes", type=int, default=0,
                        help="a multi-tenant app: this many small classes besides the app's (default 0)")
    parser.add_argument("--run-dir", type=Path, default=None,
                        help="logs, PKI and the targets file (default: reports/sandbox/<UTC time>)")
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="where the mongoeco venv and Parse Server's npm packages are installed once "
                             "(default: $CUTOVER_CACHE_DIR, else $XDG_CACHE_HOME/cutover or ~/.cache/cutover)")
    parser.add_argument("--source-parse-server", metavar="VERSION", choices=sorted(PARSE_SERVERS),
                        default=CURRENT_PARSE, help=f"the source's parse-server: {' or '.join(PARSE_SERVERS)} "
                                                    f"(default {CURRENT_PARSE}; the target always runs it)")
    live = parser.add_argument_group("live mode: app traffic on the source and a lagged sync to the target")
    live.add_argument("--live", type=float, metavar="RATE", default=0.0, help="app writes per second")
    live.add_argument("--lag", type=float, metavar="SECONDS", default=SandboxLive.lag_s,
                      help=f"seconds before a write reaches the target (default {SandboxLive.lag_s:g})")
    live.add_argument("--insert-share", type=float, default=SandboxLive.insert_share,
                      help=f"share of writes that insert (default {SandboxLive.insert_share:g})")
    live.add_argument("--delete-share", type=float, default=SandboxLive.delete_share,
                      help=f"share of writes that delete (default {SandboxLive.delete_share:g})")
    live.add_argument("--status-every", type=float, metavar="SECONDS", default=10.0,
                      help="print the live counters this often (default 10)")
    return parser.parse_args(argv)


def live_spec(args: argparse.Namespace) -> SandboxLive | None:
    if not args.live:
        return None
    return SandboxLive(rate=args.live, lag_s=args.lag, insert_share=args.insert_share,
                       delete_share=args.delete_share)


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def describe(box: Sandbox, targets_file: Path, env_file: Path) -> str:
    """The endpoints, the timings and how to point ``pytest --target`` at this sandbox; no secret values."""
    ep = box.ep
    lines = [
        f"source MongoDB       {ep.source_uri}",
        f"target MongoDB       {ep.target_uri}",
        f"S3                   {ep.s3_url}",
        f"source Parse Server  {ep.source_parse_url}  (parse-server {box.source_parse_server})",
        f"target Parse Server  {ep.parse_url}  (parse-server {CURRENT_PARSE})",
        f"target, over TLS     {ep.parse_public_url}  (CA: {box.pki.ca_file if box.pki else '-'})",
        f"logs                 {box.run_dir / 'logs'}",
        f"start timings (s)    {box.timings}",
        *([f"live control         {box.live_control.url}  ({box.live_spec})"] if box.live_control else []),
        "",
        f"targets file ({targets_file}):",
        targets_file.read_text(encoding="utf-8"),
        f"secrets: set -a; . {env_file}; set +a",
        f"then:    pytest --targets-file {targets_file} --target {TARGET_NAME}",
    ]
    return "\n".join(lines)


def write_target_files(box: Sandbox) -> tuple[Path, Path]:
    text, env = dump_target(box.target(TARGET_NAME))
    targets_file, env_file = box.run_dir / "targets.toml", box.run_dir / "sandbox.env"
    targets_file.write_text(text, encoding="utf-8")
    env_file.touch(mode=0o600)
    env_file.write_text("".join(f"{key}={value}\n" for key, value in sorted(env.items())), encoding="utf-8")
    return targets_file, env_file


def wait(box: Sandbox, status_every: float) -> None:
    """Until interrupted; in live mode, print the counters every ``status_every`` seconds."""
    while True:
        time.sleep(status_every if box.live_control else 3600)
        if box.live_control:
            try:
                print(f"{LIVE_LINE} {box.live_control.status().line()}", flush=True)
            except SandboxError as exc:
                print(f"{LIVE_LINE} {exc}", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    run_dir = args.run_dir or Path.cwd() / "reports" / "sandbox" / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    for sig in (signal.SIGTERM, signal.SIGHUP):  # take the Ctrl-C path: everything is stopped
        signal.signal(sig, _raise_interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with SIGINT ignored (`cmd &`)
    box = Sandbox(run_dir, scale=args.scale, cache_dir=args.cache_dir, source_parse_server=args.source_parse_server,
                  classes=args.classes)
    print(f"starting the sandbox (scale {args.scale}, {args.classes} more classes); logs in {run_dir / 'logs'}",
          flush=True)
    try:
        box.start_target(TARGET_NAME, live=live_spec(args))
    except SandboxError as exc:
        print(f"the sandbox could not start: {exc}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        print("interrupted during the start: everything started was stopped", file=sys.stderr, flush=True)
        return 130
    try:
        print(describe(box, *write_target_files(box)), flush=True)
        print(f"{READY_LINE} in {box.timings.get('ready', 0):.1f} s; Ctrl-C stops it", flush=True)
        wait(box, args.status_every)
    except KeyboardInterrupt:
        pass
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):  # a second signal must not cut the stop short
            signal.signal(sig, signal.SIG_IGN)
        box.stop()
    print("sandbox stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
