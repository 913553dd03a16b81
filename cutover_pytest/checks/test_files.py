"""Files: every reference resolves, nothing depends on Parse-hosted files, the store is sound (FILE-01..04)."""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from cutover.files import ClassResolution, Failure, FileField, require_verified
from cutover.session import Session
from cutover_pytest.params import NOT_APPLICABLE, parametrize

NO_STORE = ("the target declares no files store: add [targets.NAME.files] (adapter s3, gridfs or gcs; Parse "
            "Server's default is gridfs) to verify the files criteria")


def _absent(what: str) -> Callable[[Session], str]:
    return lambda s: NO_STORE if s.target.files is None else NOT_APPLICABLE + what


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    parametrize(metafunc, "file_field", _fields, _absent("no File field in any class"))
    parametrize(metafunc, "file_class", lambda s: [(c, c) for c in s.files.classes()] if s.target.files else [],
                _absent("no class references files"))
    parametrize(metafunc, "store", lambda s: [(label, label) for label in s.files.stores()],
                _absent("no store in use"))


def _fields(session: Session) -> list[tuple[str, FileField]]:
    return [(ff.label, ff) for ff in session.files.fields()] if session.target.files else []


@pytest.mark.criterion("FILE-01")
def test_referenced_files_resolve(session: Session, file_field: FileField, report_table: Callable[..., None],
                                  record_facts: Callable[..., None]) -> None:
    """Every file this class and field references resolves through the target's files adapter: 2xx, not
    empty, and, where the source store is declared, the source's size, content (store digests, else a
    sampled byte comparison) and Content-Type family."""
    result = session.files.resolve(file_field)
    s = result.summary
    record_facts(total=s.total, resolved=s.resolved, missing=s.missing, corrupt=s.corrupt, errors=s.errors,
                 legacy_skipped=result.legacy_skipped, sizes_compared=result.sizes_known,
                 content_compared=result.sizes_known, content_methods=dict(s.methods),
                 sampled_bytes=s.sampled_bytes, failures=[dataclasses.asdict(f) for f in s.failures],
                 **_run_facts(result.run))
    report_table(f"{s.label}: files that do not resolve or differ from the source (first {len(s.failures)})",
                 FAILURE_COLUMNS, [_failure_row(f) for f in s.failures])
    require_verified(s)
    bad = "; ".join(f.describe() for f in (s.missing_failures() + s.corrupt_failures())[:10])
    also = f" ({s.errors} more could not be checked)" if s.errors else ""
    assert not s.missing and not s.corrupt, (f"{s.label}: of {s.total} files, {s.missing} do not resolve and "
                                             f"{s.corrupt} differ from the source{also}: {bad}")


FAILURE_COLUMNS = ["objectId", "path", "url", "status", "outcome", "reason", "method", "size", "source size",
                   "source digests", "target digests", "content type"]


def _failure_row(f: Failure) -> list[Any]:
    return [f.object_id, f.path, f.url, f.status, f.outcome, f.reason, f.method, f.size, f.source_size,
            f.source_digest, f.target_digest, f.content_type]


def _run_facts(run: ClassResolution | None) -> dict[str, Any]:
    """The class's resolution figures (shared by its fields): requests to stores and URLs, and their rate."""
    if run is None:
        return {}
    return {"class_requests": run.requests, "class_elapsed_s": run.elapsed_s,
            "class_request_rate_per_s": run.request_rate, "store_requests": run.run_requests,
            "store_plans": run.store_plans}


@pytest.mark.criterion("FILE-02")
def test_no_parse_hosted_files(session: Session, file_class: str, report_table: Callable[..., None],
                               record_facts: Callable[..., None]) -> None:
    """No object of this class still depends on Parse's retired file service (tfss-/legacy names,
    files.parsetfss.com / files.parse.com URLs), unless that file is present in the new store."""
    facts = session.files.legacy(file_class)
    record_facts(cls=file_class, references=facts.references, legacy=facts.legacy, absent=facts.absent,
                 listed=[dataclasses.asdict(r) for r in facts.listed])
    report_table(f"{file_class}: legacy references not in the new store", ["objectId", "path", "name"],
                 [[r.object_id, r.path, r.name] for r in facts.listed])
    listed = "; ".join(f"{r.object_id} {r.path} ({r.name})" for r in facts.listed[:10])
    assert not facts.absent, (f"{file_class}: {facts.absent} of {facts.references} file references still on "
                              f"Parse-hosted files and not in the new store: {listed}")


@pytest.mark.criterion("FILE-03")
def test_store_configuration(session: Session, store: str, record_facts: Callable[..., None]) -> None:
    """The store is sound: the bucket exists in the declared region; with direct access its name has no '.'
    and its objects are publicly readable; every GridFS file has all its chunks."""
    facts = session.files.store(store)
    record_facts(store=facts.label, problems=list(facts.problems), **facts.details)
    assert not facts.problems, f"{facts.label}: " + "; ".join(facts.problems[:10])


@pytest.mark.criterion("FILE-04")
def test_no_orphaned_files(session: Session, report_table: Callable[..., None],
                           record_facts: Callable[..., None]) -> None:
    """Every file in the store is referenced by some object (orphans are reported, never gate)."""
    if session.target.files is None:
        pytest.skip(NO_STORE)
    orphans = session.files.orphans()
    record_facts(stored=orphans.stored, orphans=orphans.orphans)
    report_table(f"orphaned files (first {len(orphans.listed)})", ["name"], [[n] for n in orphans.listed])
    assert not orphans.orphans, (f"{orphans.orphans} of {orphans.stored} stored files are referenced by no "
                                 f"object: {', '.join(orphans.listed[:10])}")
