"""DB-01 over many classes vs a bare count loop, measured in one run on the sandbox's MongoDB servers.

    python bench/bench_counts.py --classes 1000

The check's path (class discovery from both sides and `_SCHEMA`, then the source and target count of every
class through the library) is timed against a bare loop of `count_documents({})` on both sides over the same
names. Goal: check time <= 1.2x the bare loop.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import pymongo

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cutover.model import Database, Source, Target  # noqa: E402
from cutover.sandbox.cache_dir import default_cache_dir  # noqa: E402
from cutover.sandbox.mongo_server import mongo_service, mongo_uri  # noqa: E402
from cutover.sandbox.process import free_port, start_all, stop_all  # noqa: E402
from cutover.session import Session  # noqa: E402


def populate(db: pymongo.database.Database, classes: int, docs: int) -> list[str]:
    names = [f"Class{i:04d}" for i in range(classes)]
    for name in names:
        db[name].insert_many([{"_id": f"{name}-{j}", "n": j} for j in range(docs)])
    db["_SCHEMA"].insert_many([{"_id": name, "n": "number"} for name in names])
    return names


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--classes", type=int, default=1000)
    parser.add_argument("--docs", type=int, default=20, help="documents per class")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ports = [free_port(), free_port()]
        services = [mongo_service(p, Path(tmp) / f"m{p}.log", default_cache_dir()) for p in ports]
        start_all(services)
        try:
            uris = [mongo_uri(p, "bench") for p in ports]
            clients = [pymongo.MongoClient(u) for u in uris]
            for client in clients:
                populate(client.get_default_database(), args.classes, args.docs)
            src, dst = (c.get_default_database() for c in clients)
            names = sorted(n for n in src.list_collection_names())
            t0 = time.perf_counter()
            bare = {n: (src[n].count_documents({}), dst[n].count_documents({})) for n in names}
            bare_s = time.perf_counter() - t0
            target = Target(name="bench", source=Source(uri=uris[0]), database=Database(uri=uris[1]))
            session = Session(target)
            t0 = time.perf_counter()
            checked = {c: session.data.counts(c) for c in session.data.classes()}
            check_s = time.perf_counter() - t0
            session.close()
            assert all(checked[n].source == bare[n][0] and checked[n].target == bare[n][1] for n in names)
        finally:
            stop_all(services)
    ratio = check_s / bare_s
    print(f"DB-01 over {len(names)} classes: check {check_s:.2f} s, bare count loop {bare_s:.2f} s, "
          f"ratio {ratio:.2f}x (goal <= 1.2x) -> {'OK' if ratio <= 1.2 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
