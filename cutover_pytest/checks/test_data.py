"""Data criteria: row counts (DB-01), content (DB-02), collections (DB-07), schema field types (DB-08);
deployment health (DB-06) is in test_health.py."""
from __future__ import annotations

from typing import Any

import pytest

from cutover.data import COLLECTION_OPTIONS_UNSEEN, Unit
from cutover.model import Target
from cutover.notation import shell
from cutover.session import Session
from cutover_pytest.params import not_applicable, parametrize


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    parametrize(metafunc, "cls", lambda session: [(name, name) for name in session.data.classes()],
                not_applicable("no class on the source or the target"))
    parametrize(metafunc, "unit", lambda session: session.data.content_units(),
                not_applicable("no collection on the source or the target"))
    parametrize(metafunc, "typed_cls", lambda session: [(name, name) for name in session.data.typed_classes()],
                not_applicable("no class on the target has both a _SCHEMA entry and a collection"))


def _allowed(target: Target, difference: int) -> bool:
    db = target.database
    return difference == 0 or (db.live_sync and abs(difference) <= db.count_tolerance)


# -- DB-01 --------------------------------------------------------------------------------------------
@pytest.mark.criterion("DB-01")
def test_row_count(session: Session, target: Target, cls: str, record_facts: Any) -> None:
    """DB-01: the target holds exactly as many documents of the class as the source (a tolerance only
    while a declared live sync runs)."""
    pair = session.data.counts(cls)
    record_facts(cls=cls, source=pair.expected, target=pair.found, difference=pair.difference)
    assert _allowed(target, pair.difference), (
        f"{cls}: target holds {pair.found} documents, source {pair.expected} (difference {pair.difference:+d})")
    if target.database.live_sync:
        _cutoff_count(session, cls, record_facts)


def _cutoff_count(session: Session, cls: str, record_facts: Any) -> None:
    """Under a live sync: the documents created before the cutoff, exactly (docs/live-sync.md)."""
    bracket = session.data.cutoff_bracket(cls)
    if bracket is None:
        record_facts(cutoff="none: the class has no _created_at, only the total within count_tolerance applies")
        return
    record_facts(cutoff=bracket.cutoff.isoformat(), created_before_cutoff={
        "source": bracket.before, "target": bracket.target, "source_after": bracket.after,
        "exact": bracket.exact, "rounds": bracket.rounds})
    assert bracket.ok, f"{cls}: documents {bracket.describe()}"


@pytest.mark.criterion("DB-01")
def test_row_count_table(session: Session, target: Target, report_table: Any, record_facts: Any) -> None:
    """DB-01: every class (source, target, `_SCHEMA`) with its counts on both sides, all equal."""
    pairs = [session.data.counts(cls) for cls in session.data.classes()]
    if session.data.left_out_classes():
        record_facts(left_out=session.data.left_out_classes())
    report_table("Row counts per class", ["class", "source", "target", "difference"],
                 [[p.cls, p.expected, p.found, p.difference] for p in pairs])
    wrong = [f"{p.cls} ({p.expected} vs {p.found})" for p in pairs if not _allowed(target, p.difference)]
    if target.database.live_sync:
        brackets = [b for b in (session.data.cutoff_bracket(p.cls) for p in pairs) if b is not None]
        wrong += [f"{b.cls} ({b.describe()})" for b in brackets if not b.ok]
    assert not wrong, f"{len(wrong)} of {len(pairs)} classes differ in count (source vs target): {', '.join(wrong)}"


# -- DB-02 --------------------------------------------------------------------------------------------
@pytest.mark.criterion("DB-02")
def test_content(session: Session, target: Target, unit: Unit, record_facts: Any, report_table: Any) -> None:
    """DB-02: every source document exists on the target with equal content (BSON types count, field order
    does not), by `_id`-range partition; reported as missingOnTarget / extraOnTarget / content."""
    diff = session.data.content(unit)
    hidden = session.data.not_verifiable(getattr(unit, "cls", ""))
    if hidden:
        record_facts(not_verifiable_from_source=hidden,
                     why=f"the {target.source.kind} source does not show these fields; checked for presence instead")
    scans = target.scans
    record_facts(cls=getattr(unit, "cls", unit), partition=diff.label, method=diff.method,
                 digest=diff.digest or "not asked",
                 read_preference=scans.read_preference or "as the URI says (primary by default)",
                 max_docs_per_s=scans.max_docs_per_s or "no cap", source_docs=diff.source_docs,
                 target_docs=diff.target_docs, missingOnTarget=list(diff.missing), extraOnTarget=list(diff.extra),
                 content=[{"_id": i, "fields": p} for i, p in diff.content],
                 totals={"missing": diff.missing_total, "extra": diff.extra_total, "content": diff.content_total})
    if diff.sync is not None:
        record_facts(sync=diff.sync.as_facts())
        report_table("Live sync: rechecks of the documents that differed", ["fact", "value"],
                     [[key, value] for key, value in diff.sync.as_facts().items()])
    # the sync's summary first: a long listing must not push it past the record's message cap
    assert diff.ok, (f"[live sync, after rechecks: {diff.sync.describe()}] " if diff.sync is not None else "") \
        + diff.summary()


# -- DB-07 --------------------------------------------------------------------------------------------
@pytest.mark.criterion("DB-07")
def test_same_collections(session: Session, record_facts: Any) -> None:
    """DB-07: no collection or view missing or extra on the target (the suite's probe class aside); from a
    REST or export source: no class of its schema missing or extra in the target's `_SCHEMA`."""
    src, dst = session.data.listed_classes("source"), session.data.listed_classes("target")
    record_facts(missing=sorted(src - dst), extra=sorted(dst - src))
    if session.data.left_out_classes():
        record_facts(left_out=session.data.left_out_classes())
    assert src == dst, (f"collections missing on target: {', '.join(sorted(src - dst)) or 'none'}; "
                        f"extra on target: {', '.join(sorted(dst - src)) or 'none'}")


@pytest.mark.criterion("DB-07")
def test_collection_options(session: Session, record_facts: Any) -> None:
    """DB-07: each collection's options (capped, validator, collation, ...) and each view's definition equal."""
    if session.data.document_source:
        pytest.skip(f"not applicable: {_source_kind(session)} source: {COLLECTION_OPTIONS_UNSEEN}")
    src, dst = session.data.collections("source"), session.data.collections("target")
    wrong = [f"{n}: source {src[n].kind} {shell(src[n].compared_options)} vs target {dst[n].kind} "
             f"{shell(dst[n].compared_options)}"
             for n in sorted(src.keys() & dst.keys())
             if (src[n].kind, src[n].compared_options) != (dst[n].kind, dst[n].compared_options)]
    record_facts(different=wrong)
    assert not wrong, f"{len(wrong)} collections differ in options: " + "; ".join(wrong)


@pytest.mark.criterion("DB-07")
def test_schema_matches_collections(session: Session, record_facts: Any) -> None:
    """DB-07: every `_SCHEMA` class has a collection and every class collection has a `_SCHEMA` entry."""
    agreement = session.data.schema_agreement()
    no_collection, no_schema = list(agreement.no_collection), list(agreement.no_schema)
    record_facts(schema_without_collection=no_collection, collection_without_schema=no_schema)
    assert not (no_collection or no_schema), (
        f"_SCHEMA classes without a collection: {', '.join(no_collection) or 'none'}; collections without a "
        f"_SCHEMA entry: {', '.join(no_schema) or 'none'}")


@pytest.mark.criterion("DB-07")
def test_class_permissions(session: Session, record_facts: Any) -> None:
    """DB-07: every class's class-level permissions in the target's `_SCHEMA` equal the source's."""
    if not session.data.document_source:
        pytest.skip("not applicable: a MongoDB source's `_SCHEMA` (class-level permissions included) is compared "
                    "document by document by DB-02")
    found = session.data.permission_differences()
    if found is None:
        pytest.skip(f"not applicable: {_source_kind(session)} source that declares no class-level permissions "
                    "(an export without _SCHEMA.json)")
    classes, wrong = found
    record_facts(classes=classes, different=wrong)
    assert not wrong, f"{len(wrong)} class-level permissions differ (source vs target _SCHEMA): " + "; ".join(wrong)


# -- DB-08 --------------------------------------------------------------------------------------------
@pytest.mark.criterion("DB-08")
def test_schema_field_types(session: Session, record_facts: Any) -> None:
    """DB-08: every field's `_SCHEMA` type on the target equals the source's, in every class both declare."""
    found = session.data.schema_type_agreement()
    record_facts(source_types=found.origin, classes=list(found.compared),
                 different=[d.as_fact() for d in found.differences], declared_by_target_only=list(found.target_only),
                 not_compared=list(found.left_out), implied_by_objects=list(found.implied))
    listed = "; ".join(d.describe() for d in found.differences)
    count = len(found.differences)
    assert found.ok, (f"{count} field type{' differs' if count == 1 else 's differ'} between the target's _SCHEMA "
                      f"and {found.origin} ({len(found.compared)} classes compared): {listed}; an SDK reading these "
                      f"fields breaks: give the target's _SCHEMA the source's types")


@pytest.mark.criterion("DB-08")
def test_stored_values_fit_the_schema(session: Session, typed_cls: str, record_facts: Any) -> None:
    """DB-08: no document of the class holds a value whose Parse type differs from its `_SCHEMA` type for that
    field (counted on the server; with --sample N, in a sample)."""
    found = session.data.value_types(typed_cls)
    record_facts(cls=typed_cls, examined=found.examined, sampled=found.sampled, fields=list(found.fields),
                 not_checked=list(found.unchecked), misfits=[m.as_fact() for m in found.misfits])
    of = f"a sample of {found.examined}" if found.sampled else f"{found.examined}"
    assert found.ok, (f"{typed_cls} (of {of} documents): " + "; ".join(m.describe() for m in found.misfits)
                      + "; an SDK reading them breaks: convert these values to the _SCHEMA type (or fix _SCHEMA)")


def _source_kind(session: Session) -> str:
    return "a REST" if session.target.source.kind == "rest" else "an export"
