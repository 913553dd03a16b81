"""Data criteria: row counts (DB-01), content (DB-02), collections (DB-07); deployment health (DB-06) is in
test_health.py."""
from __future__ import annotations

from typing import Any

import pytest

from cutover.data import inventory, source_plan
from cutover.data.facade import (
    collection_infos,
    content_diff,
    content_units,
    count_pair,
    data_classes,
    memo,
    mongo_source,
    without_probes,
)
from cutover.data.source_compare import not_verifiable
from cutover.data.source_schema import COLLECTION_OPTIONS_UNSEEN, permission_differences
from cutover_pytest.params import not_applicable, parametrize


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    parametrize(metafunc, "cls", lambda session: [(name, name) for name in data_classes(session)],
                not_applicable("no class on the source or the target"))
    parametrize(metafunc, "unit", _content_units, not_applicable("no collection on the source or the target"))


def _content_units(session: Any) -> list[tuple[str, Any]]:
    return source_plan.units(session) if source_plan.is_document_source(session) else content_units(session)


def _allowed(target: Any, difference: int) -> bool:
    db = target.database
    return difference == 0 or (db.live_sync and abs(difference) <= db.count_tolerance)


# -- DB-01 --------------------------------------------------------------------------------------------
@pytest.mark.criterion("DB-01")
def test_row_count(session: Any, target: Any, cls: str, record_facts: Any) -> None:
    """DB-01: the target holds exactly as many documents of the class as the source (a tolerance only
    while a declared live sync runs)."""
    pair = count_pair(session, cls)
    record_facts(cls=cls, source=pair.source, target=pair.target, difference=pair.difference)
    assert _allowed(target, pair.difference), (
        f"{cls}: target holds {pair.target} documents, source {pair.source} (difference {pair.difference:+d})")


@pytest.mark.criterion("DB-01")
def test_row_count_table(session: Any, target: Any, report_table: Any) -> None:
    """DB-01: every class (source, target, `_SCHEMA`) with its counts on both sides, all equal."""
    pairs = [count_pair(session, cls) for cls in data_classes(session)]
    report_table("Row counts per class", ["class", "source", "target", "difference"],
                 [[p.cls, p.source, p.target, p.difference] for p in pairs])
    wrong = [f"{p.cls} ({p.source} vs {p.target})" for p in pairs if not _allowed(target, p.difference)]
    assert not wrong, f"{len(wrong)} of {len(pairs)} classes differ in count (source vs target): {', '.join(wrong)}"


# -- DB-02 --------------------------------------------------------------------------------------------
@pytest.mark.criterion("DB-02")
def test_content(session: Any, target: Any, unit: Any, record_facts: Any) -> None:
    """DB-02: every source document exists on the target with equal content (BSON types count, field order
    does not), by `_id`-range partition; reported as missingOnTarget / extraOnTarget / content."""
    by_reader = source_plan.is_document_source(session)
    diff = source_plan.diff(session, unit) if by_reader else content_diff(session, unit)
    if by_reader and not_verifiable(getattr(unit, "cls", "")):
        record_facts(not_verifiable_from_source=not_verifiable(unit.cls),
                     why=f"the {target.source.kind} source never returns these fields; checked for presence instead")
    scans = target.scans
    record_facts(partition=diff.label, method=diff.method, digest=diff.digest or "not asked",
                 read_preference=scans.read_preference or "as the URI says (primary by default)",
                 max_docs_per_s=scans.max_docs_per_s or "no cap", source_docs=diff.source_docs,
                 target_docs=diff.target_docs, missingOnTarget=list(diff.missing), extraOnTarget=list(diff.extra),
                 content=[{"_id": i, "fields": p} for i, p in diff.content],
                 totals={"missing": diff.missing_total, "extra": diff.extra_total, "content": diff.content_total})
    assert diff.ok, diff.summary()


# -- DB-07 --------------------------------------------------------------------------------------------
@pytest.mark.criterion("DB-07")
def test_same_collections(session: Any, record_facts: Any) -> None:
    """DB-07: no collection or view missing or extra on the target (the suite's probe class aside); from a
    REST or export source: no class of its schema missing or extra in the target's `_SCHEMA`."""
    if source_plan.is_document_source(session):
        src = set(without_probes(session, source_plan.schemas(session)))
        dst = set(without_probes(session, inventory.schema_classes(session.target_db)))
    else:
        src = set(collection_infos(session, mongo_source(session)))
        dst = set(collection_infos(session, session.target_db))
    record_facts(missing=sorted(src - dst), extra=sorted(dst - src))
    assert src == dst, f"collections missing on target: {sorted(src - dst)}; extra on target: {sorted(dst - src)}"


@pytest.mark.criterion("DB-07")
def test_collection_options(session: Any, record_facts: Any) -> None:
    """DB-07: each collection's options (capped, validator, collation, ...) and each view's definition equal."""
    if source_plan.is_document_source(session):
        pytest.skip(f"not applicable: {target_kind(session)} source: {COLLECTION_OPTIONS_UNSEEN}")
    src = collection_infos(session, mongo_source(session))
    dst = collection_infos(session, session.target_db)
    wrong = [f"{n}: source {src[n].kind} {src[n].compared_options} vs target {dst[n].kind} {dst[n].compared_options}"
             for n in sorted(src.keys() & dst.keys())
             if (src[n].kind, src[n].compared_options) != (dst[n].kind, dst[n].compared_options)]
    record_facts(different=wrong)
    assert not wrong, f"{len(wrong)} collections differ in options: " + "; ".join(wrong)


@pytest.mark.criterion("DB-07")
def test_schema_matches_collections(session: Any, record_facts: Any) -> None:
    """DB-07: every `_SCHEMA` class has a collection and every class collection has a `_SCHEMA` entry."""
    schema = set(without_probes(session, inventory.schema_classes(session.target_db)))
    colls = set(without_probes(session, inventory.data_collections(session.target_db)))
    if source_plan.is_document_source(session):
        on_source = {c for c in schema - colls if session.source.count(c) > 0}
    else:
        on_source = set(inventory.data_collections(mongo_source(session)))
    # A class without objects may have no collection; the target only has to mirror the source there.
    no_collection = sorted(c for c in schema - colls if c in on_source)
    no_schema = sorted(c for c in colls - schema if inventory.is_parse_class(c))
    record_facts(schema_without_collection=no_collection, collection_without_schema=no_schema)
    assert not (no_collection or no_schema), (
        f"_SCHEMA classes without a collection: {no_collection}; collections without a _SCHEMA entry: {no_schema}")



@pytest.mark.criterion("DB-07")
def test_class_permissions(session: Any, record_facts: Any) -> None:
    """DB-07: every class's class-level permissions in the target's `_SCHEMA` equal the source's."""
    if not source_plan.is_document_source(session):
        pytest.skip("not applicable: a MongoDB source's `_SCHEMA` (class-level permissions included) is compared "
                    "document by document by DB-02")
    declared = source_plan.schemas(session)
    if all(schema.permissions is None for schema in declared.values()):
        pytest.skip(f"not applicable: {target_kind(session)} source that declares no class-level permissions "
                    "(an export without _SCHEMA.json)")
    target_schema = memo(session, "data.schema_docs", lambda: inventory.schema_documents(session.target_db))
    wrong = [line for cls in without_probes(session, declared)
             for line in permission_differences(cls, declared[cls].permissions, target_schema.get(cls))]
    record_facts(classes=len(declared), different=wrong)
    assert not wrong, f"{len(wrong)} class-level permissions differ (source vs target _SCHEMA): " + "; ".join(wrong)


def target_kind(session: Any) -> str:
    return "a REST" if session.target.source.kind == "rest" else "an export"
