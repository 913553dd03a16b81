"""DB-03 and DB-07 from a source's ``/schemas`` (REST) or declared schema: indexes, class list, CLPs.

What ``/schemas`` shows is the source's ``_SCHEMA``: per class its fields, ``indexes`` (name -> key, the
``_metadata.indexes`` Parse keeps; no options) and ``classLevelPermissions``. What it cannot show (index
options, collection options, indexes made outside Parse) is not applicable to such a source: the checks say so.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from cutover.data.indexes import IndexSpec, declared_mismatches
from cutover.notation import shell

# What a REST source cannot show, and so is not compared from it.
INDEX_OPTIONS_UNSEEN = ("index options (unique, sparse, partialFilterExpression, collation, expireAfterSeconds) "
                        "and indexes created outside Parse: /schemas shows only the name and key of the indexes "
                        "Parse declared")
COLLECTION_OPTIONS_UNSEEN = ("collection options (capped, validator, collation) and views: the REST API shows "
                             "classes, never collections")


def declared_index_gaps(declared: Mapping[str, Any] | None, target: Iterable[IndexSpec]) -> list[str]:
    """Indexes the source declares (name -> key) that the target lacks, by name and key."""
    return [f"{name} {shell(want)}: no such index on the target" if have is None
            else f"{name} {shell(want)}: the target's index has key {shell(have)}"
            for name, want, have in declared_mismatches(declared, target)]


def permission_differences(cls: str, source: Mapping[str, Any] | None,
                           target_schema: Mapping[str, Any] | None) -> list[str]:
    """Operations whose class-level permission differs between the source and the target's `_SCHEMA`."""
    theirs = ((target_schema or {}).get("_metadata") or {}).get("class_permissions")
    if theirs is None and source is None:
        return []
    ours, theirs = dict(source or {}), dict(theirs or {})
    return [f"{cls}.{op}: source {_permission(ours, op)}, target {_permission(theirs, op)}"
            for op in sorted(ours.keys() | theirs.keys()) if ours.get(op) != theirs.get(op)]


def _permission(permissions: Mapping[str, Any], op: str) -> str:
    return shell(permissions[op]) if op in permissions else "(unset)"
