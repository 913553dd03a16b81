"""The files area's facade (``session.files``): what the FILE-* checks and API-04 ask, computed once per session.

Every method returns a frozen fact from the session's clients (the target database, its GridFS, the S3
stores) through the modules of this package. The suite's own probe files are never the app's files.
"""
from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pymongo.database import Database

from cutover import probe_marks
from cutover.errors import ConfigError, CouldNotVerify
from cutover.facade import Facade
from cutover.files.gcs import GCSStore, gcs_bucket_problems
from cutover.files.integrity import ClassResolution, Grids, class_resolution, gridfs_stores
from cutover.files.refs import (
    FileField,
    FileRef,
    file_fields,
    iter_all_refs,
    iter_class_refs,
    schema_file_fields,
)
from cutover.files.resolve import ResolveOptions, ResolveSummary
from cutover.files.storage import (
    GridFSFacts,
    Orphans,
    bucket_facts,
    bucket_problems,
    bucket_region,
    find_orphans,
    gridfs_completeness,
    gridfs_file,
    gridfs_in_use,
    gridfs_names,
    s3_names,
    s3_object_size,
)
from cutover.files.stores import StoreListings
from cutover.files.urls import adapter_url, is_legacy_name, is_legacy_url, scheme_for
from cutover.listing import Capped
from cutover.memo import memoized
from cutover.model import Files, Target


@dataclass(frozen=True)
class FieldResolution:
    summary: ResolveSummary
    legacy_skipped: int           # legacy references: judged by FILE-02, not resolved here
    sizes_known: bool             # a source store was declared: sizes and content compared with it
    run: ClassResolution | None = None   # the class's resolution (requests, rate), shared by its fields


@dataclass(frozen=True)
class LegacyFacts:
    cls: str
    references: int
    legacy: int
    absent: int
    listed: tuple[FileRef, ...]   # the first ``cap`` legacy references absent from the new store


@dataclass(frozen=True)
class StoreFacts:
    label: str
    problems: tuple[str, ...]
    details: dict[str, Any]


def is_legacy(ref: FileRef) -> bool:
    return is_legacy_name(ref.name) or is_legacy_url(ref.url)


def files_config(target: Target) -> Files:
    if target.files is None:
        raise ConfigError(f"target {target.name!r} declares no [files] section")
    return target.files


def resolve_options(target: Target) -> ResolveOptions:
    t = target.thresholds
    file_key = target.parse.file_key if target.parse else ""
    return ResolveOptions(concurrency=t.file_concurrency, timeout_s=t.timeout_s, retries=t.file_retries,
                          cap=t.diff_cap, secrets=tuple(target.secrets) + ((file_key,) if file_key else ()),
                          ca_file=target.parse.ca_file if target.parse else "")


def store_label(target: Target) -> str:
    files = files_config(target)
    return "gridfs" if files.adapter == "gridfs" else f"{files.adapter}:{files.bucket}"



class FilesFacade(Facade):
    # -- what the checks run over ---------------------------------------------------------------------------
    @memoized
    def fields(self) -> list[FileField]:
        """Every (class, field) holding files on the target (the suite's probe class holds probes, not files)."""
        return [ff for ff in file_fields(self.session.target_db) if ff.cls != self.target.probe_class]

    def classes(self) -> list[str]:
        return sorted({ff.cls for ff in self.fields()})

    def stores(self) -> list[str]:
        """The stores to check: the adapter's, plus the target's GridFS when it holds files."""
        if self.target.files is None:
            return []
        labels = [store_label(self.target)]
        if labels[0] != "gridfs" and gridfs_in_use(self.grid_db()):
            labels.append("gridfs")
        return labels

    def grid_db(self) -> Database[Any]:
        """The database whose GridFS the target may hold files in (the adapter's, else the target database)."""
        return self.session.gridfs_db if self.session.gridfs_db is not None else self.session.target_db

    # -- FILE-01 --------------------------------------------------------------------------------------------
    def resolve(self, ff: FileField) -> FieldResolution:
        """Every non-legacy reference of one (class, field) through the adapter's URL (or, for a file held in the
        target's GridFS, read there), its size and content compared with the source store's. The whole class is
        resolved on the first of its fields (:mod:`cutover.files.integrity`)."""
        scheme = scheme_for(self.target)
        self.session.reach.require_url(adapter_url(scheme, "x"))  # a dead file host: one error, not one per URL
        files_config(self.target)
        done = self.class_resolution(ff.cls)
        summary = done.summaries.get(ff.field, ResolveSummary(ff.cls, ff.field))
        return FieldResolution(summary, done.legacy_skipped.get(ff.field, 0), done.content_compared, done)

    @memoized
    def class_resolution(self, cls: str) -> ClassResolution:
        """FILE-01 for every file field of ``cls``, from one pass over its documents: the run's stores are
        started first, then its GridFS stores asked (:mod:`cutover.files.integrity`)."""
        fields = [f for f in self.fields() if f.cls == cls]
        run = self.store_listings().started(self.session, self.reference_estimate())
        return class_resolution(self.session, scheme_for(self.target), fields, resolve_options(self.target), run,
                                self.gridfs_stores())

    @memoized
    def store_listings(self) -> StoreListings:
        """The run's view of the stores FILE-01 compares with: listed (or looked up) once per session."""
        return StoreListings()

    @memoized
    def gridfs_stores(self) -> Grids:
        """The GridFS stores that hold files, the target's and the source's."""
        return gridfs_stores(self.session)

    @memoized
    def reference_estimate(self) -> int:
        """About how many references FILE-01 checks in the run, before any class is read: each class's estimated
        document count (collection metadata, no scan) times its file fields. It decides per store between
        listing the bucket and looking up each reference (:mod:`cutover.files.store_plan`)."""
        per_class = Counter(ff.cls for ff in self.fields())
        db = self.session.target_db
        return sum(db[cls].estimated_document_count() * n for cls, n in per_class.items())

    # -- FILE-02 --------------------------------------------------------------------------------------------
    def legacy(self, cls: str) -> LegacyFacts:
        """Legacy references of one class, and those whose file is not in the new store."""
        spec = next((s for s in schema_file_fields(self.session.target_db) if s.cls == cls), None)
        refs, legacy = 0, 0
        absent = Capped[FileRef](self.target.thresholds.diff_cap, key=lambda r: (r.object_id, r.path))
        for ref in iter_class_refs(self.session.target_db, spec) if spec else iter(()):
            refs += 1
            if not is_legacy(ref):
                continue
            legacy += 1
            if not self.in_store(ref.name):
                absent.add(ref)
        return LegacyFacts(cls, refs, legacy, absent.total, tuple(absent.listed()))

    def in_store(self, name: str) -> bool:
        """Whether the target's store (or its GridFS, which may hold files beside another adapter's) has the file."""
        grid = self.grid_db()
        if gridfs_in_use(grid) and gridfs_file(grid, name) is not None:
            return True
        return not self.missing_from_store(name)

    # -- FILE-03 --------------------------------------------------------------------------------------------
    def store(self, label: str) -> StoreFacts:
        """The facts of one store (a label from :meth:`stores`)."""
        files = files_config(self.target)
        if label == "gridfs":
            grid = gridfs_completeness(self.grid_db(), cap=self.target.thresholds.diff_cap,
                                       budget_s=self.session.data.budget_s)
            return StoreFacts(label, tuple(self.gridfs_problems(grid)), {"files": grid.files})
        if files.adapter == "s3":
            facts = bucket_facts(self.session.s3, files.bucket, files.prefix, check_public=files.direct_access)
            problems = bucket_problems(facts, files.region, files.direct_access)
            return StoreFacts(label, tuple(problems), {"region": facts.region, "public_read": facts.public_read})
        if files.adapter == "gcs":
            problems, details = gcs_bucket_problems(self.gcs_store(), files)
            return StoreFacts(label, tuple(problems), details)
        raise CouldNotVerify(f"{files.adapter} bucket checks are not supported (no client); check the bucket by "
                             "hand")

    @memoized
    def gcs_store(self) -> GCSStore:
        """The target's GCS JSON API client (one per session, closed with it)."""
        files = files_config(self.target)
        store = GCSStore(files.endpoint_url, self.target.thresholds.timeout_s)
        self.session.keep(store)
        return store

    def gridfs_problems(self, grid: GridFSFacts) -> list[str]:
        """One line per incomplete file, naming the objects and fields that reference it."""
        if not grid.incomplete:
            return []
        users = self.referencing({f.name for f in grid.incomplete})
        return [f"{f.name} (id {f.file_id}) has {f.found_chunks} of {f.expected_chunks} chunks "
                f"(length {f.length}, chunkSize {f.chunk_size}); referenced by "
                f"{', '.join(users.get(f.name, [])) or 'nothing'}" for f in grid.incomplete]

    def referencing(self, names: set[str], per_name: int = 5) -> dict[str, list[str]]:
        """For a few names: 'Class objectId path' of the references to each (a full scan; use sparingly)."""
        out: dict[str, list[str]] = {}
        for ref in iter_all_refs(self.session.target_db):
            if ref.name in names and len(out.setdefault(ref.name, [])) < per_name:
                out[ref.name].append(f"{ref.cls} {ref.object_id} {ref.path}")
        return out

    @memoized
    def bucket_region(self) -> str | None:
        """The S3 bucket's region as GetBucketLocation reports it (None: no S3 store, or no such bucket)."""
        files = self.target.files
        if files is None or files.adapter != "s3" or self.session.s3 is None:
            return None
        return bucket_region(self.session.s3, files.bucket)

    # -- FILE-04 --------------------------------------------------------------------------------------------
    def orphans(self) -> Orphans:
        """Stored files that no reference names (holds the referenced names in memory)."""
        files = files_config(self.target)
        referenced = {ref.name for ref in iter_all_refs(self.session.target_db)}
        if files.adapter not in ("s3", "gridfs", "gcs"):
            raise CouldNotVerify(f"listing a {files.adapter} store is not supported; check for orphans by hand")
        stored: Iterator[str] = iter(())
        if files.adapter == "s3":
            stored = s3_names(self.session.s3, files.bucket, files.prefix)
        elif files.adapter == "gcs":
            stored = (name for name, _ in self.gcs_store().listing(files.bucket, files.prefix))
        grid = self.grid_db()
        names = itertools.chain(stored, gridfs_names(grid) if gridfs_in_use(grid) else ())
        # The suite's own probe files (API-04, possibly running at the same time under xdist) are no orphans.
        return find_orphans((n for n in names if probe_marks.NAME_PREFIX not in n), referenced,
                            self.target.thresholds.diff_cap)

    # -- API-04: where an uploaded file landed --------------------------------------------------------------
    def missing_from_store(self, name: str) -> str:
        """'' when the file ``name`` is in the adapter's store, else where it is not."""
        files = self.target.files
        if files is None:
            raise CouldNotVerify("the target declares no [files] store: add one to locate uploaded files")
        if files.adapter == "gridfs":
            grid = self.grid_db()
            return "" if gridfs_file(grid, name) else f"is not in GridFS (fs.files) of database '{grid.name}'"
        if files.adapter == "gcs":
            found = self.gcs_store().exists(files.bucket, files.prefix + name)
            return "" if found else (f"is not in GCS bucket '{files.bucket}' (object {files.prefix + name}): the "
                                     "server stores files somewhere else")
        if files.adapter != "s3":
            raise CouldNotVerify(f"files adapter '{files.adapter}': the store cannot be inspected by this suite")
        key = files.prefix + name
        if s3_object_size(self.session.s3, files.bucket, key) is None:
            return f"is not in bucket '{files.bucket}' (key {key}): the server stores files somewhere else"
        return ""
