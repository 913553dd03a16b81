"""DB-08, the schema half: every field's `_SCHEMA` type on the target equals the source's.

The source's types (:func:`source_types`): a MongoDB source's `_SCHEMA`; a REST source's ``/schemas``; an
export's ``_SCHEMA.json`` or, for a class it declares no field types for, the types its objects imply
(:func:`implied_types`). Types are compared in storage form (:mod:`cutover.data.field_types`).

Only the classes both sides declare are compared: which classes exist is DB-07's question (a `_SCHEMA` entry
the source lacks, Parse's internal classes a REST or export source never shows), and the classes left out are
listed. A field the source declares and the target does not is a difference; one only the target declares is
listed and not failed (Parse adds a field to `_SCHEMA` on its first write: the app may have written since).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cutover.data import field_types, inventory
from cutover.data.rest_reader import ClassSchema

if TYPE_CHECKING:
    from cutover.data.facade import DataFacade

NOT_DECLARED = "(not declared)"


@dataclass(frozen=True)
class SourceTypes:
    """One class's field types as the source gives them: declared (one type a field), or implied by its objects
    (every type each field's values may be of: a bare string may be a file name)."""

    cls: str
    fields: dict[str, frozenset[str]] = field(default_factory=dict)
    implied: bool = False


@dataclass(frozen=True)
class TypeDifference:
    cls: str
    field: str
    source: str      # the source's type ("number"; implied: "string or file")
    target: str      # the target `_SCHEMA`'s type, or NOT_DECLARED

    def describe(self) -> str:
        return f"{self.cls}.{self.field}: target _SCHEMA {self.target}, source {self.source}"

    def as_fact(self) -> dict[str, str]:
        return {"class": self.cls, "field": self.field, "source": self.source, "target": self.target}


@dataclass(frozen=True)
class SchemaTypes:
    origin: str                                 # where the source's types came from
    compared: tuple[str, ...]                   # classes both sides declare
    differences: tuple[TypeDifference, ...]
    target_only: tuple[str, ...] = ()           # "Class.field (type)": declared by the target alone, not failed
    left_out: tuple[str, ...] = ()              # classes one side declares (DB-07's)
    implied: tuple[str, ...] = ()               # classes whose source types their objects imply

    @property
    def ok(self) -> bool:
        return not self.differences


def either(types: Iterable[str]) -> str:
    return " or ".join(sorted(types))


def declared(cls: str, fields: Mapping[str, str]) -> SourceTypes:
    """A class's declared storage types (defaults filled in, implicit fields left out)."""
    return SourceTypes(cls, {k: frozenset({v}) for k, v in field_types.declared_fields(cls, fields).items()})


def implied_types(cls: str, documents: Iterable[Mapping[str, Any]]) -> SourceTypes:
    """The types a class's objects (storage form) imply, per field: those every value may be of; where the
    objects disagree (a number here, a string there), any type one of them holds."""
    common: dict[str, frozenset[str]] = {}
    union: dict[str, frozenset[str]] = {}
    for doc in documents:
        for key, value in doc.items():
            name = key[3:] if key.startswith("_p_") else key
            kinds = field_types.candidates(key, value)
            if not kinds or not field_types.is_compared(name):
                continue
            common[name] = common[name] & kinds if name in common else kinds
            union[name] = union.get(name, frozenset()) | kinds
    return SourceTypes(cls, {name: common[name] or union[name] for name in common}, implied=True)


def class_differences(source: SourceTypes, target: Mapping[str, str]) -> list[TypeDifference]:
    out = []
    for name in sorted(source.fields):
        want, have = source.fields[name], target.get(name)
        if have is None or have not in want:
            out.append(TypeDifference(source.cls, name, either(want), have or NOT_DECLARED))
    return out


def compare(origin: str, source: Mapping[str, SourceTypes], target: Mapping[str, Mapping[str, str]],
            keep: Callable[[Iterable[str]], list[str]] = sorted) -> SchemaTypes:
    """``source`` and ``target`` (class -> storage types) compared over the classes both declare that ``keep``
    keeps (the probe class left out)."""
    both = keep(source.keys() & target.keys())
    differences = [d for cls in both for d in class_differences(source[cls], target[cls])]
    target_only = [f"{cls}.{name} ({kind})" for cls in both for name, kind in sorted(target[cls].items())
                   if name not in source[cls].fields and not source[cls].implied]
    left_out = sorted(set(keep(source.keys() ^ target.keys())))
    return SchemaTypes(origin, tuple(both), tuple(differences), tuple(target_only), tuple(left_out),
                       tuple(cls for cls in both if source[cls].implied))


def target_types(schema_documents: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, str]]:
    """The target `_SCHEMA`'s compared field types per class."""
    return {cls: field_types.declared_fields(cls, field_types.schema_document_fields(doc))
            for cls, doc in schema_documents.items()}


# -- the source's types, whatever the source ----------------------------------------------------------------
def source_types(facts: DataFacade) -> tuple[str, dict[str, SourceTypes]]:
    """(where they came from, class -> types) for the target's source."""
    if not facts.document_source:
        documents = inventory.schema_documents(facts.source_db())
        return "the source's _SCHEMA", {cls: declared(cls, field_types.schema_document_fields(doc))
                                        for cls, doc in documents.items()}
    schemas = facts.source_schemas()
    if facts.target.source.kind == "rest":
        return "the source's /schemas", {cls: _from_rest(s) for cls, s in schemas.items()}
    found = {cls: _from_rest(s) for cls, s in schemas.items() if declares_types(s)}
    found |= {cls: _implied(facts, cls) for cls, s in schemas.items()
              if cls not in found and inventory.is_parse_class(cls)}
    return _export_origin(found), found


def declares_types(schema: ClassSchema) -> bool:
    """Whether a source's schema of a class gives field types (an export without ``_SCHEMA.json`` gives at most
    the relations its ``_Join`` files show)."""
    return any(isinstance(spec, Mapping) and spec.get("type") not in (None, "Relation")
               for spec in schema.fields.values())


def _from_rest(schema: ClassSchema) -> SourceTypes:
    return declared(schema.name, field_types.rest_fields(schema.fields))


def _implied(facts: DataFacade, cls: str) -> SourceTypes:
    return implied_types(cls, facts.source_reader().documents(cls, None, None))


def _export_origin(found: Mapping[str, SourceTypes]) -> str:
    implied = sum(1 for types in found.values() if types.implied)
    if not implied:
        return "the export's _SCHEMA.json"
    if implied == len(found):
        return "the types the export's objects imply (no _SCHEMA.json)"
    return f"the export's _SCHEMA.json ({len(found) - implied} classes), the types its objects imply ({implied})"
