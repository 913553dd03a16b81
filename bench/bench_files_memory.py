"""Peak memory of FILE-01's store facts on a big source bucket (issue 22: "streamed and bounded in memory").

    .venv/bin/python bench/bench_files_memory.py [--objects 200000] [--before GIT-REV]

A moto S3 server holds a source bucket of ``--objects`` small objects. Each leg runs in a fresh process (its peak
RSS is its own, ``ru_maxrss``) what FILE-01 does with the source store in a gate run (a scratch directory shared
by the run's processes): start the store facts (``StoreListings``), wait for them, then ask them for 1,000 names as the
jobs do. Legs:
- ``before``: the code of ``--before`` (default: the commit before the bound), extracted with ``git archive``:
  the whole listing in memory as a StoreIndex, pickled into the scratch directory;
- ``listing``: this tree with as many references as objects: the listing is written to an SQLite file past the
  memory bound (50,000 objects) and queried there;
- ``lookups``: this tree with 100 references: the bucket is not listed past 100 requests, each name is looked up.
Printed per leg: peak RSS, its growth over the process after imports and client, seconds, list/lookup requests.
"""
from __future__ import annotations

import argparse
import json
import resource
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BUCKET = "big-source"
BEFORE = "f028217"


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def leg(endpoint: str, objects: int, references: int, shared_dir: str) -> dict[str, Any]:
    """One leg, in this process: the store facts of FILE-01 on the big bucket, then 1,000 names asked."""
    import cutover
    from cutover.memo import Memo
    from cutover.sandbox.s3_server import s3_client
    s3 = s3_client(endpoint, timeout=60)
    files = SimpleNamespace(source_bucket=BUCKET, source_adapter="", source_endpoint_url="", endpoint_url="",
                            adapter="gridfs", bucket="", prefix="")
    session = SimpleNamespace(memo=Memo(), source_s3=s3, s3=None, keep=lambda x: x,
                              target=SimpleNamespace(files=files, thresholds=SimpleNamespace(
                                  timeout_s=60.0, file_concurrency=32)),
                              options=SimpleNamespace(shared_dir=shared_dir))
    try:
        from cutover.files.stores import StoreListings
        start = lambda: StoreListings().started(session, references)   # noqa: E731
    except ImportError:      # the code before the bound: no plan, always the whole listing
        from cutover.files.integrity import stores as old_stores
        start = lambda: old_stores(session)   # noqa: E731
    base, started = _rss_mb(), time.perf_counter()
    run = start()
    run.wait()
    names = [f"{i:032x}_file{i}.png" for i in range(0, objects, max(1, objects // 1000))]
    found = sum(1 for n in names if run.source.get(n) is not None)
    return {"code": str(Path(cutover.__file__).parents[1]), "peak_rss_mb": round(_rss_mb(), 1),
            "growth_mb": round(_rss_mb() - base, 1), "seconds": round(time.perf_counter() - started, 1),
            "found": f"{found}/{len(names)}", "requests": run.counter.snapshot(),
            "plans": {k: p.reason for k, p in getattr(run, "plans", {}).items()},
            "scratch_bytes": sum(f.stat().st_size for f in Path(shared_dir).iterdir())}


def serve(port: int, objects: int) -> None:
    """moto's S3 server, its bucket filled through moto's own backend (200,000 puts over HTTP take ~20 minutes
    on this machine; listings and HEADs still go over HTTP to the real server)."""
    from moto.s3.models import s3_backends
    from moto.server import ThreadedMotoServer
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    backend = s3_backends["123456789012"]["aws"]
    backend.create_bucket(BUCKET, "us-east-1")
    for i in range(objects):
        backend.put_object(BUCKET, f"{i:032x}_file{i}.png", b"x" * (i % 7 + 1))
    print("ready", flush=True)
    sys.stdin.read()            # until the bench closes our stdin
    server.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _extract(rev: str, into: Path) -> Path:
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "cutover"], check=True,
                             capture_output=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def _run_leg(endpoint: str, objects: int, references: int, code: Path, tmp: Path, name: str) -> dict[str, Any]:
    shared = tmp / f"scratch-{name}"
    shared.mkdir(mode=0o700)
    out = subprocess.run([sys.executable, __file__, "--leg", endpoint, str(objects), str(references), str(shared)],
                         check=True, capture_output=True, text=True, env={"PYTHONPATH": str(code), "PATH": ""},
                         timeout=1800)
    return dict(json.loads(out.stdout.splitlines()[-1]))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        serve(int(sys.argv[2]), int(sys.argv[3]))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--leg":
        endpoint, objects, references, shared_dir = sys.argv[2:6]
        print(json.dumps(leg(endpoint, int(objects), int(references), shared_dir)))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--objects", type=int, default=200_000)
    parser.add_argument("--before", default=BEFORE)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cutover-bench-mem-") as name:
        tmp, port, started = Path(name), _free_port(), time.perf_counter()
        server = subprocess.Popen([sys.executable, __file__, "--serve", str(port), str(args.objects)],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            assert server.stdout is not None and server.stdout.readline().strip() == "ready"
            print(f"moto S3 with {args.objects:,} objects ready in {time.perf_counter() - started:.0f} s", flush=True)
            endpoint, before = f"http://127.0.0.1:{port}", _extract(args.before, tmp / "before")
            for label, code, refs in (("before", before, args.objects), ("listing", ROOT, args.objects),
                                      ("lookups", ROOT, 100)):
                print(f"{label:8}: {_run_leg(endpoint, args.objects, refs, code, tmp, label)}", flush=True)
        finally:
            server.kill()
            server.wait(timeout=10)

if __name__ == "__main__":
    main()
