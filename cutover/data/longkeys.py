"""DB-04 long index keys and index completeness, computed on the server (documents are never shipped).

Key size rule (the Index Key Limit: an index entry must be < 1024 bytes including overhead): an entry's size
is estimated as the sum, over the index's fields, of ``BSON size of {v: value} - 2`` (type tag, length
prefix and framing included). A lone string of 1013 bytes gives 1024 and is flagged. An array value is
multikey: each element is its own key, so the largest element counts. Text, geo, hashed and wildcard
indexes store derived keys (terms, cells, hashes) and are not size-checked.

Completeness: a document that the index's filter selects (all documents; for sparse, those holding one of
the fields; for partial, the partialFilterExpression) must be counted through the index as well: a hinted
count lower than the plain count means documents are missing from the index.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pymongo.database import Database

from cutover.data import explain
from cutover.data.indexes import IndexSpec
from cutover.data.inventory import call, within
from cutover.data.replies import StandInLimit, is_stand_in, server_of
from cutover.errors import UnexpectedAnswer

INDEX_KEY_LIMIT = 1024
DERIVED_KINDS = frozenset({"text", "2d", "2dsphere", "geoHaystack", "hashed"})


def size_checked(spec: IndexSpec) -> bool:
    return all(v not in DERIVED_KINDS and "$**" not in k for k, v in spec.key)


def field_size(path: str) -> dict[str, Any]:
    """Aggregation expression: the estimated key bytes of one field (largest element for arrays)."""
    def one(var: str) -> dict[str, Any]:
        return {"$cond": [{"$eq": [{"$type": var}, "string"]}, {"$add": [{"$strLenBytes": var}, 11]},
                          {"$subtract": [{"$bsonSize": {"v": var}}, 2]}]}
    return {"$let": {"vars": {"v": f"${path}"}, "in": {"$cond": [
        {"$isArray": "$$v"}, {"$max": {"$map": {"input": "$$v", "as": "e", "in": one("$$e")}}}, one("$$v")]}}}


def candidates(specs: list[IndexSpec], limit: int = INDEX_KEY_LIMIT) -> dict[str, Any]:
    """A cheap query keeping every document that could reach the limit (sizes are computed for these only).

    Of k fields summing to ``limit`` one holds at least limit/k bytes: a string (matched in arrays too) of
    at least (limit/k - 11) / 4 characters (UTF-8 takes at most 4 bytes a character), or an embedded
    document or binary value. Numbers, dates, booleans and ObjectIds are too small to matter.
    """
    clauses: list[dict[str, Any]] = []
    for spec in specs:
        chars = max(0, (limit // len(spec.key) - 11) // 4)
        for path, _ in spec.key:
            clauses += [{path: {"$regex": f"^[\\s\\S]{{{chars},}}"}}, {path: {"$type": ["object", "binData"]}}]
    return {"$or": clauses}


def long_key_pipeline(specs: list[IndexSpec], limit: int = INDEX_KEY_LIMIT) -> list[dict[str, Any]]:
    """One pass over the collection computing every index's entry size; only offenders leave the server."""
    sizes = {f"s{i}": _sum([field_size(k) for k, _ in spec.key]) for i, spec in enumerate(specs)}
    over = [{name: {"$gte": limit}} for name in sizes]
    return [{"$match": candidates(specs, limit)}, {"$project": sizes}, {"$match": {"$or": over}}]


def _sum(terms: list[dict[str, Any]]) -> dict[str, Any]:
    return terms[0] if len(terms) == 1 else {"$add": terms}


@dataclass(frozen=True)
class LongKey:
    index: str
    id: str
    bytes: int


@dataclass(frozen=True)
class LongKeys:
    cls: str
    found: tuple[LongKey, ...]
    total: int
    checked: tuple[str, ...]


def long_keys(db: Database[Any], cls: str, specs: list[IndexSpec], cap: int = 100,
              budget_s: float = 600.0) -> LongKeys:
    """Documents of ``cls`` holding a key at or over the limit in one of its size-checked indexes."""
    checked = [s for s in specs if size_checked(s)]
    if not checked:
        return LongKeys(cls, (), 0, ())
    pipeline = long_key_pipeline(checked)
    rows = call(f"long-key scan of {cls}",
                lambda: within(db, budget_s, lambda: list(db[cls].aggregate(pipeline))))
    hits = [(spec, row["_id"], int(row[f"s{i}"])) for row in rows for i, spec in enumerate(checked)
            if (row.get(f"s{i}") or 0) >= INDEX_KEY_LIMIT]
    found = sorted((LongKey(spec.name, str(_id), size) for spec, _id, size in hits if _in_index(db, cls, spec, _id)),
                   key=lambda k: (k.index, k.id))
    return LongKeys(cls, tuple(found[:cap]), len(found), tuple(s.name for s in checked))


def _in_index(db: Database[Any], cls: str, spec: IndexSpec, _id: Any) -> bool:
    """A partial index holds only the documents its filter selects (asked of the server, one `_id`)."""
    partial = spec.options.get("partialFilterExpression")
    if partial is None:
        return True
    query = {"$and": [{"_id": _id}, partial]}
    return call(f"partial filter of {spec.name}", lambda: db[cls].find_one(query, {"_id": 1})) is not None


def index_filter(spec: IndexSpec) -> dict[str, Any]:
    """The documents an index must hold: partial filter, sparse presence, or every document."""
    if "partialFilterExpression" in spec.options:
        return dict(spec.options["partialFilterExpression"])
    if spec.options.get("sparse"):
        return {"$or": [{k: {"$exists": True}} for k, _ in spec.key]}
    return {}


@dataclass(frozen=True)
class IndexCoverage:
    index: str
    expected: int      # plain count on the index's filter
    indexed: int       # the same count hinted through the index


def index_completeness(db: Database[Any], cls: str, specs: list[IndexSpec],
                       budget_s: float = 600.0) -> list[IndexCoverage]:
    """Plain vs hinted counts per hintable index (derived-key and hidden indexes are not hintable)."""
    out = []
    plain_all: int | None = None
    for spec in specs:
        if not size_checked(spec) or spec.options.get("hidden"):
            continue
        filt = index_filter(spec)
        if not filt:
            plain_all = plain_all if plain_all is not None else _count(db, cls, {}, None, budget_s)
        expected = plain_all if not filt and plain_all is not None else _count(db, cls, filt, None, budget_s)
        out.append(IndexCoverage(spec.name, expected, _count(db, cls, filt, spec.name, budget_s)))
    return out


def _count(db: Database[Any], cls: str, filt: dict[str, Any], hint: str | None, budget_s: float) -> int:
    what = f"counting {cls}" + (f" through index {hint}" if hint else "")
    options: dict[str, Any] = {"hint": hint} if hint else {}
    return call(what, lambda: within(db, budget_s, lambda: int(db[cls].count_documents(filt, **options))))


# the hinted count exactly as pymongo's count_documents sends it (an aggregation), hinted through `_id_`
HINTED_COUNT = [{"$match": {}}, {"$group": {"_id": 1, "n": {"$sum": 1}}}]
HINTS_ON_STAND_IN = StandInLimit(
    "validates hints but plans nothing (explain has no queryPlanner) and always scans, so a hinted count cannot be "
    "shown to read the index", "documents missing from an index are not judged here; the long-key checks still run")


def hint_limit(db: Database[Any], cls: str) -> StandInLimit | None:
    """None when the server's plan of a hinted count reads the hinted index (so plain vs hinted counts can show
    documents missing from an index); the stand-in's limit when the stand-in answered. A real server whose plan
    is of a shape cutover does not know, or does not read the hinted index, is an ERROR (UnexpectedAnswer)."""
    command = {"aggregate": cls, "pipeline": HINTED_COUNT, "cursor": {}, "hint": {"_id": 1}}
    reply = call("explaining a hinted count", lambda: db.command("explain", command, verbosity="queryPlanner"))
    if is_stand_in(reply):
        return HINTS_ON_STAND_IN
    plan = explain.read(reply)
    if "_id_" not in plan.indexes:
        raise UnexpectedAnswer(f"{server_of(reply)}: the plan of a count hinted through _id_ reads "
                               f"{'+'.join(plan.stages)}, not that index: a hinted count cannot show documents "
                               "missing from an index on this server")
    return None


@dataclass(frozen=True)
class ServerFacts:
    version: str
    feature_compatibility: str
    fail_index_key_too_long: str


def server_facts(db: Database[Any]) -> ServerFacts:
    """Version, FCV and failIndexKeyTooLong, each "unavailable (...)" when the server will not say."""
    admin = db.client.admin
    version = _ask(lambda: str(admin.command("buildInfo").get("version")))
    fcv = _ask(lambda: str(admin.command("getParameter", 1, featureCompatibilityVersion=1)
                           ["featureCompatibilityVersion"].get("version")))
    fiktl = _ask(lambda: str(admin.command("getParameter", 1, failIndexKeyTooLong=1)["failIndexKeyTooLong"]))
    return ServerFacts(version, fcv, fiktl)


def _ask(fetch: Any) -> str:
    try:
        return str(fetch())
    except Exception as exc:  # a fact the server does not report is recorded, not fatal
        return f"unavailable ({type(exc).__name__}: {str(exc)[:80]})"
