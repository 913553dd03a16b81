"""Values in messages as a MongoDB shell (mongosh) or JSON reader writes them, never as Python reprs.

A release manager reads ``{"cheatMode": true}``, not ``SON([('cheatMode', True)])``; ``["a", "b"]``, not
``['a', 'b']``. :func:`shell` renders JSON for what JSON has (strings in double quotes, ``true``/``false``/
``null``, numbers, arrays, objects with their keys in order: any mapping, a ``SON`` or a raw BSON document) and
the shell's constructors for the BSON types JSON lacks, each one mongosh accepts as input: ``ObjectId("…")``,
``ISODate("…")``, ``NumberLong(7)``, ``NumberDecimal("1.5")``, ``BinData(0, "…")``, ``Timestamp(1, 2)``,
``/regex/flags``, ``UUID("…")``, ``MinKey()``, ``MaxKey()``; a double keeps its point (``5.0``) so it reads
apart from a long, and ``NaN``/``Infinity`` are the shell's.
"""
from __future__ import annotations

import base64
import json
import math
import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bson import Binary, Code, Decimal128, Int64, MaxKey, MinKey, ObjectId, Regex, Timestamp


def shell(value: Any, limit: int = 0) -> str:
    """``value`` in MongoDB shell / JSON notation; cut to ``limit`` characters with "..." when given."""
    text = _render(value)
    return text if not limit or len(text) <= limit else text[:max(0, limit - 3)] + "..."


def _render(value: Any) -> str:
    if value is None or isinstance(value, bool | str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{json.dumps(str(k), ensure_ascii=False)}: {_render(v)}"
                               for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_render(v) for v in value) + "]"
    if isinstance(value, set | frozenset):
        return _render(sorted(value, key=_render))
    return _scalar(value)


def _scalar(value: Any) -> str:
    if isinstance(value, Int64):
        return f"NumberLong({int(value)})"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _double(value)
    if isinstance(value, datetime):
        return f'ISODate("{_iso(value)}")'
    return _bson(value)


def _bson(value: Any) -> str:
    if isinstance(value, ObjectId):
        return f'ObjectId("{value}")'
    if isinstance(value, Decimal128):
        return f'NumberDecimal("{value}")'
    if isinstance(value, bytes):       # bson's Binary is bytes too
        subtype = value.subtype if isinstance(value, Binary) else 0
        return f'BinData({subtype}, "{base64.b64encode(bytes(value)).decode()}")'
    if isinstance(value, Timestamp):
        return f"Timestamp({value.time}, {value.inc})"
    if isinstance(value, Regex | re.Pattern):
        flags = value.flags if isinstance(value.flags, str) else _flags(value.flags)
        return f"/{value.pattern}/{flags}"
    if isinstance(value, uuid.UUID):
        return f'UUID("{value}")'
    if isinstance(value, Code):
        return f"Code({json.dumps(str(value))})"
    if isinstance(value, MinKey | MaxKey):
        return f"{type(value).__name__}()"
    return json.dumps(str(value), ensure_ascii=False)


def _double(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(value)


def _iso(value: datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    text = value.isoformat(timespec="milliseconds" if value.microsecond else "seconds")
    return text + "Z"


def _flags(flags: int) -> str:
    return "".join(letter for letter, bit in (("i", re.I), ("m", re.M), ("s", re.S), ("x", re.X)) if flags & bit)
