"""The checks on a frozen and on a live sandbox, same data, one run: time ratio and what DB-01/DB-02 report.

    python bench/bench_live.py [--scale 3000] [--rate 10] [--lag 2] [--only test_data.py] [-n 2]

First every check (or only the named check modules) runs on the sandbox as migrated (frozen); then live mode
starts (app traffic at RATE writes/s on the source, a sync copying each write LAG seconds later: the target
declares ``live_sync``) and the same checks run again. Printed: both times and their ratio (issue 14's goal for
a clean live run: <= 1.3x), the traffic's counters over the live run, and every DB-01/DB-02 test that did not
pass under traffic with what it reported, and the app's write latency on the source before and while the checks
run (what the checks cost the app). At the end the sync is drained and both sides compared byte for
byte: when they are equal and every reported object is one the traffic wrote, each of those reports was a
false alarm (an object in flight), not a defect.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cutover.model import Target  # noqa: E402
from cutover.run.config_dump import dump_target  # noqa: E402
from cutover.sandbox.cache_dir import default_cache_dir  # noqa: E402
from cutover.sandbox.live_journal import spread  # noqa: E402
from cutover.sandbox.migrate import collection_infos, raw  # noqa: E402
from cutover.sandbox.stack import Sandbox  # noqa: E402

DATA = ("DB-01", "DB-02")
IDLE_S = 10.0


def run_checks(directory: Path, target: Target, args: list[str]) -> tuple[float, dict[str, Any]]:
    """``pytest --target`` on ``target`` in a subprocess: (seconds, record.json)."""
    directory.mkdir(parents=True, exist_ok=True)
    text, env = dump_target(target)
    (directory / "targets.toml").write_text(text, encoding="utf-8")
    cmd = [sys.executable, "-m", "pytest", *args, "--target", target.name,
           f"--targets-file={directory / 'targets.toml'}", f"--reports-dir={directory / 'reports'}", "-q",
           "-p", "no:randomly"]
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=REPO, env={**os.environ, **env}, capture_output=True, text=True, check=False,
                   timeout=1800)
    seconds = time.perf_counter() - t0
    record = next((directory / "reports" / target.name).glob("*/record.json"))
    return seconds, json.loads(record.read_text())


def outcomes(record: dict[str, Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for test in record["tests"]:
        counts[test["outcome"]] = counts.get(test["outcome"], 0) + 1
    return counts


def data_alarms(record: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(label, message, facts) of every DB-01/DB-02 test that did not pass."""
    return [(t["label"], t.get("message", ""), t.get("facts", {})) for t in record["tests"]
            if t["criterion"] in DATA and t["outcome"] not in ("passed", "skipped")]


def count_differences(record: dict[str, Any]) -> dict[str, int]:
    """class -> target minus source count, for every DB-01 test that saw a difference."""
    return {t["label"]: t["facts"]["difference"] for t in record["tests"]
            if t["criterion"] == "DB-01" and t.get("facts", {}).get("difference")}


def content_methods(record: dict[str, Any]) -> dict[str, str]:
    """DB-02 label -> how it compared and how long it took (the dbHash fast path or documents)."""
    return {t["label"]: f"{t.get('facts', {}).get('method')}, {t.get('duration', 0):.1f}"
            for t in record["tests"] if t["criterion"] == "DB-02"}


def sync_facts(record: dict[str, Any]) -> list[str]:
    """What the rechecks (DB-02) and DB-06's watch saw of the sync, one line per test that has facts."""
    lines = []
    for test in record["tests"]:
        sync = test.get("facts", {}).get("sync")
        if sync:
            lines.append(f"  {test['label']} ({test['outcome']}, {test.get('duration', 0):.1f} s): {json.dumps(sync)}")
    return lines


def slowest_extra(frozen: dict[str, Any], live: dict[str, Any], top: int = 8) -> list[str]:
    """The tests that took longest more under traffic than frozen (where the live run's extra time went)."""
    before = {t["label"]: t.get("duration", 0.0) for t in frozen["tests"]}
    extra = sorted(((t.get("duration", 0.0) - before.get(t["label"], 0.0), t["label"]) for t in live["tests"]),
                   reverse=True)
    return [f"{label} +{seconds:.1f} s" for seconds, label in extra[:top]]


def not_passing(record: dict[str, Any]) -> list[str]:
    return [f"{t['label']}: {t.get('message', '')[:200]}" for t in record["tests"]
            if t["outcome"] in ("failed", "error")]


def reported_ids(facts: dict[str, Any]) -> set[str]:
    ids = set(facts.get("missingOnTarget", [])) | set(facts.get("extraOnTarget", []))
    return ids | {item["_id"] for item in facts.get("content", [])}


def equal_sides(box: Sandbox) -> list[str]:
    """Collections whose documents differ in any byte between source and target."""
    src, dst = box.db(box.ep.source_uri), box.db(box.ep.target_uri)
    names = [str(info["name"]) for info in collection_infos(src)]
    docs = {name: [[d.raw for d in raw(db[name]).find().sort("_id", 1)] for db in (src, dst)] for name in names}
    return [name for name, (a, b) in docs.items() if a != b]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=int, default=3000)
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--lag", type=float, default=2.0)
    parser.add_argument("--only", action="append", default=[], help="check module(s), e.g. test_data.py")
    parser.add_argument("-n", default="", help="pytest-xdist workers for the check runs")
    args = parser.parse_args()
    pytest_args = [*args.only, *(["--partial"] if args.only else []), *(["-n", args.n] if args.n else [])]
    print(f"load average {os.getloadavg()[0]:.1f} at start (2 cores)", flush=True)
    with tempfile.TemporaryDirectory() as tmp, Sandbox(Path(tmp) / "sandbox", scale=args.scale,
                                                       cache_dir=default_cache_dir()) as box:
        frozen_s, frozen = run_checks(Path(tmp) / "frozen", box.target("frozen"), pytest_args)
        control = box.live(rate=args.rate, lag_s=args.lag)
        time.sleep(IDLE_S)  # the app's write latency without the checks, for comparison
        before, checks_from = control.status(), time.time()
        live_s, live = run_checks(Path(tmp) / "live", box.target("live"), pytest_args)
        after = control.status()
        ops = control.ops(0, limit=10**6)
        touched = {op.object_id for op in ops}
        drained = control.drain(timeout_s=120)
        differing = equal_sides(box)
    print(f"scale {args.scale}, live: {args.rate:g} writes/s, lag {args.lag:g} s, "
          f"checks: {' '.join(args.only) or 'all'}{f', -n {args.n}' if args.n else ''}")
    print(f"frozen run {frozen_s:.1f} s {outcomes(frozen)}; live run {live_s:.1f} s {outcomes(live)}; "
          f"ratio {live_s / frozen_s:.2f}x (goal for a clean live run <= 1.3x)")
    run_s = after.traffic_s - before.traffic_s
    print(f"traffic during the live run: {after.written - before.written} writes in {run_s:.1f} s "
          f"({(after.written - before.written) / max(run_s, 1e-9):.1f}/s), {after.missed - before.missed} "
          f"slots missed; at the end {after.line()}")
    idle = spread([op.latency_s for op in ops if not op.lookup and op.written_at < checks_from])
    busy = spread([op.latency_s for op in ops if not op.lookup and op.written_at >= checks_from])
    print(f"the app's write latency on the source: alone {idle}; while the checks ran {busy}")
    alarms = data_alarms(live)
    print(f"DB-01/DB-02 not passing under traffic: {len(alarms)}")
    for label, message, facts in alarms:
        ids = reported_ids(facts)
        print(f"  {label}: {message[:160]} | totals {facts.get('totals') or facts.get('difference')} | "
              f"objects the traffic wrote: {len(ids & touched)} of {len(ids)}")
    print(f"DB-01 count differences under traffic (tolerance {box.target().database.count_tolerance}): "
          f"{count_differences(live) or 'none'}")
    print(f"DB-02 per class under traffic (method, seconds): {content_methods(live)}")
    print("the sync as the checks saw it:", *sync_facts(live), sep="\n")
    print(f"not passing, frozen: {not_passing(frozen)}; live: {not_passing(live)}")
    print(f"where the live run's extra time went: {slowest_extra(frozen, live)}")
    print(f"after the drain ({drained.synced} copied): collections differing: {differing or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
