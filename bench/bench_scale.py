"""DB-02 on one big class, scaled out three ways, with the peak RSS of every process (issue 17).

    python bench/bench_scale.py --docs 1000000 --seed-budget 600

Two mongoeco servers (source and target) get the same class of ``--docs`` documents, inserted in batches of
10,000 (seeding stops at ``--seed-budget`` seconds: the size reached is printed and benched). Then the bundled
DB-02 check (``test_content``, ``--partial``) runs against them as real gate runs, one after the other:
one worker; ``-n 2``; shard 1/2 and 2/2 (on CI they run side by side: the sum and the slowest are printed),
then ``cutover merge`` of the two shards. A sampler reads VmHWM (the kernel's peak resident set) of the run's
process tree every 0.2 s: the controller is the process started, each xdist worker one of its descendants.
Goal: every process under 300 MB. Ratios are measured in one run, so the machine's load hits every leg.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pymongo

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cutover.sandbox.cache_dir import default_cache_dir  # noqa: E402
from cutover.sandbox.mongo_server import mongo_service, mongo_uri  # noqa: E402
from cutover.sandbox.process import free_port, start_all, stop_all  # noqa: E402
from cutover_pytest.selection import BUNDLED  # noqa: E402
from tests.proctable import command, descendants  # noqa: E402

BATCH = 10_000
CLASS = "GameScore"
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


def documents(start: int, n: int) -> list[dict[str, Any]]:
    """Parse-shaped objects with 10-character ids, as Parse stores them."""
    return [{"_id": f"o{i:09d}", "score": i % 9973, "playerName": f"player {i % 5000}", "cheatMode": i % 7 == 0,
             "_created_at": EPOCH + timedelta(seconds=i), "_updated_at": EPOCH + timedelta(seconds=i)}
            for i in range(start, start + n)]


def seed(dbs: list[Any], total: int, budget: float) -> tuple[int, float]:
    """(documents inserted on each side, seconds): stops after the batch that crosses ``budget``."""
    start, done = time.perf_counter(), 0
    while done < total and time.perf_counter() - start < budget:
        batch = documents(done, min(BATCH, total - done))
        with ThreadPoolExecutor(len(dbs)) as pool:   # one server process per side: both insert at once
            list(pool.map(lambda db, docs=batch: db[CLASS].insert_many(docs, ordered=False), dbs))
        done += len(batch)
    return done, time.perf_counter() - start


class PeakRss(threading.Thread):
    """Samples VmHWM of a process and its descendants until stopped: pid -> (peak kB, command line)."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root, self.done = root, threading.Event()
        self.peaks: dict[int, tuple[int, str]] = {}

    def run(self) -> None:
        while not self.done.wait(0.2):
            for pid in [self.root, *descendants(self.root)]:
                hwm = vm_hwm(pid)
                if hwm:
                    self.peaks[pid] = (max(hwm, self.peaks.get(pid, (0, ""))[0]), command(pid)[:120])


def vm_hwm(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def measured(cmd: list[str], cwd: Path) -> tuple[float, str, str]:
    """(seconds, stdout, peak RSS of each process of the tree) of one command."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    sampler = PeakRss(proc.pid)
    sampler.start()
    out, _ = proc.communicate(timeout=7200)
    seconds = time.perf_counter() - start
    sampler.done.set()
    sampler.join()
    return seconds, out, rss_line(sampler.peaks, proc.pid)


def rss_line(peaks: dict[int, tuple[int, str]], root: int) -> str:
    """The process started (the controller) first, then each Python descendant (xdist workers), in MB."""
    workers = [kb for pid, (kb, cmd) in sorted(peaks.items()) if pid != root and "python" in cmd]
    return ", ".join([f"controller {peaks.get(root, (0, ''))[0] / 1024:.0f} MB",
                      *(f"worker {kb / 1024:.0f} MB" for kb in workers)])


def gate(cwd: Path, name: str, *args: str) -> tuple[float, Path, str]:
    cmd = [sys.executable, "-m", "pytest", str(BUNDLED / "test_data.py"), "-k", "test_content", "--partial",
           "--target", "big", "--targets-file", "targets.toml", "--reports-dir", name, "-q", "-p", "no:randomly",
           "-p", "no:cacheprovider", "--progress-every", "0", *args]
    seconds, out, rss = measured(cmd, cwd)
    (run_dir,) = [p for p in (cwd / name / "big").iterdir() if p.is_dir()]
    record = json.loads((run_dir / "record.json").read_text())
    tests = record["tests"]
    bad = [t["label"] for t in tests if t["outcome"] != "passed"]
    assert tests and not bad, (bad, out[-3000:])
    docs = sum(t["facts"].get("source_docs", 0) for t in tests)
    print(f"  {name:<10} {seconds:7.1f} s  {len(tests)} partitions, {docs} source docs, {record['verdict']}; "
          f"peak RSS: {rss}", flush=True)
    return seconds, run_dir, out


def legs(cwd: Path) -> None:
    one, _, _ = gate(cwd, "serial")
    two, _, _ = gate(cwd, "xdist", "-n", "2")
    shards = [gate(cwd, f"shard{k}", "--shard", f"{k}/2") for k in (1, 2)]
    cmd = [sys.executable, "-m", "cutover.run.cli", "merge", *(str(d) for _, d, _ in shards), "--reports-dir", "m",
           "--partial"]
    merge_s, out, rss = measured(cmd, cwd)
    print(f"  merge      {merge_s:7.2f} s  {out.strip().splitlines()[-2]}; peak RSS: {rss}")
    total, slowest = sum(s for s, _, _ in shards), max(s for s, _, _ in shards)
    print(f"-n 2 / one worker: {two / one:.2f}; 2 shards: sum {total:.1f} s ({total / one:.2f}x), slowest "
          f"{slowest:.1f} s ({slowest / one:.2f}x; + merge {(slowest + merge_s) / one:.2f}x); merge / one worker "
          f"{merge_s / one:.3f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=1_000_000)
    parser.add_argument("--seed-budget", type=float, default=600.0, help="seconds of seeding at most")
    parser.add_argument("--timeout", type=float, default=300.0,
                        help="the target's timeout_s: the stand-in counts a big class slower than a MongoDB")
    args = parser.parse_args()
    print(f"load: {os.getloadavg()}", flush=True)
    ports = (free_port(), free_port())
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        cwd = Path(tmp)
        services = [mongo_service(p, cwd / f"mongo-{p}.log", default_cache_dir()) for p in ports]
        start_all(services)
        try:
            dbs = [pymongo.MongoClient(mongo_uri(p), socketTimeoutMS=600_000)["app"] for p in ports]
            docs, seconds = seed(dbs, args.docs, args.seed_budget)
            print(f"seeded {docs} of {args.docs} documents on each side in {seconds:.0f} s "
                  f"({2 * docs / seconds:,.0f} docs/s)", flush=True)
            (cwd / "targets.toml").write_text(
                f'[targets.big]\nsource = {{ uri = "{mongo_uri(ports[0], "app")}" }}\n'
                f'database = {{ uri = "{mongo_uri(ports[1], "app")}" }}\n'
                f"[targets.big.thresholds]\ntimeout_s = {args.timeout}\n")
            legs(cwd)
            print(f"load: {os.getloadavg()}")
        finally:
            stop_all(services)
    return 0


if __name__ == "__main__":
    sys.exit(main())
