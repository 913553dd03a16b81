"""FILE-01 for a whole run at the cost of its references: stores read once, classes read once, GridFS in batches.

Profiled cost before this module (issue 22): each (class, file field) listed or probed the source store
again, re-read every source GridFS size and asked the target's GridFS once per reference. Now, per run:
- each bucket (source and target) is listed once, or, when it is much larger than the references being
  checked, its objects are looked up one by one (:mod:`stores`): in the background, so the URL requests start
  at once and a job gets its store facts after its URL answered (:meth:`Stores.complete`);
- a class's documents are read once for all its file fields: the first FILE-01 of a class resolves the
  others too, and the checks of its other fields read the cached summaries;
- GridFS files (target census and digests, source digests) are read 1,000 names per batch.
The references of a class are resolved in the order the database returns them (``_id`` order on a
collection scan is not promised, but failure listings are sorted, so reports are deterministic).
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pymongo.database import Database

from cutover.errors import CouldNotVerify
from cutover.files.content import ContentJudge, Header, Reader, Side
from cutover.files.digests import StoreObject
from cutover.files.gcs import GCSStore
from cutover.files.gridfs_state import GridFSState, gridfs_range, gridfs_states
from cutover.files.lookups import Lookups
from cutover.files.refs import ClassFileFields, FileField, FileRef, iter_class_refs, schema_file_fields
from cutover.files.resolve import Answer, Job, ResolveOptions, ResolveSummary, resolve
from cutover.files.sampling import SampleOptions
from cutover.files.storage import gridfs_in_use
from cutover.files.store_index import HeadDetails, Prefetch, batched, s3_head, s3_range
from cutover.files.stores import Stores
from cutover.files.urls import UrlScheme, adapter_url, is_legacy_name, is_legacy_url

if TYPE_CHECKING:
    from botocore.client import BaseClient as S3Client

    from cutover.session import Session

BATCH = 1000


@dataclass(frozen=True)
class ClassResolution:
    """FILE-01 facts for every file field of one class, from one pass over its documents."""

    cls: str
    summaries: dict[str, ResolveSummary]
    legacy_skipped: dict[str, int]
    requests: dict[str, int]          # requests sent to stores and URLs while resolving this class
    elapsed_s: float
    content_compared: bool            # a source store was declared: content compared with it
    run_requests: dict[str, int] = field(default_factory=dict)  # this process's requests so far, listings included
    store_plans: dict[str, dict[str, Any]] = field(default_factory=dict)  # per bucket: listed or looked up, why

    @property
    def request_rate(self) -> float:
        """HTTP requests per second to the file host and stores (the politeness fact)."""
        return round(sum(self.requests.values()) / self.elapsed_s, 1) if self.elapsed_s else 0.0


def class_resolution(session: Session, scheme: UrlScheme, fields: list[FileField], options: ResolveOptions,
                     run: Stores, grids: Grids) -> ClassResolution:
    """Resolve every reference of one class (all of ``fields``) with the run's stores (their listings started)
    and GridFS stores (asked before the class is streamed: a busy database answers them late). The files
    facade remembers the result (:meth:`cutover.files.facade.FilesFacade.class_resolution`)."""
    cls, wanted = fields[0].cls, {ff.field for ff in fields}
    spec = only_fields(next(s for s in schema_file_fields(session.target_db) if s.cls == cls), wanted)
    refs = iter_class_refs(session.target_db, spec)
    skipped = dict.fromkeys(sorted(wanted), 0)
    before, t0 = run.counter.snapshot(), time.monotonic()
    judge = content_judge(session, run, grids)
    jobs = Prefetch(_jobs(session, refs, scheme, run, grids, skipped))
    try:
        done = resolve(jobs, options, judge=judge, counter=run.counter, complete=run.complete)
    finally:
        jobs.close()
    run.wait()     # a class without references did not wait for the listings: its facts count them too
    elapsed = time.monotonic() - t0
    summaries = {f: done.get((cls, f), ResolveSummary(cls, f)) for f in sorted(wanted)}
    spent = {k: v - before.get(k, 0) for k, v in run.counter.snapshot().items() if v - before.get(k, 0)}
    return ClassResolution(cls, summaries, skipped, spent, round(elapsed, 3), run.source is not None,
                           run.counter.snapshot(), {k: p.fact() for k, p in sorted(run.plans.items())})


def only_fields(spec: ClassFileFields, wanted: set[str]) -> ClassFileFields:
    """The class's fields that hold files: an Object/Array field found to hold none (a GameScore's ``stats``) is
    neither queried nor read (it made every document of the class match, and be decoded, for nothing)."""
    return ClassFileFields(spec.cls, tuple(f for f in spec.files if f in wanted),
                           tuple(f for f in spec.containers if f in wanted))


@dataclass(frozen=True)
class Grids:
    """The GridFS stores that hold files: the target's (or its adapter's) and the source's (None: not in use)."""

    target: Database[Any] | None
    source: Database[Any] | None


def gridfs_stores(session: Session) -> Grids:
    return Grids(_grid(session), _source_grid(session))


def _jobs(session: Session, refs: Iterator[FileRef], scheme: UrlScheme, run: Stores, grids: Grids,
          skipped: dict[str, int]) -> Iterator[Job]:
    for batch in batched(refs, BATCH):
        live = [r for r in batch if not _legacy(r, skipped)]
        names = {r.name for r in live}
        on_grid = gridfs_states(grids.target, names) if grids.target is not None else {}
        sources = _source_grid_objects(run, grids.source, names, session.data.budget_s)
        for ref in live:
            yield _job(ref, scheme, on_grid.get(ref.name), sources.get(ref.name))


def _legacy(ref: FileRef, skipped: dict[str, int]) -> bool:
    if is_legacy_name(ref.name) or is_legacy_url(ref.url):
        skipped[ref.field] += 1
        return True
    return False


def _job(ref: FileRef, scheme: UrlScheme, state: GridFSState | None, source: StoreObject | None) -> Job:
    """The job of one reference; the bucket listings' facts are added after its URL answered (Stores.complete)."""
    if state is None:
        return Job(ref, adapter_url(scheme, ref.name), source=source)
    census = state.file
    answer = Answer(200, census.length) if census.complete else \
        Answer(missing=f"GridFS file has {census.found_chunks} of {census.expected_chunks} chunks")
    return Job(ref, f"gridfs://fs/{ref.name}", answer, source=source, target=state.obj)


def _source_grid_objects(run: Stores, source_grid: Database[Any] | None, names: set[str],
                         budget_s: float) -> dict[str, StoreObject]:
    """The source GridFS's objects of ``names`` (none without a source GridFS). The listings are not waited for
    (that held every URL request back until both buckets were listed): where the source bucket's listing is in,
    the names it holds are left out; :meth:`Stores.complete` prefers the bucket's facts either way."""
    if source_grid is None:
        return {}
    done = run.listed.done() and run.listed.exception() is None
    listed = run.source if done and run.source is not None and not isinstance(run.source, Lookups) else None
    rest = {n for n in names if n not in listed} if listed is not None else names
    return {n: s.obj for n, s in gridfs_states(source_grid, rest, budget_s=budget_s).items()} if rest else {}


def _grid(session: Session) -> Database[Any] | None:
    db = session.gridfs_db if session.gridfs_db is not None else session.target_db
    return db if gridfs_in_use(db) else None


def _source_grid(session: Session) -> Database[Any] | None:
    return session.source_db if gridfs_in_use(session.source_db) else None


def content_judge(session: Session, run: Stores, grids: Grids) -> ContentJudge | None:
    """The judge comparing content with the source, None when no source store is declared or in use."""
    t, files = session.target.thresholds, session.target.files
    assert files is not None    # FILE-01 runs only for a target that declares its files
    if not files.source_bucket and grids.source is None:
        return None
    source_s3 = session.source_s3 if files.source_adapter in ("", "s3") else None
    source = Side("source", _reader(source_s3, files.source_bucket, "", run, grids.source),
                  _header(source_s3, files.source_bucket, "", run, target=False))
    target_s3 = session.s3 if files.adapter == "s3" else None
    target = Side("target", _reader(target_s3, files.bucket, files.prefix, run, grids.target, target=True),
                  _header(target_s3, files.bucket, files.prefix, run, target=True))
    return ContentJudge(source, target, SampleOptions(t.content_sample_share, t.content_sample_min_bytes))


def _reader(s3: S3Client | None, bucket: str, prefix: str, run: Stores, grid: Database[Any] | None,
            target: bool = False) -> Reader:
    """Ranged reads from the bucket (S3 client or :class:`GCSStore`) where it lists the name, else GridFS.
    Called only after the job's listings are in (:meth:`Stores.complete`)."""
    def read(name: str, start: int, end: int) -> bytes:
        listed, gcs = (run.target, run.target_gcs) if target else (run.source, run.source_gcs)
        store = s3 or gcs
        if isinstance(store, GCSStore) and listed is not None and name in listed:
            return store.read(bucket, prefix + name, start, end)
        if store is not None and listed is not None and name in listed:
            return s3_range(store, bucket, prefix + name, start, end, run.counter)
        state = gridfs_states(grid, [name]).get(name) if grid is not None else None
        if state is None or grid is None:
            raise CouldNotVerify(f"{name} is in neither the {'target' if target else 'source'} bucket nor GridFS")
        return gridfs_range(grid, state.raw_id, state.file.chunk_size, start, end)
    return read


def _header(s3: S3Client | None, bucket: str, prefix: str, run: Stores, target: bool) -> Header | None:
    if s3 is None or not bucket:
        return None

    def head(name: str) -> HeadDetails | None:
        listed = run.target if target else run.source
        return s3_head(s3, bucket, prefix + name, run.counter) if listed is not None and name in listed else None
    return head
