"""DB-02 on one big class, scaled out three ways, with the peak RSS of every process (issue 17).

    python bench/bench_scale.py --docs 1000000 [--partition-docs 50000] [--seeded FILE]

The servers are two mongoeco wire servers (source and target; pymongo talks to them over TCP as to a mongod)
on mongoeco's SQLite engine: inserting over the wire runs ~1,000-2,000 documents/s, so 1M documents never
arrived in the memory engine. bench/seed_sqlite.py writes the class of ``--docs`` documents into one SQLite
file without the wire (~7,000 documents/s), the target gets a byte copy of it, and each server serves its own
file. The SQLite engine reads slower than the memory engine (a count over the wire is a scan that decodes
every document: ~8,000 documents/s), which every leg pays alike. Then the bundled
DB-02 check (``test_content``, ``--partial``) runs against them as real gate runs, one after the other:
one worker; ``-n 2`` (the controller plans once, the workers divide the partitions); the planning job
(``cutover plan``), then shard 1/2 and 2/2 reading its plan file (on CI they run side by side: the sum and the
slowest are printed), then ``cutover merge`` of the two shards. A sampler reads VmHWM (the kernel's peak
resident set) of the run's process tree every 0.2 s: the controller is the process started, each xdist worker
one of its descendants.
Goal: every process under 300 MB. Ratios are measured in one run, so the machine's load hits every leg.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cutover.sandbox.cache_dir import default_cache_dir  # noqa: E402
from cutover.sandbox.mongo_server import mongo_service, mongo_uri  # noqa: E402
from cutover.sandbox.mongoeco_env import ensure_mongoeco_python  # noqa: E402
from cutover.sandbox.process import free_port, start_all, stop_all  # noqa: E402
from cutover_pytest.selection import BUNDLED  # noqa: E402
from tests.proctable import command, descendants  # noqa: E402

SEEDER = Path(__file__).with_name("seed_sqlite.py")


def seed(directory: Path, docs: int, seeded: str) -> tuple[list[Path], float]:
    """(the source's and the target's SQLite files, seconds): written once (or copied from ``seeded``, a file
    seed_sqlite.py wrote before), copied for the target."""
    start = time.perf_counter()
    files = [directory / "source.db", directory / "target.db"]
    if seeded:
        shutil.copyfile(seeded, files[0])
    else:
        python = ensure_mongoeco_python(default_cache_dir())
        subprocess.run([str(python), str(SEEDER), str(files[0]), str(docs)], check=True, timeout=3600,
                       env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": ""})
    shutil.copyfile(files[0], files[1])
    return files, time.perf_counter() - start


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
    plan_s, out, rss = measured([sys.executable, "-m", "cutover.run.cli", "plan", "--target", "big"], cwd)
    print(f"  plan       {plan_s:7.1f} s  {out.strip().splitlines()[0]}; peak RSS: {rss}", flush=True)
    shards = [gate(cwd, f"shard{k}", "--shard", f"{k}/2", "--plan", "plan.json") for k in (1, 2)]
    cmd = [sys.executable, "-m", "cutover.run.cli", "merge", *(str(d) for _, d, _ in shards), "--reports-dir", "m",
           "--partial"]
    merge_s, out, rss = measured(cmd, cwd)
    print(f"  merge      {merge_s:7.2f} s  {out.strip().splitlines()[-2]}; peak RSS: {rss}")
    total, slowest = sum(s for s, _, _ in shards), max(s for s, _, _ in shards)
    print(f"-n 2 / one worker: {two / one:.2f}; 2 shards reading the plan: sum {total:.1f} s ({total / one:.2f}x), "
          f"slowest {slowest:.1f} s ({slowest / one:.2f}x); the planning job {plan_s:.1f} s ({plan_s / one:.2f}x); "
          f"plan + slowest shard + merge {(plan_s + slowest + merge_s) / one:.2f}x; merge / one worker "
          f"{merge_s / one:.3f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=1_000_000)
    parser.add_argument("--seeded", default="", help="a file seed_sqlite.py wrote (with --docs documents): "
                                                     "copied instead of seeding again")
    parser.add_argument("--timeout", type=float, default=300.0,
                        help="the target's timeout_s: the stand-in counts a big class slower than a MongoDB")
    parser.add_argument("--partition-docs", type=int, default=20000,
                        help="the target's partition_docs: the stand-in scans the whole class per partition (a "
                             "MongoDB reads the _id range from its index), so fewer partitions shorten every leg")
    args = parser.parse_args()
    print(f"load: {os.getloadavg()}", flush=True)
    ports = (free_port(), free_port())
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        cwd = Path(tmp)
        files, seconds = seed(cwd, args.docs, args.seeded)
        print(f"seeded {args.docs} documents per side in {seconds:.0f} s", flush=True)
        services = [mongo_service(p, cwd / f"mongo-{p}.log", default_cache_dir(), f)
                    for p, f in zip(ports, files, strict=True)]
        start_all(services)
        try:
            (cwd / "targets.toml").write_text(
                f'[targets.big]\nsource = {{ uri = "{mongo_uri(ports[0], "app")}" }}\n'
                f'database = {{ uri = "{mongo_uri(ports[1], "app")}" }}\n'
                f"[targets.big.thresholds]\ntimeout_s = {args.timeout}\npartition_docs = {args.partition_docs}\n")
            legs(cwd)
            print(f"load: {os.getloadavg()}")
        finally:
            stop_all(services)
    return 0


if __name__ == "__main__":
    sys.exit(main())
