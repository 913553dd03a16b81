"""DB-08, the documents half: no document holds a value whose Parse type differs from its class's `_SCHEMA`.

Computed on the server, documents are never shipped. One aggregation per class (over a ``$sample`` with
``--sample N``): each document becomes, per declared field, its value's BSON type (``$type``; a pointer's
``_p_<field>`` string is checked for its class prefix), only the pairs the field's type does not accept
(:func:`cutover.data.field_types.accepts`) pass a ``$filter``, and ``$group`` counts them per (field, type).
Then, per such pair only, a ``find`` with the same test in ``$expr`` names the first ``cap`` `_id`s. Both run
under the operation budget (maxTimeMS). Operators used: ``$type``, ``$substrCP``, ``$cond``, ``$in``,
``$filter``, ``$unwind``, ``$group``, ``$sample`` (MongoDB 3.6 and later; the stand-in mongoeco 4.11.0 has
each; it evaluates ``$cond`` lazily, as MongoDB does, which the pointer test relies on).

A field whose name a path cannot address (not Parse's ``[A-Za-z][0-9A-Za-z_]*``) is not checked, and said so.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pymongo.database import Database

from cutover.data import field_types
from cutover.data.inventory import call, within
from cutover.notation import shell


@dataclass(frozen=True)
class Misfit:
    """Documents holding one BSON type the field's `_SCHEMA` type does not accept."""

    field: str
    key: str              # where the value is stored (``_p_player`` for the pointer ``player``)
    found: str            # in the schema's words where it has them ("string", "*Other"), else "BSON objectId"
    expected: str
    count: int
    ids: tuple[str, ...]  # the first ones (capped)

    def describe(self) -> str:
        pointer = self.expected.startswith("*") and self.key == self.field
        where = f" (a pointer is kept under _p_{self.field})" if pointer else ""
        more = f" (first {len(self.ids)})" if self.count > len(self.ids) else ""
        held = "document holds" if self.count == 1 else "documents hold"
        return (f"{self.field}: {self.count} {held} {self.found} in {self.key}, _SCHEMA says "
                f"{self.expected}{where}: _id {', '.join(self.ids)}{more}")

    def as_fact(self) -> dict[str, Any]:
        return {"field": self.field, "stored_as": self.key, "found": self.found, "expected": self.expected,
                "documents": self.count, "_ids": list(self.ids)}


@dataclass(frozen=True)
class StoredTypes:
    cls: str
    examined: int                     # documents looked at: all of them, or the sample
    sampled: bool
    fields: tuple[str, ...]           # the fields checked
    unchecked: tuple[str, ...]        # declared fields with a name no path can address
    misfits: tuple[Misfit, ...]

    @property
    def ok(self) -> bool:
        return not self.misfits


def checked_keys(fields: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """(field, storage key, type) for each field with stored values; a pointer also under its bare name,
    where Parse never keeps one (so any value there is a misfit)."""
    out = []
    for name, kind in sorted(fields.items()):
        key = field_types.stored_key(name, kind)
        if key is not None and field_types.SAFE_NAME.match(name):
            out += [(name, key, kind)] + ([(name, name, kind)] if key != name else [])
    return out


def type_expr(key: str, kind: str) -> dict[str, Any]:
    """The value's BSON type name; for a pointer key, ``pointer`` when it names the field's class."""
    plain = {"$type": f"${key}"}
    if not key.startswith("_p_"):
        return plain
    prefix = kind[1:] + "$"
    named = {"$eq": [{"$substrCP": [f"${key}", 0, len(prefix)]}, prefix]}
    return {"$cond": [{"$eq": [plain, "string"]},
                      {"$cond": [named, field_types.POINTER_OK, field_types.POINTER_OTHER]}, plain]}


def misfit_pipeline(fields: Mapping[str, str], where: Mapping[str, Any], sample: int) -> list[dict[str, Any]]:
    """The aggregation counting misfits per (key, type): nothing else leaves the server."""
    entries = [{"k": key, "t": type_expr(key, kind), "ok": {"$in": [type_expr(key, kind), field_types.accepted(kind)]}}
               for _, key, kind in checked_keys(fields)]
    misfits = {"$filter": {"input": entries, "as": "e", "cond": {"$eq": ["$$e.ok", False]}}}
    return [*([{"$match": dict(where)}] if where else []), *([{"$sample": {"size": sample}}] if sample else []),
            {"$project": {"_id": 0, "bad": misfits}}, {"$unwind": "$bad"},
            {"$group": {"_id": {"k": "$bad.k", "t": "$bad.t"}, "n": {"$sum": 1}}}]


def stored_types(db: Database[Any], cls: str, fields: Mapping[str, str], where: Mapping[str, Any],
                 examined: int, sample: int = 0, cap: int = 100, budget_s: float = 600.0) -> StoredTypes:
    """The misfits of ``cls`` on ``db`` against its declared ``fields`` (storage types)."""
    keys = checked_keys(fields)
    rows = call(f"type scan of {cls}", lambda: within(
        db, budget_s, lambda: list(db[cls].aggregate(misfit_pipeline(fields, where, sample)))))
    kinds = {key: (name, kind) for name, key, kind in keys}
    misfits = [_misfit(db, cls, where, kinds[r["_id"]["k"]], r["_id"]["k"], str(r["_id"]["t"]), int(r["n"]),
                       cap, budget_s)
               for r in rows if r["_id"]["k"] in kinds and not field_types.accepts(kinds[r["_id"]["k"]][1],
                                                                                   str(r["_id"]["t"]))]
    return StoredTypes(cls, examined, bool(sample), tuple(sorted({name for name, _, _ in keys})),
                       tuple(sorted(n for n in fields if not field_types.SAFE_NAME.match(n))),
                       tuple(sorted(misfits, key=lambda m: (m.field, m.key, m.found))))


def _misfit(db: Database[Any], cls: str, where: Mapping[str, Any], declared: tuple[str, str], key: str,
            bson_type: str, count: int, cap: int, budget_s: float) -> Misfit:
    name, kind = declared
    test = {"$expr": {"$eq": [type_expr(key, kind), bson_type]}}
    query = {"$and": [dict(where), test]} if where else test
    docs = call(f"listing the misfits of {cls}.{key}", lambda: within(
        db, budget_s, lambda: list(db[cls].find(query, {"_id": 1, key: 1}).limit(cap))))
    found = field_types.found_type(bson_type)
    if bson_type == field_types.POINTER_OTHER:
        found = " or ".join(sorted({_pointed(str(d.get(key, ""))) for d in docs})) or found
    return Misfit(name, key, found, kind, count, tuple(str(d["_id"]) for d in docs))


def _pointed(value: str) -> str:
    """The class a stored pointer names (``*Other``), or what else the string is."""
    cls, dollar, _ = value.partition("$")
    return f"*{shell(cls, limit=40)[1:-1]}" if dollar else f"a string naming no class ({shell(value, limit=40)})"
