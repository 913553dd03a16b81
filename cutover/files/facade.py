"""The files area for one target: what the FILE-* checks ask, assembled from the library pieces.

Every function takes the run's :class:`cutover.session.Session` (lazily opened clients) and returns a
frozen fact. Discovery is memoized in ``session.cache`` under keys starting with ``files.``.
"""
from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from cutover.errors import ConfigError, CouldNotVerify
from cutover.files.gcs import GCSStore, gcs_bucket_problems
from cutover.files.integrity import ClassResolution, class_resolution
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
    find_orphans,
    gridfs_completeness,
    gridfs_file,
    gridfs_in_use,
    gridfs_names,
    s3_names,
    s3_object_size,
)
from cutover.files.urls import adapter_url, is_legacy_name, is_legacy_url, scheme_for
from cutover.listing import Capped
from cutover.model import Files, Target
from cutover.rest.probes import NAME_PREFIX as PROBE_NAME_PREFIX


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


def discovered_fields(session: Any) -> list[FileField]:
    """Every (class, field) holding files on the target, computed once per session."""
    if "files.fields" not in session.cache:  # the suite's probe class holds probes, not the app's files
        session.cache["files.fields"] = [ff for ff in file_fields(session.target_db)
                                         if ff.cls != session.target.probe_class]
    return list(session.cache["files.fields"])


def classes_with_files(session: Any) -> list[str]:
    return sorted({ff.cls for ff in discovered_fields(session)})


def resolve_options(target: Target) -> ResolveOptions:
    t = target.thresholds
    file_key = target.parse.file_key if target.parse else ""
    return ResolveOptions(concurrency=t.file_concurrency, timeout_s=t.timeout_s, retries=t.file_retries,
                          cap=t.diff_cap, secrets=tuple(target.secrets) + ((file_key,) if file_key else ()),
                          ca_file=target.parse.ca_file if target.parse else "")


def resolve_field(session: Any, ff: FileField) -> FieldResolution:
    """FILE-01 facts for one (class, field): every non-legacy reference through the adapter's URL (or, for a
    file held in the target's GridFS, read there), its size and content compared with the source store's.
    The whole class is resolved on the first of its fields (:mod:`cutover.files.integrity`)."""
    target = session.target
    scheme = scheme_for(target)
    session.reach.require_url(adapter_url(scheme, "x"))  # a dead file host: one error now, not one per URL
    files_config(target)
    fields = [f for f in discovered_fields(session) if f.cls == ff.cls]
    done = class_resolution(session, scheme, fields, resolve_options(target))
    summary = done.summaries.get(ff.field, ResolveSummary(ff.cls, ff.field))
    return FieldResolution(summary, done.legacy_skipped.get(ff.field, 0), done.content_compared, done)


def legacy_facts(session: Any, cls: str) -> LegacyFacts:
    """FILE-02 facts for one class: legacy references, and those whose file is not in the new store."""
    spec = next((s for s in schema_file_fields(session.target_db) if s.cls == cls), None)
    refs, legacy = 0, 0
    absent = Capped[FileRef](session.target.thresholds.diff_cap, key=lambda r: (r.object_id, r.path))
    for ref in iter_class_refs(session.target_db, spec) if spec else iter(()):
        refs += 1
        if not is_legacy(ref):
            continue
        legacy += 1
        if not in_store(session, ref.name):
            absent.add(ref)
    return LegacyFacts(cls, refs, legacy, absent.total, tuple(absent.listed()))


def grid_db(session: Any) -> Any:
    """The database whose GridFS the target may hold files in (the adapter's, else the target database)."""
    return session.gridfs_db if session.gridfs_db is not None else session.target_db


def in_store(session: Any, name: str) -> bool:
    """Whether the target's store (or its GridFS) holds a file of that name."""
    files = files_config(session.target)
    if gridfs_in_use(grid_db(session)) and gridfs_file(grid_db(session), name) is not None:
        return True
    if files.adapter == "s3":
        return s3_object_size(session.s3, files.bucket, files.prefix + name) is not None
    if files.adapter == "gcs":
        return gcs_store(session).exists(files.bucket, files.prefix + name)
    if files.adapter == "gridfs":
        return False
    raise CouldNotVerify(f"looking up files in a {files.adapter} store is not supported; check by hand")


def gcs_store(session: Any) -> GCSStore:
    """The target's GCS JSON API client (one per session)."""
    if "files.gcs" not in session.cache:
        files = files_config(session.target)
        session.cache["files.gcs"] = session.keep(GCSStore(files.endpoint_url, session.target.thresholds.timeout_s))
    store: GCSStore = session.cache["files.gcs"]
    return store


def store_label(target: Target) -> str:
    files = files_config(target)
    return "gridfs" if files.adapter == "gridfs" else f"{files.adapter}:{files.bucket}"


def store_labels(session: Any) -> list[str]:
    """The stores to check: the adapter's, plus the target's GridFS when it holds files."""
    if session.target.files is None:
        return []
    labels = [store_label(session.target)]
    if labels[0] != "gridfs" and gridfs_in_use(grid_db(session)):
        labels.append("gridfs")
    return labels


def store_facts(session: Any, label: str) -> StoreFacts:
    """FILE-03 facts for one store (a label from :func:`store_labels`)."""
    files = files_config(session.target)
    if label == "gridfs":
        grid = gridfs_completeness(grid_db(session), cap=session.target.thresholds.diff_cap,
                                   budget_s=session.aggregation_budget_s)
        return StoreFacts(label, tuple(gridfs_problems(session, grid)), {"files": grid.files})
    if files.adapter == "s3":
        facts = bucket_facts(session.s3, files.bucket, files.prefix, check_public=files.direct_access)
        problems = bucket_problems(facts, files.region, files.direct_access)
        return StoreFacts(label, tuple(problems), {"region": facts.region, "public_read": facts.public_read})
    if files.adapter == "gcs":
        problems, details = gcs_bucket_problems(gcs_store(session), files)
        return StoreFacts(label, tuple(problems), details)
    raise CouldNotVerify(f"{files.adapter} bucket checks are not supported (no client); check the bucket by hand")


def gridfs_problems(session: Any, grid: GridFSFacts) -> list[str]:
    """One line per incomplete file, naming the objects and fields that reference it."""
    if not grid.incomplete:
        return []
    users = referencing(session, {f.name for f in grid.incomplete})
    return [f"{f.name} (id {f.file_id}) has {f.found_chunks} of {f.expected_chunks} chunks "
            f"(length {f.length}, chunkSize {f.chunk_size}); referenced by "
            f"{', '.join(users.get(f.name, [])) or 'nothing'}" for f in grid.incomplete]


def referencing(session: Any, names: set[str], per_name: int = 5) -> dict[str, list[str]]:
    """For a few names: 'Class.objectId.path' of the references to each (a full scan; use sparingly)."""
    out: dict[str, list[str]] = {}
    for ref in iter_all_refs(session.target_db):
        if ref.name in names and len(out.setdefault(ref.name, [])) < per_name:
            out[ref.name].append(f"{ref.cls} {ref.object_id} {ref.path}")
    return out


def orphan_facts(session: Any) -> Orphans:
    """FILE-04 facts: stored files that no reference names (holds the referenced names in memory)."""
    files = files_config(session.target)
    referenced = {ref.name for ref in iter_all_refs(session.target_db)}
    cap = session.target.thresholds.diff_cap
    if files.adapter not in ("s3", "gridfs", "gcs"):
        raise CouldNotVerify(f"listing a {files.adapter} store is not supported; check for orphans by hand")
    stored: Iterator[str] = iter(())
    if files.adapter == "s3":
        stored = s3_names(session.s3, files.bucket, files.prefix)
    elif files.adapter == "gcs":
        stored = (name for name, _ in gcs_store(session).listing(files.bucket, files.prefix))
    grid = grid_db(session)
    names = itertools.chain(stored, gridfs_names(grid) if gridfs_in_use(grid) else ())
    # The suite's own probe files (API-04, possibly running at the same time under xdist) are no orphans.
    return find_orphans((n for n in names if PROBE_NAME_PREFIX not in n), referenced, cap)
