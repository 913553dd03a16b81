"""REST and export source benchmarks (issue 13), ratios measured in one run.

    python bench/bench_rest.py --scale 20000            # DB-02 over REST vs a bare paging loop + target scan
    python bench/bench_rest.py --memory 1000000         # peak RSS of DB-02 over a generated 1M-object export

DB-02 over REST: the objects of every class compared as the check runs them (target partitions of
``partition_docs``, the source paged by objectId range in ``PAGE``-object pages while the target partition is
read in a second thread, every object mapped and compared) vs a bare loop over the same endpoint (same page size,
the same ``order=objectId`` + ``$gt`` paging, the JSON decoded and dropped) with the target's scan beside it in a
second thread (the same concurrency). Goal: >= 0.7x. Relation rows are timed apart (one ``$relatedTo`` query per
owning object: their cost is the API's, not the comparison's).
Memory: a generated export of N objects (GameScore-like, every Parse type) is sorted into runs and read back
partition by partition through the mapping and the diff, against target partitions generated from the same
objects (no 1M-document MongoDB is needed to measure the reader's and the comparison's memory). Goal: bounded,
peak RSS < 300 MB at 1M.
"""
from __future__ import annotations

import argparse
import itertools
import json
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cutover.data.content import partitions  # noqa: E402
from cutover.data.export_reader import ExportReader  # noqa: E402
from cutover.data.rest_reader import PAGE, RestReader  # noqa: E402
from cutover.data.rest_storage import to_storage  # noqa: E402
from cutover.data.source_compare import compare_objects, diff_objects  # noqa: E402
from cutover.sandbox.export import write_results  # noqa: E402

PARTITION_DOCS = 20000
CLASSES = ("_User", "_Session", "_Installation", "Player", "GameScore", "Post", "AuditLog", "Document")


def bare_loop(reader: RestReader, dst: Any, cls: str) -> int:
    """The same pages, JSON decoded and dropped, with the target's scan of the class beside it."""
    def scan() -> int:
        return sum(1 for _ in dst[cls].find({}, batch_size=2000))
    with ThreadPoolExecutor(max_workers=1) as pool:
        target = pool.submit(scan)
        count = sum(1 for _ in reader.pages(cls, None, None))
        target.result()
    return count


def rest_bench(scale: int, relations: bool) -> None:
    from cutover.sandbox.stack import Sandbox

    with tempfile.TemporaryDirectory() as tmp, Sandbox(Path(tmp), scale=scale) as box:
        parse = box.target().source_parse
        assert parse is not None
        reader = RestReader(parse.server_url, parse.app_id, parse.master_key, timeout=60)
        dst = box.db(box.ep.target_uri)
        t0 = time.monotonic()
        objects = sum(bare_loop(reader, dst, cls) for cls in CLASSES)
        bare = time.monotonic() - t0
        t0, compared, bad = time.monotonic(), 0, 0
        for cls in CLASSES:
            for part in partitions(dst, cls, dst[cls].count_documents({}), PARTITION_DOCS, 600):
                diff = compare_objects(reader, dst, part, 10)
                compared += diff.source_docs
                bad += 0 if diff.ok else 1
        db02 = time.monotonic() - t0
        print(f"scale {scale}: {objects} objects over REST (page {PAGE}), partitions of {PARTITION_DOCS}")
        print(f"bare paging loop + target scan: {bare:.2f} s ({objects / bare:,.0f} objects/s)")
        print(f"DB-02 over REST: {db02:.2f} s ({compared / db02:,.0f} objects/s), {bad} partitions differing")
        print(f"ratio (bare time / DB-02 time): {bare / db02:.2f}x (goal >= 0.7x)")
        if not relations:
            return
        t0 = time.monotonic()
        owners = [str(d["_id"]) for d in dst["Post"].find({}, {"_id": 1})]
        rows = sum(1 for _ in reader.relation_rows("Post", "likes", owners))
        print(f"relation rows of Post.likes: {rows} rows for {len(owners)} owners in {time.monotonic() - t0:.2f} s")


STEP = 7919     # object i has objectId i * STEP mod n: the file's order is not objectId order


def generated(n: int) -> Any:
    return (one(i, n) for i in range(n))


def one(i: int, n: int) -> dict[str, Any]:
    stamp = "2024-01-02T03:04:05.678Z"
    return {"objectId": f"{i * STEP % n:010d}", "createdAt": stamp, "updatedAt": stamp,
            "score": i, "ratio": i / 7, "playerName": f"player {i}", "tags": ["a", "b"],
            "stats": {"kills": i % 500, "at": {"__type": "Date", "iso": "2024-01-01T00:00:00.000Z"}},
            "player": {"__type": "Pointer", "className": "Player", "objectId": f"p{i % 1000}"},
            "where": {"__type": "GeoPoint", "latitude": 1.5, "longitude": 2.5},
            "blob": {"__type": "Bytes", "base64": "AQID"}, "ACL": {"*": {"read": True}, "u": {"write": True}}}


def memory_child(n: int, directory: Path) -> None:
    t0 = time.monotonic()
    write_results(directory / "GameScore.json", generated(n))
    written = time.monotonic() - t0
    reader, compared, t0 = ExportReader(directory), 0, time.monotonic()
    inverse, bounds = pow(STEP, -1, n), [*range(0, n, PARTITION_DOCS), n]
    for low, high in itertools.pairwise(bounds):
        # the target partition, generated from the same objects (what find() would hold for this range)
        target = {f"{k:010d}": to_storage("GameScore", one(k * inverse % n, n), {}) for k in range(low, high)}
        lower, upper = (f"{low:010d}" if low else None), (f"{high:010d}" if high < n else None)
        diff = diff_objects("GameScore", reader.documents("GameScore", lower, upper), target, "p", 10, "export")
        assert diff.ok, diff.summary()
        compared += diff.source_docs
    reader.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    size = (directory / "GameScore.json").stat().st_size / 1e6
    print(json.dumps({"objects": compared, "export_mb": round(size), "write_s": round(written, 1),
                      "compare_s": round(time.monotonic() - t0, 1), "peak_rss_mb": round(peak)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=20000)
    parser.add_argument("--memory", type=int, default=0, help="objects of the generated export (memory figure)")
    parser.add_argument("--relations", action="store_true", help="also time Post.likes' relation rows")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory and args.child:
        with tempfile.TemporaryDirectory() as tmp:
            memory_child(args.memory, Path(tmp))
    elif args.memory:   # a fresh process, so its peak RSS is this measurement's alone
        subprocess.run([sys.executable, __file__, "--memory", str(args.memory), "--child"], check=True)
    else:
        rest_bench(args.scale, args.relations)


if __name__ == "__main__":
    main()
