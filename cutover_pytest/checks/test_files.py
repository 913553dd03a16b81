"""Files: every reference resolves, nothing depends on Parse-hosted files, the store is sound (FILE-01..04)."""
from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from cutover.files import FileField, require_verified
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
    empty, and the source's size where the source store is reachable."""
    result = session.files.resolve(file_field)
    s = result.summary
    record_facts(total=s.total, resolved=s.resolved, missing=s.missing, errors=s.errors,
                 legacy_skipped=result.legacy_skipped, sizes_compared=result.sizes_known,
                 failures=[dataclasses.asdict(f) for f in s.failures])
    report_table(f"{s.label}: unresolved files (first {len(s.failures)})", ["objectId", "path", "url", "status",
                 "reason"], [[f.object_id, f.path, f.url, f.status, f.reason] for f in s.failures])
    require_verified(s)
    missing = "; ".join(f.describe() for f in s.missing_failures()[:10])
    also = f" ({s.errors} more could not be checked)" if s.errors else ""
    assert not s.missing, f"{s.label}: {s.missing} of {s.total} files do not resolve{also}: {missing}"


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
