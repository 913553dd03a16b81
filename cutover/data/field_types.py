"""Parse field types in storage form (DB-08): what `_SCHEMA` stores, what `/schemas` says, what a value is.

Storage form, as parse-server 9.10.0 writes `_SCHEMA` (``MongoSchemaCollection.parseFieldTypeToMongoFieldType``):
``string``, ``number``, ``boolean``, ``date``, ``object``, ``array``, ``geopoint``, ``file``, ``bytes``,
``polygon``, ``*<Class>`` (a pointer) and ``relation<Class>``; ``map`` is an older spelling of ``object``
(``mongoFieldToParseSchemaField`` reads both as Object). REST form (``/schemas``, an export's
``_SCHEMA.json``): ``{"type": "Pointer", "targetClass": "Player"}`` and the like.

How a document stores a value of each type (``MongoTransform.js``): a number as a BSON double, int or long; a
date as a BSON date; bytes as BSON binary; a file as its bare name (a string); a geopoint as
``[longitude, latitude]`` (an array); a polygon as a GeoJSON object; a pointer as the string ``"Class$id"``
under ``_p_<field>``; a relation not at all (its rows live in ``_Join:<field>:<Class>``). ``null`` is a value
of every type. So a stored value is classified by its BSON type (``$type``), and a pointer by its class prefix.

Fields every class has, or that Parse keeps apart from the declared ones (``objectId``, ``createdAt``,
``updatedAt``, ``ACL`` and its ``_rperm``/``_wperm``, ``_User``'s ``password`` and ``authData``, any storage
field starting with ``_``), are not compared: Parse's ``convertSchemaToAdapterSchema`` and
``mongoSchemaFieldsToParseSchemaFields`` rewrite them whatever `_SCHEMA` says (it stores ``createdAt: "string"``
for a class it creates). A class's default columns (``SchemaController.defaultColumns``) count as declared on a
side that omits them, as Parse injects them (``injectDefaultSchema``).
The type tables and the default columns are checked against the installed parse-server's own answers
(``tests/sandbox/test_parse_storage_types.py``).
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bson import Binary

_REST = {"String": "string", "Number": "number", "Boolean": "boolean", "Date": "date", "Object": "object",
         "Array": "array", "GeoPoint": "geopoint", "File": "file", "Bytes": "bytes", "Polygon": "polygon"}
_ALIASES = {"map": "object"}
IMPLICIT = frozenset({"objectId", "createdAt", "updatedAt", "ACL", "password", "authData"})
SAFE_NAME = re.compile(r"^[A-Za-z][0-9A-Za-z_]*$")     # Parse's own rule for field names (SchemaController)

# SchemaController.defaultColumns (parse-server 9.10.0), storage form, the implicit ones left out
_DEFAULTS_TEXT = {
    "_User": "username:string email:string emailVerified:boolean",
    "_Installation": "installationId:string deviceToken:string channels:array deviceType:string pushType:string "
                     "GCMSenderId:string timeZone:string localeIdentifier:string badge:number appVersion:string "
                     "appName:string appIdentifier:string parseVersion:string",
    "_Role": "name:string users:relation<_User> roles:relation<_Role>",
    "_Session": "user:*_User installationId:string sessionToken:string expiresAt:date createdWith:object",
    "_Product": "productIdentifier:string download:file downloadName:string icon:file order:number title:string "
                "subtitle:string",
    "_PushStatus": "pushTime:string source:string query:string payload:string title:string expiry:number "
                   "expiration_interval:number status:string numSent:number numFailed:number pushHash:string "
                   "errorMessage:object sentPerType:object failedPerType:object sentPerUTCOffset:object "
                   "failedPerUTCOffset:object count:number",
    "_JobStatus": "jobName:string source:string status:string message:string params:object finishedAt:date",
    "_JobSchedule": "jobName:string description:string params:string startAfter:string daysOfWeek:array "
                    "timeOfDay:string lastRun:number repeatMinutes:number",
    "_Hooks": "functionName:string className:string triggerName:string url:string",
    "_GlobalConfig": "params:object masterKeyOnly:object",
    "_GraphQLConfig": "config:object",
    "_Audience": "name:string query:string lastUsed:date timesUsed:number",
    "_Idempotency": "reqId:string expire:date",
}
DEFAULT_COLUMNS: dict[str, dict[str, str]] = {
    cls: dict(pair.split(":", 1) for pair in text.split()) for cls, text in _DEFAULTS_TEXT.items()}

# BSON type names (the aggregation operator $type) each storage type accepts; null and missing fit every type
_BSON: dict[str, tuple[str, ...]] = {
    "string": ("string",), "file": ("string",), "number": ("double", "int", "long"), "boolean": ("bool",),
    "date": ("date",), "object": ("object",), "polygon": ("object",), "array": ("array",), "geopoint": ("array",),
    "bytes": ("binData",),
}
EMPTY = ("null", "missing")
POINTER_OK = "pointer"                 # the pseudo BSON types a pointer field is classified into (server-side)
POINTER_OTHER = "pointer to another class"
_FOUND = {"double": "number", "int": "number", "long": "number", "bool": "boolean", "binData": "bytes",
          "string": "string", "date": "date", "object": "object", "array": "array"}


def storage_type(rest: Mapping[str, Any]) -> str | None:
    """The storage form of a REST field type (``{"type": "Pointer", "targetClass": "Player"}`` -> ``*Player``);
    None for ``ACL``, which `_SCHEMA` never stores."""
    kind = str(rest.get("type", ""))
    if kind == "Pointer":
        return f"*{rest.get('targetClass', '')}"
    if kind == "Relation":
        return f"relation<{rest.get('targetClass', '')}>"
    if kind == "ACL":
        return None
    return _REST.get(kind, kind)


def rest_type(stored: str) -> dict[str, str]:
    """The REST form of a storage type (``relation<_User>`` -> ``{"type": "Relation", "targetClass": "_User"}``)."""
    stored = _ALIASES.get(stored, stored)
    if stored.startswith("*"):
        return {"type": "Pointer", "targetClass": stored[1:]}
    if stored.startswith("relation<") and stored.endswith(">"):
        return {"type": "Relation", "targetClass": stored[len("relation<"):-1]}
    return {"type": next((rest for rest, plain in _REST.items() if plain == stored), stored)}


def normalized(stored: Any) -> str:
    return _ALIASES.get(str(stored), str(stored))


def is_compared(name: str) -> bool:
    """A field whose declared type DB-08 compares (not implicit, not a storage-only `_` field)."""
    return name not in IMPLICIT and not name.startswith("_")


def declared_fields(cls: str, fields: Mapping[str, str]) -> dict[str, str]:
    """A class's compared fields (storage types), Parse's default columns filled in where not declared."""
    declared = {name: normalized(kind) for name, kind in fields.items() if is_compared(name)}
    return {**DEFAULT_COLUMNS.get(cls, {}), **declared}


def schema_document_fields(doc: Mapping[str, Any]) -> dict[str, str]:
    """The field types of a `_SCHEMA` document (``_id``, ``_metadata`` and other `_` keys left out)."""
    return {str(k): str(v) for k, v in doc.items() if isinstance(v, str) and not str(k).startswith("_")}


def rest_fields(fields: Mapping[str, Any]) -> dict[str, str]:
    """The field types of a ``/schemas`` entry in storage form (``ACL`` left out)."""
    out = {name: storage_type(spec) for name, spec in fields.items() if isinstance(spec, Mapping)}
    return {name: kind for name, kind in out.items() if kind is not None}


# -- stored values -----------------------------------------------------------------------------------------
def stored_key(name: str, stored: str) -> str | None:
    """Where a document keeps a field of this type (``_p_<field>`` for a pointer); None for a relation."""
    if stored.startswith("relation<"):
        return None
    return f"_p_{name}" if stored.startswith("*") else name


def accepts(stored: str, bson_type: str) -> bool:
    """Whether a value of this BSON type (or pointer pseudo type) is a value of the storage type ``stored``."""
    if bson_type in EMPTY:
        return True
    if stored.startswith("*"):
        return bson_type == POINTER_OK
    return bson_type in _BSON.get(normalized(stored), ())


def accepted(stored: str) -> list[str]:
    """Every BSON type name :func:`accepts` takes for ``stored`` (for a server-side ``$in``)."""
    return [*EMPTY, *([POINTER_OK] if stored.startswith("*") else _BSON.get(normalized(stored), ()))]


def found_type(bson_type: str) -> str:
    """A stored value's type in the words of the schema (``double`` -> ``number``), else its BSON type."""
    return _FOUND.get(bson_type, bson_type if bson_type == POINTER_OTHER else f"BSON {bson_type}")


def candidates(key: str, value: Any) -> frozenset[str]:
    """The storage types a stored value may be of (a bare string may be a file's name, a two-number array a
    geopoint); empty for null, which says nothing. ``key`` is the storage key (``_p_<field>`` for pointers)."""
    if value is None:
        return frozenset()
    if key.startswith("_p_") and isinstance(value, str) and "$" in value:
        return frozenset({"*" + value.split("$", 1)[0]})
    return frozenset(_value_types(value))


def _value_types(value: Any) -> tuple[str, ...]:
    if isinstance(value, bool):
        return ("boolean",)
    if isinstance(value, int | float):      # Int64 is an int
        return ("number",)
    if isinstance(value, str):
        return ("string", "file")
    if isinstance(value, datetime):
        return ("date",)
    if isinstance(value, bytes | Binary):
        return ("bytes",)
    if isinstance(value, list):
        point = len(value) == 2 and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        return ("array", "geopoint") if point else ("array",)
    if isinstance(value, Mapping):
        return ("object", "polygon") if value.get("type") == "Polygon" else ("object",)
    return (f"BSON {type(value).__name__}",)
