"""End-to-end benchmark of FILE-01 (issue 22): the sandbox's real Parse Server (behind its TLS front) and moto S3.

    .venv/bin/python bench/bench_files_e2e.py [--scale 20000] [--concurrency 32] [--rounds 3] [--profile]

Baseline, as the issue defines it: one listing of the source bucket plus a raw aiohttp HEAD loop (same
concurrency) over the URLs of every GameScore file reference (avatar and attachments). FILE-01: a fresh
session resolves the class (its two file fields in one pass), lists the source and the target bucket once,
compares sizes and digests; its file fields are discovered before its clock starts, as a gate run does at
collection (the time is printed apart). Each side runs ``--rounds`` times, interleaved, in one run, each round
printed with the load average; the best counts. ``--profile``: cProfile of FILE-01's last round (its main thread,
where the URL requests run; the profiler slows that round, so leave it out of the ratio). Target: FILE-01 >= 0.8x
the baseline. Requests to the stores are counted from moto's request log (HEAD, GET and list lines) and from
FILE-01's own counter. The memory of a listing is measured with tracemalloc on the source bucket's: a map of
:class:`StoreObject` (before issue 22's bound) against the compact :class:`StoreIndex`.
"""
from __future__ import annotations

import argparse
import asyncio
import cProfile
import dataclasses
import os
import pstats
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_files import raw_head_loop
from cutover.files import facade as files
from cutover.files.digests import StoreObject
from cutover.files.refs import iter_class_refs, schema_file_fields
from cutover.files.store_index import Counter, StoreIndex, s3_listing
from cutover.files.urls import adapter_url, scheme_for
from cutover.model import Target
from cutover.sandbox.stack import SOURCE_BUCKET, Sandbox
from cutover.session import Session

ROUNDS = 3


def _urls(sandbox: Sandbox, target: Target) -> list[str]:
    db = sandbox.db(target.database.uri)
    spec = next(s for s in schema_file_fields(db) if s.cls == "GameScore")
    scheme = scheme_for(target)
    return [adapter_url(scheme, r.name) for r in iter_class_refs(db, spec) if not files.is_legacy(r)]


def baseline(sandbox: Sandbox, urls: list[str], concurrency: int, ca_file: str) -> float:
    started = time.perf_counter()
    listed = sum(len(p.get("Contents", [])) for p in
                 sandbox.s3.get_paginator("list_objects_v2").paginate(Bucket=SOURCE_BUCKET))
    ok = asyncio.run(raw_head_loop(urls, concurrency, ca_file))
    if ok != len(urls) or not listed:
        raise SystemExit(f"baseline: {ok} of {len(urls)} URLs answered 200, {listed} objects listed")
    return time.perf_counter() - started


def file01(target: Target, profile: bool = False) -> tuple[float, dict[str, Any]]:
    """FILE-01 over GameScore in a fresh session, timed as the checks' durations are: the file fields are
    discovered before the clock starts (a gate run does it at collection), and that time is returned apart.
    ``profile``: cProfile of the main thread (the event loop of the URL requests), printed."""
    session = Session(target)
    profiler = cProfile.Profile() if profile else None
    try:
        started = time.perf_counter()
        fields = [f for f in session.files.fields() if f.cls == "GameScore"]
        session.files.reference_estimate()
        discovered = time.perf_counter()
        if profiler:
            profiler.enable()
        results = [session.files.resolve(f) for f in fields]
        elapsed = time.perf_counter() - discovered
    finally:
        if profiler:
            profiler.disable()
            pstats.Stats(profiler).sort_stats("tottime").print_stats(18)
        session.close()
    bad = [r.summary for r in results if r.summary.missing or r.summary.corrupt or r.summary.errors]
    if bad:
        raise SystemExit(f"FILE-01 did not pass on the clean sandbox: {bad[0]}")
    run = results[0].run
    assert run is not None
    return elapsed, {"refs": sum(r.summary.total for r in results), "methods": [dict(r.summary.methods)
                     for r in results], "requests": run.run_requests, "rate": run.request_rate,
                     "discovery_s": round(discovered - started, 2), "plans": run.store_plans}


def listing_bytes(sandbox: Sandbox) -> dict[str, float]:
    """Bytes per listed object of the source bucket's listing, names included: as a dict of objects (before),
    and as a StoreIndex. Each is built from fresh copies while tracemalloc counts what it keeps."""
    items = [(name.encode(), str(obj.size), obj.etag.encode())
             for name, obj in s3_listing(sandbox.s3, SOURCE_BUCKET, "", Counter())]
    out = {}
    for kind, build in (("dict", dict), ("StoreIndex", StoreIndex)):
        tracemalloc.start()
        kept = build((name.decode(), StoreObject(int(size), etag=etag.decode())) for name, size, etag in items)
        out[kind] = round(tracemalloc.get_traced_memory()[0] / max(1, len(kept)), 1)
        tracemalloc.stop()
    return out


def moto_counts(log: Path) -> dict[str, int]:
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    return {"HEAD": sum('"HEAD ' in x for x in lines), "GET object": sum('"GET ' in x and "list-type" not in x
                                                                          for x in lines),
            "list": sum("list-type=2" in x for x in lines)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=int, default=20000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--profile", action="store_true", help="cProfile FILE-01's last round")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cutover-bench-e2e-") as tmp, Sandbox(Path(tmp), args.scale) as box:
        target = box.target()
        target = dataclasses.replace(target, thresholds=dataclasses.replace(
            target.thresholds, file_concurrency=args.concurrency))
        urls, ca_file = _urls(box, target), str(box.pki.ca_file if box.pki else "")
        log = box.run_dir / "logs" / "s3.log"
        raw, ours, facts, counts = [], [], {}, {}
        for n in range(args.rounds):
            before, load = moto_counts(log), os.getloadavg()[0]
            raw.append(baseline(box, urls, args.concurrency, ca_file))
            middle = moto_counts(log)
            elapsed, facts = file01(target, args.profile and n == args.rounds - 1)
            print(f"round {n + 1}: baseline {raw[-1]:.1f} s, FILE-01 {elapsed:.1f} s: {raw[-1] / elapsed:.2f}x "
                  f"(load {load:.1f} -> {os.getloadavg()[0]:.1f})", flush=True)
            ours.append(elapsed)
            after = moto_counts(log)
            counts = {"baseline": {k: middle[k] - before[k] for k in before},
                      "FILE-01": {k: after[k] - middle[k] for k in after}}
        memory = listing_bytes(box)
    ratio = min(raw) / min(ours)
    print(f"scale {args.scale}: {len(urls)} GameScore file URLs, concurrency {args.concurrency}")
    print(f"baseline (1 listing + raw HEAD loop): {min(raw):6.1f} s, {len(urls) / min(raw):6.0f} URLs/s")
    print(f"FILE-01 (GameScore, both fields)    : {min(ours):6.1f} s, {facts['refs'] / min(ours):6.0f} refs/s, "
          f"ratio {ratio:.2f}x (target >= 0.8x)")
    print(f"all rounds, baseline / FILE-01      : {[round(x, 1) for x in raw]} / {[round(x, 1) for x in ours]} s; "
          f"file-field discovery (before the clock, as at collection): {facts['discovery_s']} s")
    print(f"moto requests, last round           : {counts}")
    print(f"FILE-01 counter                     : {facts['requests']}; methods {facts['methods']}")
    print(f"FILE-01 store plans                 : {facts['plans']}")
    print(f"listing memory, bytes per object    : {memory} (source bucket)")
    print("BENCH:", "PASS" if ratio >= 0.8 else "FAIL")
    sys.exit(0 if ratio >= 0.8 else 1)


if __name__ == "__main__":
    main()
