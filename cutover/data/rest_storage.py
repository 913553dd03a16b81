"""One exact mapping from Parse REST JSON to Parse Server's MongoDB storage form, and the comparison form.

The storage rules are those of parse-server 9.10.0's ``lib/Adapters/Storage/Mongo/MongoTransform.js``
(``transformTopLevelAtom``, ``transformInteriorAtom``, the coders, ``transformACL``) read back through
``mongoObjectToParseObject``:

- ``objectId`` -> ``_id``; ``createdAt``/``updatedAt`` (ISO strings) -> ``_created_at``/``_updated_at`` dates;
- ``{"__type": "Date"}`` -> a date, at any depth; ``{"__type": "Bytes"}`` -> binary, at any depth;
- a top-level Pointer -> ``_p_<field>: "Class$id"``; a nested one keeps ``{__type, className, objectId}``;
- a top-level File -> its bare name; a nested one is stored as sent (``{__type, name, url}``);
- a top-level GeoPoint -> ``[longitude, latitude]``; a top-level Polygon -> GeoJSON
  ``{"type": "Polygon", "coordinates": [[[lng, lat], ...]]}`` (the ring closed); nested ones as sent;
- a Relation field is not stored in the object: its rows live in ``_Join:<field>:<Class>``
  (``{owningId, relatedId}``, :func:`join_row`);
- ``ACL`` -> ``_rperm``, ``_wperm`` and the legacy ``_acl`` (``{who: {"r": true, "w": true}}``);
- ``_User``: ``bcryptPassword`` -> ``_hashed_password``, ``sessionToken`` -> ``_session_token``,
  ``authData.<provider>`` -> ``_auth_data_<provider>`` (:mod:`cutover.data.user_fields`, both ways);
- anything else with a ``__type`` (or a malformed Date, Pointer, File, GeoPoint, Polygon, Bytes, ACL) cannot be
  mapped: :class:`~cutover.data.user_fields.Unmappable` names the field, never a silent skip.

What REST JSON cannot carry, and so is compared in the *comparison form* (:func:`comparable`) only:
- the BSON number type: JSON has one number type (Parse prints 5.0 as ``5``), so Int32, Int64 and an
  integral double compare equal; a number that became a string, a bool or a date still differs;
- the order of ``_rperm``/``_wperm`` (Parse rebuilds the REST ACL as an object): compared as sets;
- fields the API never returns even with the master key (:data:`NOT_RETURNED`): left out of the comparison
  and listed as not verifiable from this source (their presence is checked on the target instead), unless
  the source's object carries them (an export's ``bcryptPassword``, ``sessionToken``): then they are compared
  (:func:`hidden_fields`).
"""
from __future__ import annotations

import base64
import binascii
from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from typing import Any

from bson import Int64

from cutover.data import user_fields
from cutover.data.user_fields import Unmappable
from cutover.errors import UnexpectedAnswer

# Storage fields Parse Server never returns through REST, even to the master key (DatabaseController's
# filterSensitiveData drops every `_` key; RestQuery drops the password).
NOT_RETURNED: dict[str, tuple[str, ...]] = {
    "_User": ("_hashed_password", "_email_verify_token", "_email_verify_token_expires_at", "_perishable_token",
              "_perishable_token_expires_at", "_password_changed_at", "_failed_login_count",
              "_account_lockout_expires_at", "_password_history", "_tombstone", "_session_token"),
}
_RENAMED = {"objectId": "_id", "createdAt": "_created_at", "updatedAt": "_updated_at",
            "sessionToken": "_session_token"}
_STAMPS = ("_created_at", "_updated_at")
KNOWN_TYPES = frozenset({"Date", "Bytes", "Pointer", "File", "GeoPoint", "Polygon", "Relation"})


def to_storage(cls: str, obj: Mapping[str, Any], fields: Mapping[str, Any]) -> dict[str, Any]:
    """``obj`` (one object as REST returns it, or an export holds it) in storage form; ``fields`` is the class's
    ``/schemas`` fields (a Relation field is not stored in the object and is left out). A value the mapping
    cannot map raises :class:`~cutover.data.user_fields.Unmappable` naming its field."""
    out: dict[str, Any] = {}
    for key, value in obj.items():
        if _is_relation(key, value, fields):
            continue
        if key == "ACL":
            out.update(acl_fields(value))
        elif cls == "_User" and user_fields.is_user_field(key):
            out.update(user_fields.to_storage(key, value))
        elif key in _RENAMED:
            name = _RENAMED[key]
            out[name] = stamp(key, value) if name in _STAMPS else value
        else:
            name, stored = top_level(key, value)
            out[name] = stored
    return out


def to_storage_at(where: str, cls: str, obj: Mapping[str, Any], fields: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`to_storage`, with what cannot be mapped an UnexpectedAnswer naming ``where`` (the source or the
    export file), the objectId and the field."""
    try:
        return to_storage(cls, obj, fields)
    except Unmappable as exc:
        raise UnexpectedAnswer(f"{where} object {obj.get('objectId')}: field {exc.field}: {exc.reason}") from None


def _is_relation(key: str, value: Any, fields: Mapping[str, Any]) -> bool:
    if isinstance(value, dict) and value.get("__type") == "Relation":
        if not isinstance(value.get("className"), str):
            raise Unmappable(key, "a Relation without a className")
        return True
    return (fields.get(key) or {}).get("type") == "Relation"


def top_level(key: str, value: Any) -> tuple[str, Any]:
    kind = value.get("__type") if isinstance(value, dict) else None
    if kind == "Pointer":
        return f"_p_{key}", "{}${}".format(*_pointer(key, value))
    if kind == "File":
        return key, _text(key, value, "name")
    if kind == "GeoPoint":
        return key, [_coordinate(key, value, "longitude"), _coordinate(key, value, "latitude")]
    if kind == "Polygon":
        return key, polygon(key, value.get("coordinates"))
    return key, interior(value, key)


def interior(value: Any, path: str = "") -> Any:
    """A nested value in storage form: Dates and Bytes converted at any depth, everything else as sent."""
    if isinstance(value, list):
        return [interior(v, f"{path}[{i}]") for i, v in enumerate(value)]
    if not isinstance(value, dict):
        return value
    kind = value.get("__type")
    if kind is None:
        return {k: interior(v, f"{path}.{k}" if path else k) for k, v in value.items()}
    if kind == "Date":
        return iso_date(value.get("iso"), path)
    if kind == "Bytes":
        return _bytes(path, value)     # binary subtype 0, as pymongo decodes it
    if kind == "Pointer":
        cls, oid = _pointer(path, value)
        return {"__type": "Pointer", "className": cls, "objectId": oid}
    if kind in ("File", "GeoPoint", "Polygon"):
        top_level(path, value)          # checked as a top-level one would be, then stored as sent
        return {k: interior(v, f"{path}.{k}") for k, v in value.items()}
    raise Unmappable(path, f"unknown __type {kind!r:.40} (Parse's types: {', '.join(sorted(KNOWN_TYPES))})")


def _pointer(path: str, value: Mapping[str, Any]) -> tuple[str, str]:
    return _text(path, value, "className"), _text(path, value, "objectId")


def _text(path: str, value: Mapping[str, Any], key: str) -> str:
    found = value.get(key)
    if not isinstance(found, str) or not found:
        raise Unmappable(path, f"a {value.get('__type')} whose {key} is {found!r:.40}, expected a non-empty String")
    return found


def _coordinate(path: str, value: Mapping[str, Any], key: str) -> float:
    found = value.get(key)
    if isinstance(found, bool) or not isinstance(found, int | float):
        raise Unmappable(path, f"a {value.get('__type')} whose {key} is {found!r:.40}, expected a Number")
    return found


def _bytes(path: str, value: Mapping[str, Any]) -> bytes:
    try:
        return base64.b64decode(_text(path, value, "base64"), validate=True)
    except binascii.Error as exc:
        raise Unmappable(path, f"Bytes whose base64 does not decode ({exc})") from None


def polygon(path: str, coords: Any) -> dict[str, Any]:
    ok = isinstance(coords, list) and all(isinstance(c, list) and len(c) == 2 and
                                          all(isinstance(n, int | float) and not isinstance(n, bool) for n in c)
                                          for c in coords)
    if not ok:
        raise Unmappable(path, f"a Polygon whose coordinates are {coords!r:.60}, expected [[lat, lng], ...]")
    ring = [list(c) for c in coords]
    if ring and ring[0] != ring[-1]:
        ring.append(ring[0])
    return {"type": "Polygon", "coordinates": [[[lat_lng[1], lat_lng[0]] for lat_lng in ring]]}


def acl_fields(acl: Any) -> dict[str, Any]:
    """``_rperm``, ``_wperm`` and the legacy ``_acl`` of a REST ACL (MongoTransform's transformACL)."""
    if not isinstance(acl, dict):
        raise Unmappable("ACL", f"is {type(acl).__name__}, expected an object")
    for who, perm in acl.items():
        if not isinstance(perm, dict) or not all(isinstance(v, bool) for v in perm.values()):
            raise Unmappable(f"ACL.{who}", f"is {perm!r:.40}, expected {{\"read\": bool, \"write\": bool}}")
    rperm = [who for who, perm in acl.items() if perm.get("read")]
    wperm = [who for who, perm in acl.items() if perm.get("write")]
    legacy: dict[str, dict[str, bool]] = {}
    for who, perm in acl.items():
        entry = {**({"r": True} if perm.get("read") else {}), **({"w": True} if perm.get("write") else {})}
        if entry:
            legacy[who] = entry
    return {"_rperm": rperm, "_wperm": wperm, "_acl": legacy}


def stamp(key: str, value: Any) -> datetime:
    """``createdAt``/``updatedAt``: an ISO string (REST, exports) or a Date (some exports write it so)."""
    if isinstance(value, dict) and value.get("__type") == "Date":
        value = value.get("iso")
    return iso_date(value, key)


def iso_date(text: Any, path: str = "date") -> datetime:
    """A Parse ISO date (``2023-01-01T00:00:00.000Z``) as the naive UTC datetime pymongo decodes."""
    if isinstance(text, str):
        try:
            when = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            pass
        else:        # Parse writes UTC; a date without an offset is UTC too, never the machine's local time
            return when if when.tzinfo is None else when.astimezone(UTC).replace(tzinfo=None)
    raise Unmappable(path, f"a date {text!r:.60} that is not an ISO 8601 string")


def join_row(owning_id: str, related_id: str) -> tuple[str, str]:
    """A `_Join:<field>:<Class>` row as compared: (owningId, relatedId); its ObjectId `_id` is never shown by
    REST, so it is not compared."""
    return owning_id, related_id


def hidden_fields(cls: str, source_doc: Mapping[str, Any]) -> frozenset[str]:
    """The storage fields of ``cls`` left out of a comparison with ``source_doc``: those a REST source never
    returns, unless the source's object carries them (an export's password hash and session token do)."""
    return frozenset(k for k in NOT_RETURNED.get(cls, ()) if k not in source_doc)


def comparable(cls: str, doc: Mapping[str, Any], hidden: Collection[str] | None = None) -> dict[str, Any]:
    """``doc`` (storage form, from either side) in the form a REST-sourced comparison can judge; ``hidden``:
    the fields left out (every field REST never returns when None)."""
    left_out = set(NOT_RETURNED.get(cls, ()) if hidden is None else hidden)
    return {k: _perms(k, _numbers(v)) for k, v in doc.items() if k not in left_out}


def _perms(key: str, value: Any) -> Any:
    if key in ("_rperm", "_wperm") and isinstance(value, list):
        return sorted(value, key=str)
    return value


def _numbers(value: Any) -> Any:
    """Numbers in the one form JSON keeps: Int64 and integral doubles as int (bool is not a number)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, Int64):
        return int(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return int(value)
    if isinstance(value, list):
        return [_numbers(v) for v in value]
    if isinstance(value, dict):
        return {k: _numbers(v) for k, v in value.items()}
    return value


def equivalent(cls: str, ours: Mapping[str, Any], theirs: Mapping[str, Any],
               hidden: Collection[str] | None = None) -> bool:
    """True when ``ours`` and ``theirs`` have no difference in the comparison form, without building it (the
    fast path of DB-02 from a REST source; a False is then explained by :func:`comparable` and a field diff)."""
    hidden = NOT_RETURNED.get(cls, ()) if hidden is None else hidden
    keys = {k for k in ours if k not in hidden}
    if keys != {k for k in theirs if k not in hidden}:
        return False
    for key in keys:
        a, b = ours[key], theirs[key]
        if key in ("_rperm", "_wperm") and isinstance(a, list) and isinstance(b, list):
            if not _same(sorted(a, key=str), sorted(b, key=str)):
                return False
        elif not _same(a, b):
            return False
    return True


def _same(a: Any, b: Any) -> bool:
    kind = type(a)
    if kind is type(b):
        if kind is dict:
            return bool(a.keys() == b.keys()) and all(_same(v, b[k]) for k, v in a.items())
        if kind is list:
            return len(a) == len(b) and all(map(_same, a, b))
        if kind is float and a != a:
            return bool(b != b)      # NaN equals NaN here, as in field_differences
        return bool(a == b)
    x, y = _number(a), _number(b)
    return x is not None and y is not None and x == y


def _number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return _numbers(value)
