"""The comparable form of an index spec (DB-03) and of a collation (DB-03, DB-07), whatever server listed it.

A migration joins eras: an mLab-era source (MongoDB 3.6/4.0) and a 7.0/8.0 target describe the same index
differently although nothing was lost. :data:`NORMALISED` says what is normalised and why; ``docs/CHECKS.md``
renders it (:mod:`cutover.run.catalogue`), so the document cannot drift from the code. Everything else a
server lists is compared as it is (:data:`COMPARED`): a unique, sparse, partial filter, TTL, collation strength
or key order lost still fails. A listIndexes field cutover does not know is an :class:`UnknownReply` (ERROR).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cutover.data.replies import UnknownReply


@dataclass(frozen=True)
class Rule:
    what: str     # the field or shape, as listIndexes shows it
    how: str      # what the comparison does with it
    why: str      # why that loses nothing the app relies on


NORMALISED: tuple[Rule, ...] = (
    Rule("`ns`", "ignored", "listIndexes names the namespace in every spec up to 4.2 and no longer from 4.4: where "
         "the index lives, not what it is"),
    Rule("`v` (1 or 2)", "ignored", "the index format the server chose (v:1 before 3.4, v:2 since); the same "
         "definition is v:1 on an old source and v:2 once rebuilt on the target"),
    Rule("`textIndexVersion` (2 or 3), `2dsphereIndexVersion` (2 or 3)", "ignored", "the server builds the newest "
         "version it supports whenever the index is (re)created, as every dump/restore or sync does"),
    Rule("`background`, `dropDups`, `safe`", "ignored", "build options with no effect once the index exists "
         "(background is ignored since 4.2, dropDups and safe since 3.0) that old servers keep listing"),
    Rule("`unique: false`, `sparse: false`, `hidden: false`", "same as absent", "false is the default; some "
         "servers and stand-ins spell it out"),
    Rule("`unique` on `_id_`", "ignored", "the `_id` index is unique whether or not a server says so"),
    Rule("numbers (`1`, `1.0`, `NumberLong(1)`)", "equal when equal in value", "key directions, TTL seconds, "
         "weights and filter constants change BSON type between shells, drivers and versions"),
    Rule("`collation` short form", "the locale's defaults filled in (caseLevel false, caseFirst off, strength 3, "
         "numericOrdering false, alternate non-ignorable, maxVariable punct, normalization false, backwards false; "
         "fr_CA backwards true, da caseFirst upper, th alternate shifted)", "servers since 3.4 list the full form; "
         "a declared index or the stand-in gives `{locale, strength}`, which the server expands to the same"),
    Rule("`collation.version`", "ignored", "the ICU version of the server build, not a choice of the app"),
    Rule("`collation: {locale: \"simple\"}`", "same as no collation", "the simple binary comparison is the default"),
    Rule("text index key `{title: \"text\"}`", "as the server stores it: `{_fts: \"text\", _ftsx: 1}` in place of the "
         "text fields, each text field in `weights` (1 by default)", "servers list a text index by its internal key "
         "and name the fields in weights; a declared index (`_SCHEMA`, /schemas) names the fields"),
    Rule("text index `default_language`, `language_override`", "defaults `english` and `language` filled in",
         "the server fills them in at creation; only a declared index may leave them out"),
    Rule("index `name`", "matched first, then any index of the same definition", "an index renamed with the same "
         "key and options still serves the same queries"),
)
COMPARED = ("key fields, their order and directions", "unique", "sparse", "partialFilterExpression",
            "expireAfterSeconds (TTL)", "collation (every parameter, strength included)", "hidden", "weights",
            "default_language", "language_override", "wildcardProjection", "2d bits/min/max", "clustered",
            "prepareUnique", "storageEngine")
IGNORED = frozenset({"ns", "v", "background", "textIndexVersion", "2dsphereIndexVersion", "dropDups", "safe"})
KNOWN_OPTIONS = IGNORED | frozenset({
    "name", "key", "unique", "sparse", "hidden", "partialFilterExpression", "expireAfterSeconds", "collation",
    "weights", "default_language", "language_override", "wildcardProjection", "bits", "min", "max", "bucketSize",
    "coarsestIndexedLevel", "finestIndexedLevel", "clustered", "prepareUnique", "storageEngine"})
FALSE_DEFAULTS = frozenset({"unique", "sparse", "hidden"})
KEY_KINDS = frozenset({"text", "2d", "2dsphere", "geoHaystack", "hashed"})
TEXT_DEFAULTS = {"default_language": "english", "language_override": "language"}

COLLATION_DEFAULTS: dict[str, Any] = {"caseLevel": False, "caseFirst": "off", "strength": 3, "numericOrdering": False,
                      "alternate": "non-ignorable", "maxVariable": "punct", "normalization": False, "backwards": False}
LOCALE_DEFAULTS: dict[str, dict[str, Any]] = {"fr_CA": {"backwards": True}, "da": {"caseFirst": "upper"},
                                              "th": {"alternate": "shifted"}}


def canonical(value: Any) -> Any:
    """``value`` with every integral number as int (1.0, NumberLong(1) -> 1), recursively; booleans untouched."""
    if isinstance(value, Mapping):
        return {str(k): canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [canonical(v) for v in value]
    if isinstance(value, float | int) and not isinstance(value, bool) and float(value).is_integer():
        return int(value)
    return value


def _defaults(locale: str) -> dict[str, Any]:
    return {**COLLATION_DEFAULTS, **LOCALE_DEFAULTS.get(locale, LOCALE_DEFAULTS.get(locale.split("_")[0], {}))}


def collation(value: Any) -> dict[str, Any] | None:
    """The full form of a collation, without the ICU version; None for the simple (binary) collation."""
    if not isinstance(value, Mapping) or value.get("locale") in (None, "simple"):
        return None
    locale = str(value["locale"])
    defaults = _defaults(locale)
    given = {k: canonical(v) for k, v in value.items() if k != "version"}
    return {"locale": locale, **{k: given.get(k, v) for k, v in defaults.items()},
            **{k: v for k, v in given.items() if k not in defaults}}


def short_collation(full: Mapping[str, Any]) -> dict[str, Any]:
    """A full collation without the parameters equal to its locale's defaults, strength always shown: how people
    write it (messages, evidence, createIndex commands)."""
    defaults = _defaults(str(full.get("locale", "")))
    return {k: v for k, v in full.items() if k == "strength" or k not in defaults or defaults[k] != v}


def key(spec_key: Mapping[str, Any], server: str = "") -> tuple[tuple[str, Any], ...]:
    """The key pattern in order, numbers canonical, text fields folded into `_fts`/`_ftsx` as servers store them."""
    out: list[tuple[str, Any]] = []
    for name, kind in spec_key.items():
        if isinstance(kind, str) and kind not in KEY_KINDS:
            raise UnknownReply(server, "listIndexes", f"key.{name}",
                               f"is {kind!r}, an index kind cutover does not know")
        if kind == "text" or name in ("_fts", "_ftsx"):   # a text field, or the stored form of the text fields
            if ("_fts", "text") not in out:
                out += [("_fts", "text"), ("_ftsx", 1)]
            continue
        out.append((str(name), canonical(kind)))
    return tuple(out)


def text_fields(spec_key: Mapping[str, Any]) -> list[str]:
    return [str(name) for name, kind in spec_key.items() if kind == "text" and name != "_fts"]


def options(spec: Mapping[str, Any], server: str = "") -> dict[str, Any]:
    """The options of one listIndexes entry that change what the index does, in comparable form."""
    unknown = sorted(set(map(str, spec)) - KNOWN_OPTIONS)
    if unknown:
        raise UnknownReply(server, "listIndexes", f"{spec.get('name', '?')}.{unknown[0]}",
                           f"= {spec[unknown[0]]!r} is an index option cutover does not know")
    out = {k: canonical(v) for k, v in spec.items()
           if k not in IGNORED and k not in ("name", "key") and not (k in FALSE_DEFAULTS and not v)}
    if "collation" in out:
        full = collation(out.pop("collation"))
        if full is not None:
            out["collation"] = full
    fields = text_fields(spec.get("key") or {})
    if fields or "weights" in out:
        out = {**TEXT_DEFAULTS, **out}
        out.setdefault("weights", {name: 1 for name in fields})
    if spec.get("name") == "_id_":
        out.pop("unique", None)
    return out
