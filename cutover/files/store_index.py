"""Store facts for FILE-01, read the cheap way: one paged listing per bucket, GridFS in batches.

A listing gives size and digest of a thousand objects per request (S3 ``ETag``; GCS ``md5Hash``/``crc32c``
and ``contentType``), where a per-object HEAD costs a request each: so each bucket is listed once per run
and kept as a :class:`StoreIndex`: name -> size and digest, packed into 24 bytes where the object has an MD5
ETag (most S3 objects), else its :class:`StoreObject` (measured in ``bench/bench_files_e2e.py``: 169
bytes an object with its name, against 298 for a map of objects: about 170 MB for a million objects).
:class:`Counter` counts the requests sent to each store, the figure FILE-01 records and the bench reports.
"""
from __future__ import annotations

import queue
import struct
import threading
from collections import Counter as _Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from cutover.files.digests import StoreObject
from cutover.files.storage import head_object, s3_call

CHECKSUM_KEYS = ("ChecksumCRC32", "ChecksumCRC32C", "ChecksumCRC64NVME", "ChecksumSHA1", "ChecksumSHA256")


@dataclass
class Counter:
    """Requests sent to the stores, by kind (``list s3:bucket``, ``head s3:bucket``...); thread-safe."""

    counts: _Counter[str] = field(default_factory=_Counter)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, kind: str, n: int = 1) -> None:
        with self.lock:
            self.counts[kind] += n

    def snapshot(self) -> dict[str, int]:
        with self.lock:
            return dict(sorted(self.counts.items()))


_SIZE = struct.Struct("<Q")


class StoreIndex(Mapping[str, StoreObject]):
    """A store's listing, name -> :class:`StoreObject`, kept compact: an object that holds only a size and an MD5
    ETag (a single-part S3 upload) is packed into 24 bytes and rebuilt when asked for."""

    def __init__(self, items: Iterable[tuple[str, StoreObject]] = ()) -> None:
        self._items: dict[str, bytes | StoreObject] = {name: _pack(obj) for name, obj in items}

    def add(self, items: Iterable[tuple[str, StoreObject]]) -> None:
        self._items.update((name, _pack(obj)) for name, obj in items)

    def __getitem__(self, name: str) -> StoreObject:
        value = self._items[name]
        return value if isinstance(value, StoreObject) else _unpack(value)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)


def _pack(obj: StoreObject) -> bytes | StoreObject:
    if obj.md5 or obj.crc32c or obj.chunks or obj.content_type or len(obj.etag) != 32 or obj.etag != obj.plain_md5:
        return obj
    return _SIZE.pack(obj.size) + bytes.fromhex(obj.etag)


def _unpack(value: bytes) -> StoreObject:
    return StoreObject(_SIZE.unpack_from(value)[0], etag=value[8:].hex())


@dataclass(frozen=True)
class HeadDetails:
    """What one HeadObject adds to a listing: type, encryption, additional checksums."""

    content_type: str = ""
    encryption: str = ""
    checksums: dict[str, str] = field(default_factory=dict)


Page = tuple[list[tuple[str, StoreObject]], bool]   # (name, object) of one listing page, and whether more follow


def s3_pages(s3: Any, bucket: str, prefix: str, counter: Counter) -> Iterator[Page]:
    """The listing of every object under ``prefix`` (names without it), page by page: a request each."""
    pages = iter(s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix))
    while True:
        counter.add(f"list s3:{bucket}")
        page = s3_call(f"ListObjectsV2 {bucket}", lambda: next(pages, None))
        if page is None:
            return
        items = [(item["Key"][len(prefix):], StoreObject(int(item.get("Size", 0)),
                                                         etag=str(item.get("ETag", "")).strip('"').lower()))
                 for item in page.get("Contents", [])]
        yield items, bool(page.get("IsTruncated"))
        if not page.get("IsTruncated"):
            return


def s3_listing(s3: Any, bucket: str, prefix: str, counter: Counter) -> Iterator[tuple[str, StoreObject]]:
    """(name without prefix, object) for every object under ``prefix``."""
    for items, _ in s3_pages(s3, bucket, prefix, counter):
        yield from items


def s3_lookup(s3: Any, bucket: str, key: str, counter: Counter) -> StoreObject | None:
    """One object's size, ETag and type (HeadObject), None when absent: the per-object alternative to a listing."""
    counter.add(f"lookup s3:{bucket}")
    answer = head_object(s3, bucket, key)
    if answer is None:
        return None
    return StoreObject(int(answer.get("ContentLength", 0)), etag=str(answer.get("ETag", "")).strip('"').lower(),
                       content_type=str(answer.get("ContentType", "")))


def s3_head(s3: Any, bucket: str, key: str, counter: Counter) -> HeadDetails | None:
    """HeadObject with checksum mode on: content type, encryption and checksums; None when absent."""
    counter.add(f"head s3:{bucket}")
    answer = head_object(s3, bucket, key, ChecksumMode="ENABLED")
    if answer is None:
        return None
    sums = {k.removeprefix("Checksum").lower(): str(answer[k]) for k in CHECKSUM_KEYS if answer.get(k)}
    return HeadDetails(str(answer.get("ContentType", "")), str(answer.get("ServerSideEncryption", "")), sums)


def s3_range(s3: Any, bucket: str, key: str, start: int, end: int, counter: Counter) -> bytes:
    """Bytes ``start`` .. ``end`` - 1 of one object."""
    counter.add(f"get s3:{bucket}")
    answer = s3_call(f"GetObject {key}",
                     lambda: s3.get_object(Bucket=bucket, Key=key, Range=f"bytes={start}-{end - 1}"))
    return bytes(answer["Body"].read())


def batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class Prefetch:
    """An iterator that a background thread fills ahead (at most ``size`` items): the database reads and GridFS
    batches that build jobs overlap the requests in flight, instead of stalling every worker at each batch.
    Errors reach the consumer; :meth:`close` (or a finished consumer) stops the thread."""

    _END = object()

    def __init__(self, items: Iterable[Any], size: int = 2000) -> None:
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=size)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._fill, args=(iter(items),), daemon=True, name="files-prefetch")
        self._thread.start()

    def _fill(self, items: Iterator[Any]) -> None:
        try:
            for item in items:
                if not self._put(item):
                    return
            self._put(self._END)
        except BaseException as exc:  # handed to the consumer, which raises it
            self._put(_Raised(exc))

    def _put(self, item: Any) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self) -> Prefetch:
        return self

    def __next__(self) -> Any:
        item = self._queue.get()
        if item is self._END:
            self._queue.put(self._END)   # every later next() ends too
            raise StopIteration
        if isinstance(item, _Raised):
            self._queue.put(item)
            raise item.exc
        return item

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


@dataclass(frozen=True)
class _Raised:
    exc: BaseException
