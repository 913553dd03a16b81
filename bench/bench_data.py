"""Data benchmarks, ratios measured in one run against raw baselines on the sandbox's MongoDB servers.

    python bench/bench_data.py --scale 100000

DB-02: documents/s of the content comparison as the check runs it (digests first where both servers pass the
known-answer test, else every partition streamed and compared document by document) vs a bare pymongo full
scan of source plus target. Target: ratio >= 1.0 where digests exist, no slower than streaming elsewhere.
For reference, the time of the dbHash path the suite no longer takes by default (it locks the database), and
a paced stream (max_docs_per_s) whose measured rate must stay under its cap.
DB-04: bytes the long-key scan ships (replies seen by a command listener) vs the collection's bytes (< 1%),
and its time vs a bare aggregation over the same collection (a hand-written `$project` of `$bsonSize` per
indexed field and a `$match` on 1024, what one would type in the shell). Target: ratio <= 1.2. The time of a
bare `$group` count is printed too, as the floor of any full pass.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import bson
import pymongo
from pymongo import monitoring

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cutover.data import content, digest, indexes, inventory, longkeys  # noqa: E402
from cutover.data.pace import Pace  # noqa: E402
from cutover.sandbox.cache_dir import default_cache_dir  # noqa: E402
from cutover.sandbox.migrate import copy_database  # noqa: E402
from cutover.sandbox.mongo_server import mongo_service, mongo_uri  # noqa: E402
from cutover.sandbox.process import free_port, start_all, stop_all  # noqa: E402
from cutover.sandbox.seed import seed_source  # noqa: E402

PARTITION_DOCS = 20000


class ReplyBytes(monitoring.CommandListener):
    """Counts the bytes of every command reply (what the server ships to us)."""

    def __init__(self) -> None:
        self.total = 0

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        pass

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self.total += len(bson.encode(event.reply))

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


class NoS3:
    """Files are not part of this benchmark: uploads are dropped."""

    def list_buckets(self) -> dict[str, Any]:
        return {"Buckets": [{"Name": "bench"}]}

    def put_object(self, **_: Any) -> None:
        pass


def timed(fn: Any, runs: int = 1) -> tuple[float, Any]:
    """Best wall time of ``runs`` runs (a loaded machine makes single runs noisy) and the last result."""
    best, result = float("inf"), None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def bare_scan(dbs: list[Any], names: list[str]) -> int:
    return sum(1 for db in dbs for name in names for _ in db[name].find({}, batch_size=content.BATCH))


def compare_all(src: Any, dst: Any, names: list[str], per: int = PARTITION_DOCS) -> int:
    """Every class, as DB-02 judges it: digests where both servers pass the known-answer test, else documents."""
    usable = digest.support(src, 600).available and digest.support(dst, 600).available
    docs = 0
    for name in names:
        count = inventory.exact_count(src, name, 600)
        for part in content.partitions(src, name, count, per, 600):
            if usable:
                ours, theirs = (digest.partition_digest(db, name, part.filter(), 600) for db in (src, dst))
                if ours.matches(theirs):
                    docs += ours.docs + theirs.docs
                    continue
            diff = content.compare_partition(src, dst, part, 100)
            assert diff.ok, diff.summary()
            docs += diff.source_docs + diff.target_docs
    return docs


def stream_sequentially(src: Any, dst: Any, names: list[str], per: int = PARTITION_DOCS) -> int:
    """The streaming of before this change, for comparison: the source side read first, then the target."""
    docs = 0
    for name in names:
        for part in content.partitions(src, name, inventory.exact_count(src, name, 600), per, 600):
            filt = part.filter()
            diff = content.diff_documents(content.raw_documents(src[name], filt),
                                          content.raw_documents(dst[name], filt), part.label, 100)
            assert diff.ok, diff.summary()
            docs += diff.source_docs + diff.target_docs
    return docs


def dbhash_all(src: Any, dst: Any, names: list[str]) -> bool:
    """The old fast path (a raw client: the suite's own clients refuse dbHash by default)."""
    return all(content.server_hash(src, n) == content.server_hash(dst, n) for n in names)


def bench_db02(src: Any, dst: Any) -> None:
    names = inventory.data_collections(src)
    for side, db in (("source", src), ("target", dst)):
        print(f"DB-02 digest on the {side}: {digest.support(db, 600)}")
    bare_s, bare_docs = timed(lambda: bare_scan([src, dst], names), runs=2)
    ours_s, our_docs = timed(lambda: compare_all(src, dst, names), runs=2)
    bare_rate, our_rate = bare_docs / bare_s, our_docs / ours_s
    print(f"DB-02 bare scan   {bare_docs} docs in {bare_s:.2f} s = {bare_rate:,.0f} docs/s")
    print(f"DB-02 comparison  {our_docs} docs in {ours_s:.2f} s = {our_rate:,.0f} docs/s")
    print(f"DB-02 ratio {our_rate / bare_rate:.2f} (target >= 1.0 with digests, else streaming) with "
          f"{PARTITION_DOCS}-document partitions")
    seq_s, seq_docs = timed(lambda: stream_sequentially(src, dst, names), runs=2)
    seq_rate = seq_docs / seq_s
    print(f"DB-02 sequential streaming (before): {seq_rate:,.0f} docs/s, ratio {seq_rate / bare_rate:.2f}")
    hash_s, equal = timed(lambda: dbhash_all(src, dst, names))
    print(f"DB-02 old dbHash path (locks the database; off by default): {hash_s:.2f} s for every class, "
          f"equal={equal}, {bare_docs / hash_s:,.0f} docs/s equivalent")
    cap = max(100, int(bare_rate / 4))   # a cap this machine can exceed, so that it binds
    paced_s, paced = timed(lambda: sum(1 for _ in content.raw_documents(src["GameScore"], {}, Pace(cap))))
    print(f"DB-02 paced stream of GameScore: {paced} docs in {paced_s:.2f} s = {paced / paced_s:,.0f} docs/s "
          f"(cap {cap})")
    whole_s, whole_docs = timed(lambda: compare_all(src, dst, names, per=10**9), runs=2)
    print(f"DB-02 one partition per class: {whole_docs / whole_s:,.0f} docs/s, ratio "
          f"{whole_docs / whole_s / bare_rate:.2f} (a server that never uses the _id index for a range, like "
          f"mongoeco, scans the whole class once per partition)")


def bench_db04(dst: Any, listener: ReplyBytes, cls: str = "GameScore") -> None:
    specs = indexes.list_indexes(dst, cls)
    coll_bytes = sum(row["b"] for row in dst[cls].aggregate(
        [{"$group": {"_id": None, "b": {"$sum": {"$bsonSize": "$$ROOT"}}}}]))
    count_s, _ = timed(lambda: list(dst[cls].aggregate([{"$group": {"_id": None, "n": {"$sum": 1}}}])), runs=2)
    sizes = {f"s{i}": {"$add": [{"$bsonSize": {"v": f"${k}"}} for k, _ in s.key] + [0]} for i, s in enumerate(specs)}
    bare = [{"$project": sizes}, {"$match": {"$or": [{k: {"$gte": 1024}} for k in sizes]}}]
    bare_s, _ = timed(lambda: list(dst[cls].aggregate(bare)), runs=2)
    listener.total = 0
    ours_s, found = timed(lambda: longkeys.long_keys(dst, cls, specs))
    shipped = listener.total
    ours_s, _ = timed(lambda: longkeys.long_keys(dst, cls, specs), runs=2)
    print(f"DB-04 {cls}: {len(found.checked)} indexes checked, {found.total} long keys")
    print(f"DB-04 shipped {shipped} bytes of {coll_bytes} ({100 * shipped / coll_bytes:.4f}%, target < 1%)")
    print(f"DB-04 long-key scan {ours_s:.2f} s vs bare size aggregation {bare_s:.2f} s: "
          f"ratio {ours_s / bare_s:.2f} (target <= 1.2); a bare $group count takes {count_s:.2f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=100000, help="app objects to seed in the source")
    args = parser.parse_args()
    listener = ReplyBytes()
    ports = (free_port(), free_port())
    with tempfile.TemporaryDirectory(prefix="bench-data-") as tmp:
        services = [mongo_service(p, Path(tmp) / f"mongo-{p}.log", default_cache_dir()) for p in ports]
        start_all(services)
        try:
            clients: list[Any] = [pymongo.MongoClient(mongo_uri(p), event_listeners=[listener],
                                                      socketTimeoutMS=600000, connectTimeoutMS=120000,
                                                      serverSelectionTimeoutMS=120000) for p in ports]
            src, dst = clients[0].bench, clients[1].bench
            seconds, summary = timed(lambda: seed_source(src, NoS3(), "bench", scale=args.scale))
            print(f"seeded {sum(summary.counts.values())} documents in {seconds:.1f} s")
            seconds, _ = timed(lambda: copy_database(src, dst))
            print(f"migrated in {seconds:.1f} s")
            bench_db02(src, dst)
            bench_db04(dst, listener)
        finally:
            stop_all(services)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
