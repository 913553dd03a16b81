"""DB-05 query coverage: is each declared query pattern answered through an index on the target?

The verdict comes from the server's query plan (:mod:`cutover.data.explain`, every explain shape of MongoDB 4.4
to 8.0): an index stage (IXSCAN, IDHACK, COUNT_SCAN, EXPRESS_*) and no COLLSCAN on any branch or shard. A reply
of a shape cutover does not know is an ERROR naming the server and the field, never a pass. Only the sandbox's
stand-in (mongoeco, which plans nothing and answers ``explain`` with its own engine trace) gets an inferred
verdict, stated as such in the result and its facts, by this rule: an index serves the pattern when it is usable
(not hidden, no derived keys, no collation, not partial) and its first key field is a field the filter
constrains, or, with no constrained field, its leading keys are the sort fields in the same (or all reversed)
directions. A sparse index serves only a filter on its first field that cannot match a missing field (not
null, `$exists`, `$ne`, `$nin`, `$not`). `$or` needs every branch served.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pymongo.database import Database

from cutover.data import explain
from cutover.data.indexes import IndexSpec, list_indexes
from cutover.data.inventory import call
from cutover.data.longkeys import DERIVED_KINDS
from cutover.data.replies import StandInLimit, is_stand_in
from cutover.model import Query

NO_PLANNER = StandInLimit("plans no queries (its explain is an engine trace without queryPlanner)",
                          "the verdict is inferred from the target's index list, not read from a query plan")
_RENAMED = {"objectId": "_id", "createdAt": "_created_at", "updatedAt": "_updated_at"}


def _value(value: Any) -> Any:
    """Parse REST values in a `where` to their stored form (Date, Pointer) and operators recursively."""
    if isinstance(value, dict):
        if value.get("__type") == "Date":
            return datetime.fromisoformat(str(value["iso"]).replace("Z", "+00:00"))
        if value.get("__type") == "Pointer":
            return f"{value['className']}${value['objectId']}"
        return {k: _value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_value(v) for v in value]
    return value


def _is_pointer(value: Any) -> bool:
    return isinstance(value, dict) and (value.get("__type") == "Pointer" or any(
        isinstance(v, dict) and v.get("__type") == "Pointer" for v in value.values()))


def stored_filter(where: dict[str, Any]) -> dict[str, Any]:
    """A Parse REST `where` in MongoDB storage form (objectId -> _id, pointers -> _p_field)."""
    out: dict[str, Any] = {}
    for key, value in where.items():
        if key in ("$or", "$and", "$nor"):
            out[key] = [stored_filter(branch) for branch in value]
            continue
        name = f"_p_{key}" if _is_pointer(value) else _RENAMED.get(key, key)
        out[name] = _value(value)
    return out


def stored_sort(sort: dict[str, int]) -> dict[str, int]:
    return {_RENAMED.get(k, k): int(v) for k, v in sort.items()}


@dataclass(frozen=True)
class Coverage:
    label: str
    cls: str
    covered: bool
    method: str                   # "explain" or "inferred from the index list (...)"
    stages: tuple[str, ...]
    index: str                    # the index that serves it ("" when none)
    suggestion: str               # an index that would serve it (equality, sort, range)
    stand_in: dict[str, str] = field(default_factory=dict)   # what the stand-in could not answer (inferred)


def verdict_from_explain(query: Query, reply: dict[str, Any], server: str = "") -> Coverage:
    """The verdict from the winning plan(s) of ``reply``; UnknownReply for a shape cutover does not know."""
    plan = explain.read(reply, server)
    covered = plan.covered
    return Coverage(query.label, query.cls, covered, "explain", plan.stages, "+".join(plan.indexes) if covered else "",
                    suggest_index(query))


def explain_query(db: Database[Any], query: Query) -> Coverage:
    """The coverage verdict of one declared pattern on ``db`` (the server's plan; inferred on the stand-in only)."""
    command: dict[str, Any] = {"find": query.cls, "filter": stored_filter(query.where)}
    if query.sort:
        command["sort"] = stored_sort(query.sort)
    reply = call(f"explaining {query.label}",
                 lambda: db.command("explain", command, verbosity="queryPlanner"))
    if is_stand_in(reply):
        return infer_coverage(query, list_indexes(db, query.cls))
    return verdict_from_explain(query, reply)


def usable(spec: IndexSpec) -> bool:
    opts = spec.options
    blocked = ("hidden", "collation", "partialFilterExpression")
    return not any(opts.get(o) for o in blocked) and all(v not in DERIVED_KINDS for _, v in spec.key)


def _served_by(filt: dict[str, Any], sort: dict[str, int], specs: list[IndexSpec]) -> str:
    """Name(s) of the index(es) that serve the filter ("" when none); each `$or` branch may use its own."""
    if "$or" in filt:
        rest = {k: v for k, v in filt.items() if k != "$or"}
        if any(_serves(rest, sort, s) for s in specs if usable(s)) and any(not k.startswith("$") for k in rest):
            return _served_by(rest, sort, specs)
        names = [_served_by({**rest, **branch}, sort, specs) for branch in filt["$or"]]
        return "+".join(dict.fromkeys(names)) if all(names) else ""
    return next((s.name for s in specs if usable(s) and _serves(filt, sort, s)), "")


def _serves(filt: dict[str, Any], sort: dict[str, int], spec: IndexSpec) -> bool:
    fields = {k for k in filt if not k.startswith("$")}
    for branch in filt.get("$and", []):
        fields |= {k for k in branch if not k.startswith("$")}
    if fields:
        lead = spec.key[0][0]
        return lead in fields and not (spec.options.get("sparse") and _matches_missing(filt.get(lead)))
    if spec.options.get("sparse"):
        return False
    wanted = list(sort.items())
    if not wanted or len(spec.key) < len(wanted):
        return False
    head = [(k, int(v)) for k, v in spec.key[:len(wanted)]]
    return head == wanted or head == [(k, -v) for k, v in wanted]


def _matches_missing(predicate: Any) -> bool:
    if predicate is None:
        return True
    if isinstance(predicate, dict):
        return any(op in predicate for op in ("$exists", "$ne", "$nin", "$not")) or None in predicate.values()
    return False


def infer_coverage(query: Query, specs: list[IndexSpec]) -> Coverage:
    filt, sort = stored_filter(query.where), stored_sort(query.sort)
    serving = _served_by(filt, sort, specs)
    return Coverage(query.label, query.cls, bool(serving), f"inferred from the index list ({NO_PLANNER.text()})",
                    ("IXSCAN",) if serving else ("COLLSCAN",), serving, suggest_index(query), NO_PLANNER.facts())


def suggest_index(query: Query) -> str:
    """Equality fields, then sort fields, then range fields (the ESR rule), as a key pattern."""
    filt, sort = stored_filter(query.where), stored_sort(query.sort)
    equality = [k for k, v in filt.items() if not k.startswith("$") and not _is_range(v)]
    ranges = [k for k, v in filt.items() if not k.startswith("$") and _is_range(v)]
    keys = [(k, 1) for k in equality] + [(k, v) for k, v in sort.items() if k not in equality]
    keys += [(k, 1) for k in ranges if k not in sort]
    return "{" + ", ".join(f"{k}: {v}" for k, v in keys) + "}"


def _is_range(value: Any) -> bool:
    return isinstance(value, dict) and any(k.startswith("$") and k not in ("$eq", "$in") for k in value)
