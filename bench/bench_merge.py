"""Shards and their merge, ratios measured in one run on this machine (a simulation: the checks are cheap
synthetic ones, so what is measured is the suite's own cost per check, not the database's).

    python bench/bench_merge.py --checks 5000

A team's module of N parametrized checks (each records facts, as DB-02 does) runs as one gate run, then as
2 shards one after the other (on 2 machines they would run side by side: the wall time of a sharded gate
is the slowest shard plus the merge), then `cutover merge` joins them. Printed: each run's seconds, the merge's
seconds and peak RSS, and the ratios: slowest shard / whole run (ideal 0.5) and merge / whole run.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGETS = """[targets.t]
source = { uri = "mongodb://127.0.0.1:1/db" }
database = { uri = "mongodb://127.0.0.1:1/db" }
[targets.t.thresholds]
timeout_s = 0.3
"""
CHECKS = """import pytest

@pytest.mark.criterion("DB-02")
@pytest.mark.parametrize("part", range({n}))
def test_partition(part, record_facts):
    record_facts(partition=f"GameScore:p{{part}}", source_docs=20000, target_docs=20000)
"""
MERGE_RSS = ("import resource, sys; from cutover.run.cli import main; code = main(sys.argv[1:]); "
             "print('peak_rss_kb', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss); sys.exit(code)")


def timed(cmd: list[str], cwd: Path) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=3600, check=False)
    return time.perf_counter() - start, out


def gate(cwd: Path, reports: str, *args: str) -> tuple[float, Path]:
    seconds, _ = timed([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--target", "t",
                        "--reports-dir", reports, "--progress-every", "0", *args, "team_checks.py"], cwd)
    (run_dir,) = [p for p in (cwd / reports / "t").iterdir() if p.is_dir()]
    return seconds, run_dir


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--checks", type=int, default=5000)
    n = parser.parse_args().checks
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        (cwd / "targets.toml").write_text(TARGETS)
        (cwd / "team_checks.py").write_text(CHECKS.format(n=n))
        whole, _ = gate(cwd, "whole")
        shards = [gate(cwd, f"shard{k}", "--shard", f"{k}/2") for k in (1, 2)]
        merge_s, out = timed([sys.executable, "-c", MERGE_RSS, "merge", *(str(d) for _, d in shards),
                              "--reports-dir", "merged"], cwd)
        lines = out.stdout.splitlines()
        rss_kb = int(next(line.split()[1] for line in lines if line.startswith("peak_rss_kb")))
        merged = json.loads((cwd / lines[-2] / "record.json").read_text()) if len(lines) > 1 else {}
        slowest = max(s for s, _ in shards)
        print(f"{n} checks: whole run {whole:.1f} s; shards {shards[0][0]:.1f} s and {shards[1][0]:.1f} s; "
              f"merge {merge_s:.2f} s, peak RSS {rss_kb / 1024:.0f} MB, {len(merged.get('tests', []))} tests merged")
        print(f"slowest shard / whole run: {slowest / whole:.2f} (ideal 0.5); merge / whole run: "
              f"{merge_s / whole:.3f}; sharded gate (slowest shard + merge) / whole run: "
              f"{(slowest + merge_s) / whole:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
