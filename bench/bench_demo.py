"""The embedded default, timed: sandbox up and seeded, and `pytest --target demo` end to end.

    python bench/bench_demo.py [--scale 3000]

Goals (issue 3): sandbox up and seeded in < 20 s after the first install; the demo (all checks) < 60 s.
The machine's load average is printed with the figures, since both are CPU-bound on two cores.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cutover.sandbox.stack import Sandbox  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=int, default=3000)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        box = Sandbox(Path(tmp) / "sandbox", scale=args.scale)  # the per-user cache
        box.start()
        up = time.perf_counter() - t0
        box.stop()
        t0 = time.perf_counter()
        run = subprocess.run([sys.executable, "-m", "pytest", "--target", "demo", f"--scale={args.scale}",
                              f"--reports-dir={Path(tmp) / 'reports'}", "-q", "-p", "no:randomly"],
                             cwd=REPO, capture_output=True, text=True, check=False)
        demo = time.perf_counter() - t0
    last = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else run.stderr[-300:]
    print(f"load average {load:.1f} at start (2 cores)")
    print(f"sandbox up and seeded (scale {args.scale}): {up:.1f} s (goal < 20 s) steps {box.timings}")
    print(f"pytest --target demo end to end: {demo:.1f} s (goal < 60 s), exit {run.returncode}: {last}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
