"""DB-03 index presence: normalized `listIndexes` specs, source vs target, Parse's own indexes, `_SCHEMA`.

Servers of different eras describe the same index differently (`ns` until 4.2, `v` 1 or 2, text and 2dsphere
versions, collation in short or full form, some stand-ins add `unique: false`): :func:`normalize` keeps only what
changes behaviour, in the comparable form of :mod:`cutover.data.normal_form` (which also says what is
normalised and why: docs/CHECKS.md renders it). A listIndexes field cutover does not know is an ERROR.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pymongo.database import Database

from cutover.data import normal_form
from cutover.data.inventory import call
from cutover.data.replies import UnknownReply, wire_label
from cutover.notation import shell


@dataclass(frozen=True)
class IndexSpec:
    name: str
    key: tuple[tuple[str, Any], ...]
    options: dict[str, Any] = field(default_factory=dict)

    def same_definition(self, other: IndexSpec) -> bool:
        return self.key == other.key and self.options == other.options

    def describe(self) -> str:
        keys = ", ".join(f"{k}: {shell(v)}" for k, v in self.key)
        opts = "".join(f", {k}={shell(v)}" for k, v in sorted(self.written_options().items()))
        return f"{self.name} {{{keys}}}{opts}"

    def written_options(self) -> dict[str, Any]:
        """The options as people write them: a collation without its locale's defaults."""
        if "collation" not in self.options:
            return dict(self.options)
        return {**self.options, "collation": normal_form.short_collation(self.options["collation"])}

    def as_fact(self) -> dict[str, Any]:
        """JSON-ready, the key as [field, direction] pairs in order (evidence and createIndex commands)."""
        return {"name": self.name, "key": [list(pair) for pair in self.key], "options": self.written_options()}


def normalize(spec: Mapping[str, Any], server: str = "") -> IndexSpec:
    """The comparable form of one `listIndexes` entry; UnknownReply (naming ``server``) for a field cutover does not
    know."""
    if not isinstance(spec.get("key"), Mapping):
        raise UnknownReply(server, "listIndexes", f"{spec.get('name', '?')}.key", "is absent")
    return IndexSpec(str(spec.get("name", "")), normal_form.key(spec["key"], server), normal_form.options(spec, server))


def list_indexes(db: Database[Any], cls: str) -> list[IndexSpec]:
    server = wire_label(db)
    return call(f"listing indexes of {cls}", lambda: [normalize(dict(s), server) for s in db[cls].list_indexes()])


@dataclass(frozen=True)
class IndexComparison:
    cls: str
    missing: tuple[str, ...] = ()
    different: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()
    missing_specs: tuple[IndexSpec, ...] = ()                    # the same findings, structured
    different_specs: tuple[tuple[IndexSpec, IndexSpec], ...] = ()   # (source, target)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.different)

    def spec_facts(self) -> dict[str, Any]:
        return {"missing": [s.as_fact() for s in self.missing_specs],
                "different": [{"source": s.as_fact(), "target": t.as_fact()} for s, t in self.different_specs]}


def compare(cls: str, source: Iterable[IndexSpec], target: Iterable[IndexSpec]) -> IndexComparison:
    """Match by name first, then by definition (a renamed index with the same definition is present)."""
    unmatched = {spec.name: spec for spec in target}
    missing: list[IndexSpec] = []
    different: list[tuple[IndexSpec, IndexSpec]] = []
    for want in source:
        have = unmatched.pop(want.name, None) or _pop_same(unmatched, want)
        if have is None:
            missing.append(want)
        elif not want.same_definition(have):
            different.append((want, have))
    extra = tuple(spec.describe() for spec in unmatched.values())
    return IndexComparison(cls, tuple(s.describe() for s in missing),
                           tuple(f"source {s.describe()} vs target {t.describe()}" for s, t in different), extra,
                           tuple(missing), tuple(different))


def _pop_same(pool: dict[str, IndexSpec], want: IndexSpec) -> IndexSpec | None:
    for name, spec in pool.items():
        if spec.same_definition(want):
            return pool.pop(name)
    return None


@dataclass(frozen=True)
class RequiredIndex:
    """One index Parse Server creates at start-up (DatabaseController.performInitialization)."""

    label: str
    key: tuple[tuple[str, Any], ...]
    holds: Callable[[dict[str, Any]], bool]

    def satisfied_by(self, specs: Iterable[IndexSpec]) -> bool:
        return any(spec.key == self.key and self.holds(spec.options) for spec in specs)


def _unique(opts: dict[str, Any]) -> bool:
    return bool(opts.get("unique"))


def _case_insensitive(opts: dict[str, Any]) -> bool:
    collation = opts.get("collation") or {}
    return str(collation.get("locale", "")).startswith("en") and collation.get("strength") == 2


def _ttl(opts: dict[str, Any]) -> bool:
    return "expireAfterSeconds" in opts


PARSE_REQUIRED: dict[str, tuple[RequiredIndex, ...]] = {
    "_User": (
        RequiredIndex("username unique", (("username", 1),), _unique),
        RequiredIndex("username case-insensitive", (("username", 1),), _case_insensitive),
        RequiredIndex("email unique", (("email", 1),), _unique),
        RequiredIndex("email case-insensitive", (("email", 1),), _case_insensitive),
    ),
    "_Role": (RequiredIndex("name unique", (("name", 1),), _unique),),
    "_Idempotency": (
        RequiredIndex("reqId unique", (("reqId", 1),), _unique),
        RequiredIndex("expire TTL", (("expire", 1),), _ttl),
    ),
}


def missing_required(cls: str, specs: list[IndexSpec]) -> list[str]:
    """Labels of Parse Server's own indexes of ``cls`` that the target lacks."""
    return [req.label for req in PARSE_REQUIRED.get(cls, ()) if not req.satisfied_by(specs)]


def declared_mismatches(declared: Mapping[str, Any] | None,
                        specs: Iterable[IndexSpec]) -> list[tuple[str, dict[str, Any], dict[str, Any] | None]]:
    """Indexes declared as name -> key (`_SCHEMA._metadata.indexes`, a source's /schemas) that no real index
    matches by name and key: (name, the declared key, the real index's key or None when there is none)."""
    by_name = {spec.name: spec for spec in specs}
    out: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = []
    for name, key in (declared or {}).items():
        want = normal_form.key(dict(key))
        have = by_name.get(name)
        if have is None or have.key != want:
            out.append((name, dict(want), dict(have.key) if have is not None else None))
    return out


def schema_index_mismatches(schema_doc: dict[str, Any] | None, specs: list[IndexSpec]) -> list[str]:
    """`_SCHEMA._metadata.indexes` entries that no real index matches by name and key."""
    declared = ((schema_doc or {}).get("_metadata") or {}).get("indexes") or {}
    return [f"_SCHEMA declares {name} {shell(want)}, no such index" if have is None
            else f"_SCHEMA declares {name} {shell(want)}, index has {shell(have)}"
            for name, want, have in declared_mismatches(declared, specs)]
