"""Digest comparison, sampling plan and Content-Type families (pure functions of the files area)."""
from __future__ import annotations

import asyncio

import pytest

from cutover.files.content_type import by_extension, changed_family, family
from cutover.files.digests import StoreObject, checksums_judgement, compare, multipart
from cutover.files.sampling import SampleOptions, plan, sample_compare

MD5_A, MD5_B = "0" * 32, "f" * 32


@pytest.mark.parametrize(("source", "target", "verdict", "method"), [
    (StoreObject(10, etag=MD5_A), StoreObject(10, etag=MD5_A), "same", "md5"),
    (StoreObject(10, etag=MD5_A), StoreObject(10, etag=MD5_B), "differs", "md5"),
    (StoreObject(10, etag=MD5_A), StoreObject(11, etag=MD5_A), "differs", "size"),
    (StoreObject(10, etag=f"{MD5_A}-3"), StoreObject(10, etag=f"{MD5_A}-3"), "same", "multipart-etag"),
    # same part count, other ETag: the part size may differ, nothing is proven
    (StoreObject(10, etag=f"{MD5_A}-3"), StoreObject(10, etag=f"{MD5_B}-3"), "undecided", "multipart-etag"),
    (StoreObject(10, etag=f"{MD5_A}-3"), StoreObject(10, etag=MD5_A), "undecided", "none"),
    (StoreObject(10, md5=MD5_A), StoreObject(10, etag=MD5_A), "same", "md5"),        # GridFS md5 vs S3 ETag
    (StoreObject(10, crc32c="AAA="), StoreObject(10, crc32c="AAB="), "differs", "crc32c"),
    (StoreObject(10, chunks="255:1:7"), StoreObject(10, chunks="255:1:8"), "differs", "gridfs-chunks"),
    (StoreObject(10, chunks="255:1:7"), StoreObject(10, chunks="1024:1:7"), "undecided", "none"),
    (StoreObject(10), StoreObject(10), "undecided", "none"),
])
def test_compare_decides_only_on_a_shared_digest(source: StoreObject, target: StoreObject, verdict: str,
                                                 method: str) -> None:
    judgement = compare(source, target)
    assert (judgement.verdict, judgement.method) == (verdict, method)


def test_multipart_etag_parsing() -> None:
    assert multipart(f"{MD5_A}-12") == (MD5_A, 12)
    assert multipart(MD5_A) is None


def test_composite_checksums_are_not_compared() -> None:
    assert checksums_judgement({"crc32": "abc=-2"}, {"crc32": "abd=-2"}) is None
    judged = checksums_judgement({"crc32": "abc="}, {"crc32": "abd=", "sha256": "x"})
    assert judged is not None and judged.verdict == "differs" and "crc32" in judged.method


def test_families() -> None:
    assert family("image/png") == family("image/jpeg; q=1") == "image"
    assert family("application/pdf") == "application/pdf" and family("application/octet-stream") == ""
    assert changed_family("image/png", "application/octet-stream")
    assert not changed_family("image/png", "image/jpeg")
    assert not changed_family("", "text/plain")     # nothing expected: never a failure
    assert by_extension("a_avatar.png") == "image/png" and by_extension("x.unknownext") == ""


def test_sampling_plan_reads_small_objects_whole_and_large_ones_in_three_windows() -> None:
    options = SampleOptions(share=0.1, min_bytes=100)
    assert plan(50, options) == [(0, 50)]
    windows = plan(10_000, options)
    assert len(windows) == 3 and windows[0][0] == 0 and windows[-1][1] == 10_000
    assert sum(e - s for s, e in windows) >= 1000


def test_sample_compare_names_the_offset_of_the_first_difference() -> None:
    good = bytes(range(200))
    bad = good[:150] + b"\x00" + good[151:]

    def reader(body: bytes):  # type: ignore[no-untyped-def]
        async def read(start: int, end: int) -> bytes:
            return body[start:end]
        return read

    options = SampleOptions(share=1.0, min_bytes=1000)
    same = asyncio.run(sample_compare(reader(good), reader(good), 200, options))
    differs = asyncio.run(sample_compare(reader(bad), reader(good), 200, options))
    assert same.outcome == "resolved" and same.sampled_bytes == 200 and "sampled 200 of 200" in same.reason
    assert differs.outcome == "corrupt" and "offset 150" in differs.reason


def test_prefetch_hands_over_items_and_errors_in_order() -> None:
    from cutover.files.store_index import Prefetch

    assert list(Prefetch(iter(range(5000)), size=10)) == list(range(5000))

    def failing():  # type: ignore[no-untyped-def]
        yield 1
        raise ValueError("database gone")

    items = Prefetch(failing())
    assert next(items) == 1
    with pytest.raises(ValueError, match="database gone"):
        next(items)
    stopped = Prefetch(iter(range(10**9)), size=5)
    stopped.close()
    assert not stopped._thread.is_alive()
