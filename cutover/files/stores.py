"""The run's view of the file stores for FILE-01: per store a listing or lookups, read in the background.

Each bucket (source and target) is listed once per run (the files facade keeps it in a process; between the
processes of an xdist run, :mod:`shared_listing`), in the background: the URL requests start at once, and a job
gets its store facts after its URL answered (:meth:`Stores.complete`), so the listings overlap the requests. A
listing is bounded in memory (:mod:`listing_file`), and a bucket much larger than the references being checked is
not listed to its end: its objects are looked up one by one (:mod:`store_plan` chooses, :mod:`lookups` asks).
"""
from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from cutover.errors import CouldNotVerify
from cutover.files.digests import StoreObject
from cutover.files.gcs import GCSStore
from cutover.files.listing_file import IndexWriter
from cutover.files.lookups import Lookups
from cutover.files.resolve import Job
from cutover.files.shared_listing import shared
from cutover.files.storage import error_code
from cutover.files.store_index import Counter, Page, s3_lookup, s3_pages
from cutover.files.store_plan import Listed, StorePlan, list_or_lookup

if TYPE_CHECKING:
    from cutover.session import Session

Index = Mapping[str, StoreObject] | Lookups


@dataclass
class Stores:
    """The run's view of the stores (built once per session). The listings run in the background from the first
    FILE-01 on: the URL requests start at once, and each job gets its store facts (:meth:`complete`) after its
    URL answered, by which time the listings are mostly in."""

    counter: Counter = field(default_factory=Counter)
    source: Index | None = None             # the source bucket's listing or lookups (None: no source bucket)
    target: Index | None = None             # the target bucket's (None: not a bucket)
    source_gcs: GCSStore | None = None      # the JSON API clients, for GCS buckets
    target_gcs: GCSStore | None = None
    plans: dict[str, StorePlan] = field(default_factory=dict)   # how each bucket is read, and why
    listed: Future[None] = field(default_factory=Future)         # done when both are in (or one failed)

    def wait(self) -> None:
        """Block until both listings are in; a failed listing raises here (the next class lists again)."""
        self.listed.result()

    async def complete(self, job: Job) -> Job:
        """The job with the source bucket's facts of its file (else what the source's GridFS gave) and, for a
        URL, the target bucket's."""
        if not self.listed.done():
            await asyncio.wrap_future(self.listed)
        self.listed.result()
        name = job.ref.name
        listed = await facts_of(self.source, name)
        source = listed if listed is not None else job.source
        target = job.target if job.answer is not None else await facts_of(self.target, name)
        return job if source is job.source and target is job.target else Job(job.ref, job.url, job.answer,
                                                                               source, target)


async def facts_of(index: Index | None, name: str) -> StoreObject | None:
    if index is None:
        return None
    return await index.aget(name) if isinstance(index, Lookups) else index.get(name)


@dataclass
class StoreListings:
    """The session's :class:`Stores` (one per session: the files facade remembers it)."""

    stores: Stores | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def started(self, session: Session, references: int | None) -> Stores:
        """The stores, their listings started (not necessarily finished: :meth:`Stores.wait`). A failed listing
        is not remembered: the next class starts it again (the request counter carries on). ``references``: the
        run's estimated references, which decides listing or lookups (None: always list)."""
        with self.lock:
            if self.stores is None or _failed(self.stores):
                counter = self.stores.counter if self.stores else Counter()
                self.stores = _start_listings(session, counter, references)
            return self.stores


def _failed(run: Stores) -> bool:
    return run.listed.done() and run.listed.exception() is not None


def _start_listings(session: Session, counter: Counter, references: int | None) -> Stores:
    out = Stores(counter)
    threading.Thread(target=_list_stores, args=(session, out, references), daemon=True,
                     name="files-listings").start()
    return out


def _list_stores(session: Session, out: Stores, references: int | None) -> None:
    """Both buckets listed at once (two threads): each listing is a chain of page requests."""
    try:
        with ThreadPoolExecutor(2, thread_name_prefix="files-listing") as pool:
            source = pool.submit(_read_store, session, out, references, _source_side(session, out))
            target = pool.submit(_read_store, session, out, references, _target_side(session, out))
            out.source, out.target = source.result(), target.result()
    except BaseException as exc:  # handed to whoever waits for the listings
        out.listed.set_exception(exc)
    else:
        out.listed.set_result(None)


@dataclass(frozen=True)
class _Side:
    """One bucket: its label, its pages and a lookup of one object."""

    role: str                                          # source | target
    label: str                                         # s3:bucket, gcs:bucket/prefix
    pages: Callable[[], Iterator[Page]]
    lookup: Callable[[str], StoreObject | None]


def _source_side(session: Session, out: Stores) -> _Side | None:
    files = session.target.files
    if files is None or not files.source_bucket:
        return None
    adapter = "gcs" if files.source_adapter == "gcs" else "s3"
    return _bucket_side(session, out, "source", adapter, files.source_bucket, "",
                        files.source_endpoint_url or files.endpoint_url)


def _target_side(session: Session, out: Stores) -> _Side | None:
    files = session.target.files
    if files is None or files.adapter not in ("gcs", "s3") or not files.bucket:
        return None
    return _bucket_side(session, out, "target", files.adapter, files.bucket, files.prefix, files.endpoint_url)


def _bucket_side(session: Session, out: Stores, role: str, adapter: str, bucket: str, prefix: str,
                 endpoint: str) -> _Side:
    """One bucket read through its store's API (the target's label names its prefix, the source has none)."""
    label = f"{adapter}:{bucket}" + (f"/{prefix}" if role == "target" else "")
    if adapter == "gcs":
        gcs = session.keep(GCSStore(endpoint, session.target.thresholds.timeout_s, out.counter))
        if role == "source":
            out.source_gcs = gcs
        else:
            out.target_gcs = gcs
        return _Side(role, label, lambda: gcs.pages(bucket, prefix), lambda n: gcs.lookup(bucket, prefix + n))
    s3 = session.source_s3 if role == "source" else session.s3
    return _Side(role, label, _guarded(lambda: s3_pages(s3, bucket, prefix, out.counter), bucket, role),
                 lambda n: s3_lookup(s3, bucket, prefix + n, out.counter))


def _read_store(session: Session, out: Stores, references: int | None, side: _Side | None) -> Index | None:
    """The bucket's listing, or its lookups when listing it costs more (made once per run: ``shared <key>``
    counts the ones another process made; ``listings <label>`` the listings started)."""
    if side is None:
        return None
    key = f"listings {side.label}"
    counter, store = out.counter, f"{side.role} {side.label}"

    def compute(path: Path | None) -> Listed:
        counter.add(key)
        writer = IndexWriter(path)
        try:
            return list_or_lookup(store, side.pages(), references, writer)
        except BaseException:
            writer.discard()
            raise
    listed = shared(session.options.shared_dir, key, counter, compute)
    out.plans[store] = listed.plan
    if listed.index is not None:
        if hasattr(listed.index, "close"):
            session.keep(listed.index)
        return listed.index
    return session.keep(Lookups(side.lookup, session.target.thresholds.file_concurrency))


def _guarded(pages: Callable[[], Iterator[Page]], bucket: str, role: str) -> Callable[[], Iterator[Page]]:
    def guarded() -> Iterator[Page]:
        try:
            yield from pages()
        except ClientError as exc:
            raise CouldNotVerify(f"listing the {role} bucket {bucket} failed: {error_code(exc) or exc}; FILE-01 "
                                 f"compares content with it: grant s3:ListBucket or fix files.*bucket") from exc
    return guarded
