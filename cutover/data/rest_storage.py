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
- ``_User``: ``authData.<provider>`` -> ``_auth_data_<provider>``; ``sessionToken`` -> ``_session_token``.

What REST JSON cannot carry, and so is compared in the *comparison form* (:func:`comparable`) only:
- the BSON number type: JSON has one number type (Parse prints 5.0 as ``5``), so Int32, Int64 and an
  integral double compare equal; a number that became a string, a bool or a date still differs;
- the order of ``_rperm``/``_wperm`` (Parse rebuilds the REST ACL as an object): compared as sets;
- fields the API never returns even with the master key (:data:`NOT_RETURNED`): left out of the comparison
  and listed as not verifiable from this source (their presence is checked on the target instead).
"""
from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bson import Int64

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


def to_storage(cls: str, obj: Mapping[str, Any], fields: Mapping[str, Any]) -> dict[str, Any]:
    """``obj`` (one object as REST returns it) in storage form; ``fields`` is the class's ``/schemas`` fields
    (a Relation field is not stored in the object and is left out)."""
    out: dict[str, Any] = {}
    for key, value in obj.items():
        kind = (fields.get(key) or {}).get("type")
        if kind == "Relation" or (isinstance(value, dict) and value.get("__type") == "Relation"):
            continue
        if key == "ACL":
            out.update(acl_fields(value))
        elif key == "authData" and cls == "_User" and isinstance(value, dict):
            out.update({f"_auth_data_{provider}": data for provider, data in value.items()})
        elif key in _RENAMED:
            name = _RENAMED[key]
            out[name] = iso_date(value) if name in _STAMPS else value
        else:
            name, stored = top_level(key, value)
            out[name] = stored
    return out


def top_level(key: str, value: Any) -> tuple[str, Any]:
    if isinstance(value, dict):
        kind = value.get("__type")
        if kind == "Pointer":
            return f"_p_{key}", f"{value['className']}${value['objectId']}"
        if kind == "File":
            return key, value["name"]
        if kind == "GeoPoint":
            return key, [value["longitude"], value["latitude"]]
        if kind == "Polygon":
            return key, polygon(value["coordinates"])
    return key, interior(value)


def interior(value: Any) -> Any:
    """A nested value in storage form: Dates and Bytes converted at any depth, everything else as sent."""
    if isinstance(value, list):
        return [interior(v) for v in value]
    if isinstance(value, dict):
        kind = value.get("__type")
        if kind == "Date":
            return iso_date(value["iso"])
        if kind == "Bytes":
            return base64.b64decode(value["base64"])   # binary subtype 0, as pymongo decodes it
        if kind == "Pointer":
            return {"__type": "Pointer", "className": value["className"], "objectId": value["objectId"]}
        return {k: interior(v) for k, v in value.items()}
    return value


def polygon(coords: list[list[float]]) -> dict[str, Any]:
    ring = [list(c) for c in coords]
    if ring and ring[0] != ring[-1]:
        ring.append(ring[0])
    return {"type": "Polygon", "coordinates": [[[lat_lng[1], lat_lng[0]] for lat_lng in ring]]}


def acl_fields(acl: Any) -> dict[str, Any]:
    """``_rperm``, ``_wperm`` and the legacy ``_acl`` of a REST ACL (MongoTransform's transformACL)."""
    if not isinstance(acl, dict):
        raise UnexpectedAnswer(f"ACL is {type(acl).__name__}, expected an object")
    rperm = [who for who, perm in acl.items() if perm.get("read")]
    wperm = [who for who, perm in acl.items() if perm.get("write")]
    legacy: dict[str, dict[str, bool]] = {}
    for who, perm in acl.items():
        entry = {**({"r": True} if perm.get("read") else {}), **({"w": True} if perm.get("write") else {})}
        if entry:
            legacy[who] = entry
    return {"_rperm": rperm, "_wperm": wperm, "_acl": legacy}


def iso_date(text: Any) -> datetime:
    """A Parse ISO date (``2023-01-01T00:00:00.000Z``) as the naive UTC datetime pymongo decodes."""
    if not isinstance(text, str):
        raise UnexpectedAnswer(f"date {text!r:.60} is not an ISO string")
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC).replace(tzinfo=None)


def join_row(owning_id: str, related_id: str) -> tuple[str, str]:
    """A `_Join:<field>:<Class>` row as compared: (owningId, relatedId); its ObjectId `_id` is never shown by
    REST, so it is not compared."""
    return owning_id, related_id


def comparable(cls: str, doc: Mapping[str, Any]) -> dict[str, Any]:
    """``doc`` (storage form, from either side) in the form a REST-sourced comparison can judge."""
    hidden = set(NOT_RETURNED.get(cls, ()))
    return {k: _perms(k, _numbers(v)) for k, v in doc.items() if k not in hidden}


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


def equivalent(cls: str, ours: Mapping[str, Any], theirs: Mapping[str, Any]) -> bool:
    """True when ``ours`` and ``theirs`` have no difference in the comparison form, without building it (the
    fast path of DB-02 from a REST source; a False is then explained by :func:`comparable` and a field diff)."""
    hidden = NOT_RETURNED.get(cls, ())
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
