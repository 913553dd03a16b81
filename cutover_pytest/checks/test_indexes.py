"""Index criteria: presence (DB-03), long keys and completeness (DB-04), query coverage (DB-05)."""
from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from cutover.data import INDEX_KEY_LIMIT, INDEX_OPTIONS_UNSEEN
from cutover.model import Query
from cutover.notation import shell
from cutover.session import Session
from cutover_pytest.params import not_applicable, parametrize


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    parametrize(metafunc, "cls", lambda session: [(name, name) for name in session.data.shared_classes()],
                not_applicable("no collection on both the source and the target"))
    parametrize(metafunc, "target_cls", lambda session: [(n, n) for n in session.data.target_classes()],
                not_applicable("no collection on the target"))
    parametrize(metafunc, "query", lambda session: [(q.label, q) for q in session.target.queries],
                not_applicable("no query pattern declared ([[targets.NAME.queries]])"))


# -- DB-03 --------------------------------------------------------------------------------------------
@pytest.mark.criterion("DB-03")
def test_indexes_present(session: Session, cls: str, record_facts: Any) -> None:
    """DB-03: every source index exists on the target with the same key and options; Parse Server's own
    indexes exist; `_SCHEMA._metadata.indexes` agrees with the real indexes."""
    if session.data.document_source:
        _declared_indexes_present(session, cls, record_facts)
        return
    presence = session.data.index_presence(cls)
    result, parse_missing, schema_wrong = presence.comparison, list(presence.parse_missing), list(presence.schema_wrong)
    record_facts(collection=cls, database=session.target_db.name, missing=result.missing,
                 different=result.different, extra=result.extra, specs=result.spec_facts(),
                 parse_required_missing=parse_missing, schema_metadata=schema_wrong)
    problems = {"missing on target": list(result.missing), "different": list(result.different),
                "Parse Server indexes missing": parse_missing, "_SCHEMA._metadata.indexes": schema_wrong}
    found = "; ".join(f"{what}: {', '.join(items)}" for what, items in problems.items() if items)
    assert not found, f"{cls}: {found}; extra on target (not failing): {', '.join(result.extra) or 'none'}"


def _declared_indexes_present(session: Session, cls: str, record_facts: Any) -> None:
    """DB-03 from a REST or export source: the indexes its schema declares, Parse's own, `_SCHEMA`'s own."""
    found = session.data.declared_index_presence(cls)
    record_facts(declared_by_source=found.declared, missing=list(found.missing),
                 parse_required_missing=list(found.parse_missing), schema_metadata=list(found.schema_wrong),
                 not_verifiable_from_source=INDEX_OPTIONS_UNSEEN)
    problems = {"declared by the source, missing on target": found.missing,
                "Parse Server indexes missing": found.parse_missing, "_SCHEMA._metadata.indexes": found.schema_wrong}
    listed = "; ".join(f"{what}: {', '.join(items)}" for what, items in problems.items() if items)
    assert not listed, f"{cls}: {listed}"


# -- DB-04 --------------------------------------------------------------------------------------------
@pytest.mark.criterion("DB-04")
def test_no_long_index_keys(session: Session, target_cls: str, record_facts: Any) -> None:
    """DB-04: no indexed value of the class makes an index key reach the Index Key Limit (1024 bytes),
    computed on the server; the server's version, FCV and failIndexKeyTooLong are recorded."""
    found = session.data.long_keys(target_cls)
    record_facts(server=dataclasses.asdict(session.data.server_facts()), indexes_checked=list(found.checked),
                 total=found.total, long_keys=[dataclasses.asdict(k) for k in found.found])
    listed = ", ".join(f"index {k.index} _id {k.id} ({k.bytes} bytes)" for k in found.found)
    assert not found.total, (
        f"{target_cls}: {found.total} index keys at or over {INDEX_KEY_LIMIT} bytes: {listed}"
        + (f" (first {len(found.found)})" if found.total > len(found.found) else ""))


@pytest.mark.criterion("DB-04")
def test_documents_indexed(session: Session, target_cls: str, record_facts: Any) -> None:
    """DB-04: every document an index should hold is in it (hinted count equals plain count on the index's
    filter, sparse and partial indexes respected)."""
    limit = session.data.hint_limit(target_cls)
    if limit is not None:
        record_facts(stand_in=limit.facts())
        pytest.skip(f"could not verify on this server: {limit.text()}")
    counts = session.data.index_completeness(target_cls)
    record_facts(indexes={c.index: {"expected": c.expected, "indexed": c.indexed} for c in counts})
    short = [f"index {c.index} holds {c.indexed} of {c.expected} documents" for c in counts if c.indexed < c.expected]
    assert not short, f"{target_cls}: documents missing from indexes: " + "; ".join(short)


# -- DB-05 --------------------------------------------------------------------------------------------
@pytest.mark.criterion("DB-05")
def test_query_uses_index(session: Session, query: Query, record_facts: Any) -> None:
    """DB-05: each declared query pattern is answered through an index on the target (no COLLSCAN)."""
    verdict = session.data.query_coverage(query)
    facts = dataclasses.asdict(verdict)
    record_facts(**{k: v for k, v in facts.items() if v or k != "stand_in"})   # stand_in: inferred, not planned
    assert verdict.covered, (
        f"{query.label}: {query.cls} where {shell(query.where)} sort {shell(query.sort)} runs as "
        f"{'+'.join(verdict.stages)} on the target ({verdict.method}); an index such as {verdict.suggestion} would "
        "serve it")
