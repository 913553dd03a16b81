"""An export's objects and relation rows, checked: what cannot be mapped names the file, the object, the field.

Beyond the REST <-> storage mapping (:mod:`cutover.data.rest_storage`, `_User`'s fields in
:mod:`cutover.data.user_fields`), an export's objects carry what its writer added:

- Parse Dashboard's JSON export writes each object as the JS SDK's ``_toFullJSON()`` without ``__type``, so every
  object also holds ``"className": "<its class>"``; that key, equal to the class the file holds, is the
  Dashboard's and is dropped (a ``__type: "Object"`` left at the top level too);
- Back4App's relation rows carry an ``objectId`` of their own (the row's MongoDB ``_id``): only ``owningId`` and
  ``relatedId`` are the relation's, as in Parse Server's `_Join` collections.

Never a silent skip: an object without an objectId, a value the mapping cannot map, a relation row without
``owningId`` or ``relatedId`` each raise :class:`~cutover.errors.UnexpectedAnswer` naming where it is.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cutover.data.rest_storage import NOT_RETURNED, to_storage_at
from cutover.data.user_fields import TO_STORAGE
from cutover.errors import UnexpectedAnswer


def object_id(file_name: str, index: int, obj: Mapping[str, Any]) -> str:
    """The objectId of the ``index``-th object of ``file_name`` (UnexpectedAnswer when it has none)."""
    oid = obj.get("objectId")
    if not isinstance(oid, str) or not oid:
        raise UnexpectedAnswer(f"export file {file_name}: object #{index + 1}: field objectId is {oid!r:.40}, "
                               "expected a String (every exported object has one)")
    return oid


def without_markers(cls: str, obj: Mapping[str, Any]) -> dict[str, Any]:
    """``obj`` without the keys an exporter adds that are no field of the class (the Dashboard's className)."""
    out = dict(obj)
    if out.get("className") == cls:
        del out["className"]
    if out.get("__type") == "Object":
        del out["__type"]
    return out


def storage(cls: str, obj: Mapping[str, Any], fields: Mapping[str, Any], file_name: str) -> dict[str, Any]:
    """``obj`` (of ``file_name``) in storage form; UnexpectedAnswer naming file, objectId and field otherwise."""
    return to_storage_at(f"export file {file_name}:", cls, without_markers(cls, obj), fields)


def carried(cls: str, obj: Mapping[str, Any]) -> set[str]:
    """The storage fields REST never returns that this export object carries (a `_User`'s hash, token)."""
    hidden = NOT_RETURNED.get(cls, ())
    return {TO_STORAGE.get(key, key) for key in obj} & set(hidden)


def relation_row(file_name: str, index: int, row: Mapping[str, Any]) -> tuple[str, str]:
    """(owningId, relatedId) of the ``index``-th row of a relation file; UnexpectedAnswer naming it otherwise."""
    for key in ("owningId", "relatedId"):
        value = row.get(key)
        if not isinstance(value, str) or not value:
            which = row.get("objectId") or f"#{index + 1}"
            raise UnexpectedAnswer(f"export file {file_name}: relation row {which}: field {key} is {value!r:.40}, "
                                   "expected the objectId (a String) of the object it links")
    return str(row["owningId"]), str(row["relatedId"])
