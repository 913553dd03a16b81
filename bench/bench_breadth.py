"""An app of 1,000 classes end to end (issue 31): the whole catalogue against the sandbox seeded with ``--classes``
small classes (a multi-tenant app: a few objects each, some with an index, files or a relation), measured against
the same run at ``--baseline`` classes.

    python bench/bench_breadth.py [--classes 1000] [--baseline 100] [--failing 0.05] [--scale 300]

For each breadth the bench starts the sandbox itself (seeded and migrated; the time is printed apart), deletes one
document on the target of ``--failing`` of the tenant classes (DB-01 and DB-02 fail for each), then runs
``pytest --target`` over the whole catalogue as a gate run. Measured per run: wall time, the controller's peak RSS
(VmHWM, sampled), the time from the end of the checks (the run's ``pytest_sessionfinish``) to the process's exit
(pytest-html's page, JUnit, the archive: an upper bound of the report's cost) as a share of the wall time, and
the report in headless Chromium (load, first paint, where the verdict and the failing checks are, the time to
open a group). Then the ratio of the walls, and whether record.json, junit.xml and the page hold every failure.
Goals: wall <= 10x of the baseline's, report < 5% of the run, first paint and load < 3 s, controller < 300 MB.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from bench_scale import PeakRss, rss_line  # noqa: E402

from cutover.run.config_dump import dump_target  # noqa: E402
from cutover.sandbox import tenants  # noqa: E402
from cutover.sandbox.stack import Sandbox  # noqa: E402
from cutover_testing.browser import measure  # noqa: E402
from tests.inner_runs import UNUSED_PLUGINS  # noqa: E402

TIMER = '''import atexit, json, time
import pytest

MARKS = {}

@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session):
    MARKS["checks done"] = time.time()

@pytest.hookimpl(tryfirst=True)
def pytest_terminal_summary(terminalreporter):
    MARKS["verdict, html and junit written"] = time.time()

@pytest.hookimpl(tryfirst=True)
def pytest_unconfigure(config):
    MARKS["terminal summary written"] = time.time()

@pytest.hookimpl(trylast=True, specname="pytest_unconfigure")   # registered before the controller: after its archive
def pytest_unconfigure_last(config):
    MARKS["clients closed, run archived"] = time.time()

@atexit.register
def _marks():
    MARKS["interpreter exiting"] = time.time()
    open(__file__ + ".json", "w").write(json.dumps(MARKS))
'''


def plant(box: Sandbox, classes: int, share: float) -> list[str]:
    """Delete one document on the target of every 1/share-th tenant class; their names."""
    every = max(1, round(1 / share)) if share else 0
    failing = [tenants.name(k) for k in tenants.numbers(classes) if every and k % every == 7 % every]
    db = box.db(box.ep.target_uri)
    for cls in failing:
        db[cls].delete_one({"_id": db[cls].find_one({}, {"_id": 1})["_id"]})
    return failing


def gate(box: Sandbox, cwd: Path) -> tuple[float, float, str, Path]:
    """(wall seconds, seconds from the end of the checks to the exit, peak RSS line, run directory)."""
    text, env = dump_target(box.target("wide"))
    (cwd / "targets.toml").write_text(text)
    (cwd / "breadth_timer.py").write_text(TIMER)
    cmd = [sys.executable, "-m", "pytest", "--target", "wide", "--targets-file", str(cwd / "targets.toml"),
           "--reports-dir", str(cwd / "reports"), "-q", "-p", "no:randomly", "-p", "no:cacheprovider",
           *UNUSED_PLUGINS, "-p", "breadth_timer", "--progress-every", "60"]
    started = time.time()
    proc = subprocess.Popen(cmd, cwd=cwd, env={**os.environ, **env, "PYTHONPATH": str(cwd)},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    sampler = PeakRss(proc.pid)
    sampler.start()
    out, _ = proc.communicate(timeout=7200)
    ended = time.time()
    sampler.done.set()
    sampler.join()
    marks = json.loads((cwd / "breadth_timer.py.json").read_text())
    finish = marks["checks done"]
    steps = ", ".join(f"{name} +{at - finish:.1f} s" for name, at in marks.items() if at > finish)
    (run_dir,) = [p for p in (cwd / "reports" / "wide").iterdir() if p.is_dir()]
    progress = [line for line in out.splitlines() if line.startswith("cutover progress")]
    print(f"    {len(progress)} progress lines (every 60 s), the last: {progress[-1] if progress else 'none'}")
    print(f"    after the checks: {steps}, exit +{ended - finish:.1f} s")
    return ended - started, ended - finish, rss_line(sampler.peaks, proc.pid), run_dir


def check_run(run_dir: Path, failing: list[str]) -> str:
    """Whether record.json, junit.xml and the page hold every failure: a line, or an AssertionError."""
    record = json.loads((run_dir / "record.json").read_text())
    failed = {t["label"] for t in record["tests"] if t["outcome"] in ("failed", "error")}
    expected = {f"{cid}[{cls}]" for cls in failing for cid in ("DB-01", "DB-02")}
    assert expected <= failed, sorted(expected - failed)[:5]
    suite = ET.parse(run_dir / "junit.xml").getroot().find("testsuite")
    assert suite is not None and int(suite.get("tests", 0)) == len(record["tests"])
    page = (run_dir / "report.html").read_text()
    absent = [label for label in failed if f"<td>{label}</td>" not in page]
    assert not absent, absent[:5]
    return (f"{len(record['tests']):,} checks, {len(failed)} failing (all in record.json, junit.xml and the page), "
            f"{record['verdict']}; report.html {len(page) / 1e6:.1f} MB")


def one(classes: int, args: argparse.Namespace, root: Path) -> dict[str, Any]:
    cwd = root / f"c{classes}"
    cwd.mkdir(parents=True)
    started = time.perf_counter()
    with Sandbox(cwd / "sandbox", scale=args.scale, classes=classes) as box:
        seeded = time.perf_counter() - started
        failing = plant(box, classes, args.failing)
        print(f"{classes} classes: sandbox seeded and migrated in {seeded:.0f} s; {len(failing)} classes broken; "
              f"load {os.getloadavg()[0]:.1f}", flush=True)
        wall, end, rss, run_dir = gate(box, cwd)
    said = check_run(run_dir, failing)
    pages = sorted((measure(run_dir / "report.html") for _ in range(3)), key=lambda m: m.facts["load_ms"])
    page, slowest = pages[1], pages[-1]   # the median of three openings, and the slowest
    facts = page.facts
    print(f"  gate run {wall:.1f} s; from the end of the checks to the exit {end:.1f} s ({end / wall:.1%}); "
          f"peak RSS: {rss}\n  {said}\n  chromium (median of 3; slowest: load "
          f"{slowest.facts['load_ms'] / 1000:.2f} s, first paint "
          f"{(slowest.facts['first_paint_ms'] or 0) / 1000:.2f} s): "
          f"load {facts['load_ms'] / 1000:.2f} s, first paint "
          f"{(facts['first_paint_ms'] or 0) / 1000:.2f} s, verdict at {facts['verdict_top']:.0f} px and failing "
          f"checks at {facts['failing_top']:.0f} px of {facts['viewport']} ({facts['failing_rows']} rows), "
          f"{facts['groups']} groups ({facts['groups_open']} open), {facts['results_rows']} rows drawn by "
          f"pytest-html, opening a group {page.open_group_ms or 0:.0f} ms, console errors {len(page.console_errors)}",
          flush=True)
    return {"wall": wall}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", type=int, default=1000)
    parser.add_argument("--baseline", type=int, default=100)
    parser.add_argument("--failing", type=float, default=0.05, help="share of the classes broken on the target")
    parser.add_argument("--scale", type=int, default=300, help="the seeded app's own objects (sandbox scale)")
    args = parser.parse_args()
    print(f"load: {os.getloadavg()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-breadth-") as tmp:   # the baseline before and after: same load
        before = one(args.baseline, args, Path(tmp) / "before")
        wide = one(args.classes, args, Path(tmp))
        after = one(args.baseline, args, Path(tmp) / "after")
    base = (before["wall"] + after["wall"]) / 2
    print(f"{args.classes} classes / {args.baseline} classes, gate run wall: {wide['wall'] / base:.2f}x (against the "
          f"mean of the baseline run before and after: {before['wall']:.1f} s, {after['wall']:.1f} s)")
    print(f"load: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
