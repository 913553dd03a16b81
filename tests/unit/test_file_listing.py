"""Store listings: kept compact, made once per run by the processes sharing a scratch directory (an SQLite file)."""
from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from cutover.errors import CouldNotVerify
from cutover.files import stores as stores_module
from cutover.files.digests import StoreObject
from cutover.files.listing_file import IndexWriter
from cutover.files.refs import FileRef
from cutover.files.resolve import Job
from cutover.files.shared_listing import shared
from cutover.files.store_index import Counter, Page, StoreIndex
from cutover.files.store_plan import Listed, list_or_lookup
from cutover.files.stores import Stores
from cutover.files.url_answer import Answer

MD5 = "0123456789abcdef0123456789abcdef"


def test_an_md5_object_is_packed_and_every_other_kept_whole() -> None:
    objects = {"a.png": StoreObject(7, etag=MD5), "big.bin": StoreObject(2**40, etag=f"{MD5}-3"),
               "g.txt": StoreObject(5, md5=MD5, crc32c="AAA=", content_type="text/plain"), "none": StoreObject(0)}
    index = StoreIndex(objects.items())
    assert dict(index) == objects and len(index) == 4 and "a.png" in index and "b.png" not in index
    assert index.get("b.png") is None
    assert isinstance(index._items["a.png"], bytes) and len(index._items["a.png"]) == 24
    assert all(isinstance(index._items[n], StoreObject) for n in ("big.bin", "g.txt", "none"))


def _pages(objects: dict[str, StoreObject], per_page: int = 2) -> Iterator[Page]:
    items = list(objects.items())
    for start in range(0, max(1, len(items)), per_page):
        yield items[start:start + per_page], start + per_page < len(items)


def _lister(objects: dict[str, StoreObject], calls: list[int], mark: int,
            references: int | None = None) -> Callable[[Path | None], Listed]:
    def compute(path: Path | None) -> Listed:
        calls.append(mark)
        return list_or_lookup("source s3:b", _pages(objects), references, IndexWriter(path))
    return compute


def test_the_first_process_lists_and_the_others_read_its_file(tmp_path: Path) -> None:
    calls: list[int] = []
    first, second = Counter(), Counter()
    objects = {"a.png": StoreObject(7, etag=MD5), "g.txt": StoreObject(5, md5=MD5, content_type="text/plain")}
    made = shared(str(tmp_path), "listings s3:b", first, _lister(objects, calls, 1))
    read = shared(str(tmp_path), "listings s3:b", second, _lister(objects, calls, 2))
    assert dict(made.index or {}) == dict(read.index or {}) == objects and made.plan == read.plan
    assert calls == [1] and second.snapshot() == {"shared listings s3:b": 1} and not first.snapshot()
    assert not list(tmp_path.glob("*.tmp")) and len(list(tmp_path.glob("*.sqlite"))) == 1


def test_a_lookups_plan_is_shared_and_its_objects_dropped(tmp_path: Path) -> None:
    calls: list[int] = []
    objects = {f"f{i}": StoreObject(i, etag=MD5) for i in range(9)}    # 5 pages of 2, 1 reference
    made = shared(str(tmp_path), "k", Counter(), _lister(objects, calls, 1, references=1))
    read = shared(str(tmp_path), "k", Counter(), _lister(objects, calls, 2, references=1))
    assert made.index is None and read.index is None and calls == [1]
    assert read.plan == made.plan and (made.plan.strategy, made.plan.pages, made.plan.objects) == ("lookups", 1, 2)
    big = shared(str(tmp_path), "k2", Counter(), lambda path: list_or_lookup(
        "s", _pages({f"f{i}": StoreObject(i) for i in range(5_000)}, per_page=1_000), 2,
        IndexWriter(path, bound=10)))
    assert big.index is None and all(f.stat().st_size < 50_000 for f in tmp_path.glob("*.sqlite"))


def test_a_failed_listing_leaves_no_file_and_the_next_process_lists(tmp_path: Path) -> None:
    def fail(path: Path | None) -> Listed:
        def pages() -> Iterator[Page]:
            yield [("x", StoreObject(1))], True
            raise TimeoutError("S3 did not answer")
        return list_or_lookup("source s3:b", pages(), None, IndexWriter(path))
    with pytest.raises(TimeoutError):
        shared(str(tmp_path), "listings s3:b", Counter(), fail)
    assert not list(tmp_path.glob("*.sqlite")) and not list(tmp_path.glob("*.tmp"))
    again = shared(str(tmp_path), "listings s3:b", Counter(), _lister({"x": StoreObject(1)}, [], 1))
    assert len(again.index or {}) == 1


def test_without_a_shared_directory_each_session_lists(tmp_path: Path) -> None:
    calls: list[int] = []
    for _ in range(2):
        shared("", "listings s3:b", Counter(), _lister({}, calls, 1))
    assert calls == [1, 1]


def test_a_second_lister_waits_for_the_one_listing(tmp_path: Path) -> None:
    """Two at once (threads: each opens the lock file itself, as a process would): one lists, the other waits for
    its lock and reads the file, whichever comes first."""
    started, counters = threading.Event(), [Counter(), Counter()]

    def slow(path: Path | None) -> Listed:
        started.set()
        time.sleep(0.2)
        return list_or_lookup("s", _pages({"a": StoreObject(1)}), None, IndexWriter(path))
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda c: shared(str(tmp_path), "k", c, slow), counters))
    assert dict(results[0].index or {}) == dict(results[1].index or {}) and started.is_set()
    assert sorted(str(c.snapshot()) for c in counters) == ["{'shared k': 1}", "{}"]


def test_a_job_gets_its_listed_facts_once_the_listings_are_in() -> None:
    """The URL is asked before the listings end; the source's and (for a URL) the target's facts come after."""
    ref = FileRef("GameScore", "o1", "avatar", "avatar", "a.png")
    url_job, grid_job = Job(ref, "https://files/a.png"), Job(ref, "gridfs://fs/a.png", Answer(200, 7),
                                                            target=StoreObject(7, md5=MD5))
    stores = Stores(source=StoreIndex([("a.png", StoreObject(7, etag=MD5))]),
                    target=StoreIndex([("a.png", StoreObject(7, etag="f" * 32))]))

    async def both() -> list[Job]:
        pending = asyncio.gather(stores.complete(url_job), stores.complete(grid_job))
        await asyncio.sleep(0.01)
        assert not pending.done()            # waiting for the listings
        stores.listed.set_result(None)
        return list(await pending)
    url_done, grid_done = asyncio.run(both())
    assert (url_done.source, url_done.target) == (StoreObject(7, etag=MD5), StoreObject(7, etag="f" * 32))
    assert (grid_done.source, grid_done.target) == (StoreObject(7, etag=MD5), StoreObject(7, md5=MD5))


def test_a_failed_listing_fails_each_job_that_waits_for_it() -> None:
    stores = Stores()
    stores.listed.set_exception(CouldNotVerify("listing the source bucket b failed: AccessDenied"))
    with pytest.raises(CouldNotVerify, match="AccessDenied"):
        asyncio.run(stores.complete(Job(FileRef("C", "o", "f", "f", "n"), "https://files/n")))


def test_a_failed_listing_is_listed_again_by_the_next_class(monkeypatch: pytest.MonkeyPatch) -> None:
    """As every memoized fact: what raised is not remembered; the request counter carries on."""
    outcomes = iter([CouldNotVerify("SlowDown"), None])

    def fake_list(session: object, out: Stores, references: int | None) -> None:
        out.counter.add("list s3:b")
        failure = next(outcomes)
        out.listed.set_exception(failure) if failure else out.listed.set_result(None)
    monkeypatch.setattr(stores_module, "_list_stores", fake_list)
    session: Any = SimpleNamespace()     # the listing itself is faked: no client is asked
    listings = stores_module.StoreListings()
    first = listings.started(session, None)
    with pytest.raises(CouldNotVerify):
        first.wait()
    second = listings.started(session, None)
    second.wait()
    assert second is not first and listings.started(session, None) is second
    assert second.counter.snapshot() == {"list s3:b": 2}
