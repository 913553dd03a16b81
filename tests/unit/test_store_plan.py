"""Listing or lookups per store, by the counts; a listing bounded in memory (SQLite beyond the bound)."""
from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from cutover.files import integrity
from cutover.files.digests import StoreObject
from cutover.files.listing_file import DiskIndex, IndexWriter, load
from cutover.files.lookups import Lookups
from cutover.files.refs import FileRef
from cutover.files.resolve import Job
from cutover.files.store_index import Page, StoreIndex
from cutover.files.store_plan import StorePlan, list_or_lookup
from cutover.files.stores import Stores
from cutover.files.url_answer import Answer

MD5 = "0123456789abcdef0123456789abcdef"


def bucket(objects: int, per_page: int = 1000) -> tuple[Iterator[Page], list[int]]:
    """Pages of a bucket holding ``objects``, and the pages actually requested (appended as they are)."""
    asked: list[int] = []

    def pages() -> Iterator[Page]:
        for start in range(0, max(1, objects), per_page):
            asked.append(start // per_page + 1)
            items = [(f"f{i:07d}", StoreObject(i, etag=MD5)) for i in range(start, min(objects, start + per_page))]
            yield items, start + per_page < objects
    return pages(), asked


@pytest.mark.parametrize(("objects", "references", "strategy", "requests"), [
    (2_596, 2_596, "listing", 3),         # the sandbox at scale 20,000: 3 pages against 2,596 lookups
    (999, 1, "listing", 1),               # one page is never more than one lookup
    (200_000, 5, "lookups", 5),           # a big bucket, a few references: 5 pages, then a lookup each
    (5_001, 5, "lookups", 5),             # just over the bound: the worst case, twice the cheaper
    (5_000, 5, "listing", 5),             # on it: the last page came within the budget
    (20_000, None, "listing", 20),        # no estimate: always listed, as before
])
def test_the_counts_choose_listing_or_lookups(objects: int, references: int | None, strategy: str,
                                             requests: int) -> None:
    pages, asked = bucket(objects)
    listed = list_or_lookup("source s3:b", pages, references, IndexWriter(None, bound=10**8))
    assert (listed.plan.strategy, listed.plan.pages, len(asked)) == (strategy, requests, requests)
    assert (listed.index is None) == (strategy == "lookups")
    assert listed.index is None or len(listed.index) == objects


def test_the_plan_says_why() -> None:
    lookups = StorePlan("source s3:b", "lookups", 5, 5, 5_000)
    assert "more than 1,000 objects a reference" in lookups.reason and "about 5 references" in lookups.reason
    assert StorePlan("target s3:t/", "listing", 2_596, 3, 2_596).fact() == {
        "strategy": "listing", "references": 2_596, "list_requests": 3, "objects_listed": 2_596,
        "reason": "listed in 3 requests (2,596 objects), about 2,596 references to check"}


def test_a_listing_beyond_the_bound_is_kept_on_disk_and_removed_with_it() -> None:
    pages, _ = bucket(2_500, per_page=1000)
    listed = list_or_lookup("source s3:b", pages, None, IndexWriter(None, bound=1_200))
    index = listed.index
    assert isinstance(index, DiskIndex) and len(index) == 2_500
    assert index["f0001234"] == StoreObject(1234, etag=MD5) and index.get("nope") is None and "f0000000" in index
    assert list(index)[:2] == ["f0000000", "f0000001"] and sum(1 for _ in index.items_streamed(page=7)) == 2_500
    folder = index.path.parent
    index.close()
    assert not folder.exists()


def test_a_small_listing_stays_in_memory_and_writes_no_file() -> None:
    pages, _ = bucket(1_500)
    index = list_or_lookup("s", pages, None, IndexWriter(None, bound=1_500)).index
    assert isinstance(index, StoreIndex) and len(index) == 1_500


def test_a_shared_file_is_loaded_in_memory_when_small_and_queried_on_disk_when_large(tmp_path: Path) -> None:
    objects = [("a.png", StoreObject(7, etag=MD5)), ("g.txt", StoreObject(5, md5=MD5, crc32c="AAA=",
                                                                                content_type="text/plain"))]
    kept = list_or_lookup("target gcs:t/", iter([(objects, False)]), 3, IndexWriter(tmp_path / "l.sqlite"))
    assert isinstance(kept.index, StoreIndex) and (tmp_path / "l.sqlite").exists()
    small, large = load(tmp_path / "l.sqlite"), load(tmp_path / "l.sqlite", bound=1)
    assert isinstance(small.index, StoreIndex) and isinstance(large.index, DiskIndex)
    assert dict(small.index) == dict(large.index) == dict(objects) and small.plan == large.plan == kept.plan
    large.index.close()
    assert (tmp_path / "l.sqlite").exists()      # a shared file is the run's, removed with its directory


def test_lookups_ask_once_a_name_and_say_absent_as_none() -> None:
    asked: list[str] = []

    def head(name: str) -> StoreObject | None:
        asked.append(name)
        return StoreObject(3, etag=MD5) if name != "gone.png" else None
    lookups = Lookups(head, workers=4)
    try:
        got = asyncio.run(_aget_all(lookups, ["a.png", "gone.png", "a.png"]))
        assert got == [StoreObject(3, etag=MD5), None, StoreObject(3, etag=MD5)]
        assert "a.png" in lookups and "gone.png" not in lookups and sorted(asked) == ["a.png", "gone.png"]
    finally:
        lookups.close()


async def _aget_all(lookups: Lookups, names: list[str]) -> list[StoreObject | None]:
    return [await lookups.aget(n) for n in names]


def test_a_job_gets_its_facts_from_lookups_and_keeps_its_gridfs_source_when_the_bucket_lacks_it() -> None:
    bucket_objects = {"a.png": StoreObject(7, etag=MD5)}
    source = Lookups(bucket_objects.get, workers=2)
    target = Lookups({"a.png": StoreObject(7, etag="f" * 32)}.get, workers=2)
    run = Stores(source=source, target=target)
    run.listed.set_result(None)
    in_bucket = Job(FileRef("C", "o1", "f", "f", "a.png"), "https://files/a.png")
    on_grid = Job(FileRef("C", "o2", "f", "f", "g.png"), "gridfs://fs/g.png", Answer(200, 4),
                  source=StoreObject(4, md5=MD5), target=StoreObject(4, md5=MD5))
    try:
        done = asyncio.run(_complete_all(run, [in_bucket, on_grid]))
    finally:
        source.close()
        target.close()
    assert (done[0].source, done[0].target) == (StoreObject(7, etag=MD5), StoreObject(7, etag="f" * 32))
    assert (done[1].source, done[1].target) == (StoreObject(4, md5=MD5), StoreObject(4, md5=MD5))


async def _complete_all(run: Stores, jobs: list[Job]) -> list[Job]:
    return [await run.complete(j) for j in jobs]


def test_the_source_gridfs_is_asked_without_waiting_for_the_listings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Waiting held every URL request back until both buckets were listed; a finished listing still saves the
    GridFS question for the names it holds."""
    asked: list[set[str]] = []

    def states(grid: object, names: set[str], budget_s: float = 0) -> dict[str, object]:
        asked.append(set(names))
        return {n: SimpleNamespace(obj=StoreObject(1, md5=MD5)) for n in names if n.startswith("g")}
    monkeypatch.setattr(integrity, "gridfs_states", states)
    run = Stores(source=StoreIndex([("a.png", StoreObject(7, etag=MD5))]))
    names = {"a.png", "g.png"}
    assert set(integrity._source_grid_objects(run, object(), names, 1.0)) == {"g.png"}
    run.listed.set_result(None)
    assert set(integrity._source_grid_objects(run, object(), names, 1.0)) == {"g.png"}
    assert asked == [{"a.png", "g.png"}, {"g.png"}]
