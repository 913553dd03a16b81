"""Index criteria: presence (DB-03), long keys and completeness (DB-04), query coverage (DB-05)."""
from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from cutover.data import indexes, inventory, longkeys, source_plan
from cutover.data import queries as coverage
from cutover.data.facade import index_counts, long_key_scan, memo, mongo_source, shared_classes, without_probes
from cutover.data.source_schema import INDEX_OPTIONS_UNSEEN, declared_index_gaps
from cutover_pytest.params import not_applicable, parametrize


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    parametrize(metafunc, "cls", lambda session: [(name, name) for name in _shared(session)],
                not_applicable("no collection on both the source and the target"))
    parametrize(metafunc, "target_cls", _target_classes, not_applicable("no collection on the target"))
    parametrize(metafunc, "query", lambda session: [(q.label, q) for q in session.target.queries],
                not_applicable("no query pattern declared ([[targets.NAME.queries]])"))


def _shared(session: Any) -> list[str]:
    if not source_plan.is_document_source(session):
        return shared_classes(session)
    on_target = set(inventory.data_collections(session.target_db))
    return [name for name in source_plan.object_classes(session) if name in on_target]


def _target_classes(session: Any) -> list[tuple[str, str]]:
    return [(n, n) for n in without_probes(session, inventory.data_collections(session.target_db))]


# -- DB-03 --------------------------------------------------------------------------------------------
@pytest.mark.criterion("DB-03")
def test_indexes_present(session: Any, cls: str, record_facts: Any) -> None:
    """DB-03: every source index exists on the target with the same key and options; Parse Server's own
    indexes exist; `_SCHEMA._metadata.indexes` agrees with the real indexes."""
    target_specs = indexes.list_indexes(session.target_db, cls)
    if source_plan.is_document_source(session):
        _declared_indexes_present(session, cls, target_specs, record_facts)
        return
    result = indexes.compare(cls, indexes.list_indexes(mongo_source(session), cls), target_specs)
    parse_missing = indexes.missing_required(cls, target_specs) if target_specs else []
    schemas = memo(session, "data.schema_docs", lambda: inventory.schema_documents(session.target_db))
    schema_wrong = indexes.schema_index_mismatches(schemas.get(cls), target_specs)
    record_facts(missing=result.missing, different=result.different, extra=result.extra,
                 parse_required_missing=parse_missing, schema_metadata=schema_wrong)
    problems = {"missing on target": list(result.missing), "different": list(result.different),
                "Parse Server indexes missing": parse_missing, "_SCHEMA._metadata.indexes": schema_wrong}
    found = "; ".join(f"{what}: {items}" for what, items in problems.items() if items)
    assert not found, f"{cls}: {found}; extra on target (not failing): {list(result.extra)}"


def _declared_indexes_present(session: Any, cls: str, target_specs: list[Any], record_facts: Any) -> None:
    """DB-03 from a REST or export source: the indexes its schema declares, Parse's own, `_SCHEMA`'s own."""
    declared = source_plan.schemas(session).get(cls)
    missing = declared_index_gaps(declared.indexes if declared else None, target_specs)
    parse_missing = indexes.missing_required(cls, target_specs) if target_specs else []
    schemas = memo(session, "data.schema_docs", lambda: inventory.schema_documents(session.target_db))
    schema_wrong = indexes.schema_index_mismatches(schemas.get(cls), target_specs)
    record_facts(declared_by_source=dict(declared.indexes or {}) if declared else None, missing=missing,
                 parse_required_missing=parse_missing, schema_metadata=schema_wrong,
                 not_verifiable_from_source=INDEX_OPTIONS_UNSEEN)
    problems = {"declared by the source, missing on target": missing, "Parse Server indexes missing": parse_missing,
                "_SCHEMA._metadata.indexes": schema_wrong}
    found = "; ".join(f"{what}: {items}" for what, items in problems.items() if items)
    assert not found, f"{cls}: {found}"


# -- DB-04 --------------------------------------------------------------------------------------------
@pytest.mark.criterion("DB-04")
def test_no_long_index_keys(session: Any, target_cls: str, record_facts: Any) -> None:
    """DB-04: no indexed value of the class makes an index key reach the Index Key Limit (1024 bytes),
    computed on the server; the server's version, FCV and failIndexKeyTooLong are recorded."""
    specs = indexes.list_indexes(session.target_db, target_cls)
    found = long_key_scan(session, target_cls, specs)
    facts = memo(session, "data.server_facts", lambda: longkeys.server_facts(session.target_db))
    record_facts(server=dataclasses.asdict(facts), indexes_checked=list(found.checked), total=found.total,
                 long_keys=[dataclasses.asdict(k) for k in found.found])
    listed = ", ".join(f"index {k.index} _id {k.id} ({k.bytes} bytes)" for k in found.found)
    assert not found.total, (
        f"{target_cls}: {found.total} index keys at or over {longkeys.INDEX_KEY_LIMIT} bytes: {listed}"
        + (f" (first {len(found.found)})" if found.total > len(found.found) else ""))


@pytest.mark.criterion("DB-04")
def test_documents_indexed(session: Any, target_cls: str, record_facts: Any) -> None:
    """DB-04: every document an index should hold is in it (hinted count equals plain count on the index's
    filter, sparse and partial indexes respected)."""
    if not memo(session, "data.hints_used", lambda: longkeys.hints_used(session.target_db, target_cls)):
        pytest.skip("could not verify on this server: it does not explain plans, so a hinted count cannot be "
                    "shown to read the index (mongoeco validates hints but always scans)")
    specs = indexes.list_indexes(session.target_db, target_cls)
    counts = index_counts(session, target_cls, specs)
    record_facts(indexes={c.index: {"expected": c.expected, "indexed": c.indexed} for c in counts})
    short = [f"index {c.index} holds {c.indexed} of {c.expected} documents" for c in counts if c.indexed < c.expected]
    assert not short, f"{target_cls}: documents missing from indexes: " + "; ".join(short)


# -- DB-05 --------------------------------------------------------------------------------------------
@pytest.mark.criterion("DB-05")
def test_query_uses_index(session: Any, query: Any, record_facts: Any) -> None:
    """DB-05: each declared query pattern is answered through an index on the target (no COLLSCAN)."""
    verdict = coverage.explain_query(session.target_db, query)
    record_facts(**dataclasses.asdict(verdict))
    assert verdict.covered, (
        f"{query.label}: {query.cls} where {query.where} sort {query.sort} runs as {'+'.join(verdict.stages)} "
        f"on the target ({verdict.method}); an index such as {verdict.suggestion} would serve it")
