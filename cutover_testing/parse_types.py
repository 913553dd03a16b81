"""A hypothesis strategy for Parse objects holding every Parse type (hypothesis is a runtime dependency).

The project's own tests fuzz the REST round trip against a real Parse Server with :func:`parse_objects`;
:mod:`cutover.rest.compare` says what must come back. Field names carry their type (``tDate``,
``xNumber1``) because a Parse class fixes a field's type on first use. Only what a real client can store
is generated: no lone surrogates (BSON strings are UTF-8), integers within 2**53, ACLs with granted
permissions only (Parse drops ``false`` entries), keys that Parse accepts.
"""
from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from hypothesis import strategies as st

from cutover.rest.compare import add_relation, date, file_ref, pointer

_SAFE_INT = 2**53 - 1
_KEY = st.from_regex(r"\A[A-Za-z][A-Za-z0-9_]{0,8}\Z")


# -- strategies -------------------------------------------------------------------------------------------
def strings() -> st.SearchStrategy[str]:
    # lone surrogates cannot be stored as UTF-8 (BSON), so no real client can send them
    return st.text(st.characters(exclude_categories=["Cs"]), max_size=40)


def numbers() -> st.SearchStrategy[int | float]:
    return st.integers(-_SAFE_INT, _SAFE_INT) | st.floats(allow_nan=False, allow_infinity=False)


def dates() -> st.SearchStrategy[dict[str, str]]:
    moments = st.datetimes(datetime(1900, 1, 1), datetime(2200, 1, 1), timezones=st.just(UTC))
    return moments.map(date)


def geopoints() -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(lambda lat, lon: {"__type": "GeoPoint", "latitude": lat, "longitude": lon},
                     st.floats(-90, 90), st.floats(-180, 180))


def bytes_values() -> st.SearchStrategy[dict[str, str]]:
    # Parse refuses empty Bytes (code 111, "This is not a valid Bytes"): "" is falsy in JS
    return st.binary(min_size=1, max_size=64).map(
        lambda b: {"__type": "Bytes", "base64": base64.b64encode(b).decode()})


def acls() -> st.SearchStrategy[dict[str, dict[str, bool]]]:
    """ACLs as Parse returns them: only granted permissions are kept, so only True is generated."""
    perms = st.sampled_from([{"read": True}, {"write": True}, {"read": True, "write": True}])
    who = st.just("*") | _KEY.map(lambda k: f"role:{k}") | st.from_regex(r"\A[A-Za-z0-9]{10}\Z")
    return st.dictionaries(who, perms, max_size=4)


def json_values() -> st.SearchStrategy[Any]:
    """Values allowed inside an Array or an Object: JSON scalars, Dates, nested arrays and objects."""
    scalars = strings() | numbers() | st.booleans() | st.none() | dates()
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEY, inner,
                                                                                                max_size=4),
                        max_leaves=12)


def parse_objects(cls: str, pointer_ids: list[str],
                  file_names: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """Objects of class ``cls`` with one field of every Parse type plus optional extra typed fields.

    Pointers and the Relation refer to ``pointer_ids`` (objects of ``cls`` that exist); Files to
    ``file_names`` (files that exist).
    """
    ids = st.sampled_from(pointer_ids)
    every = {
        "tString": strings(), "tNumber": numbers(), "tBoolean": st.booleans(), "tDate": dates(),
        "tArray": st.lists(json_values(), max_size=5),
        "tObject": st.dictionaries(_KEY, json_values(), max_size=5),
        "tGeoPoint": geopoints(), "tPointer": ids.map(lambda i: pointer(cls, i)),
        "tRelation": st.lists(ids, min_size=1, max_size=3, unique=True).map(lambda i: add_relation(cls, i)),
        "tFile": st.sampled_from(file_names).map(file_ref), "tBytes": bytes_values(), "ACL": acls(),
    }
    return st.builds(lambda base, more: {**base, **more}, st.fixed_dictionaries(every), _extra_fields())


def _extra_fields() -> st.SearchStrategy[dict[str, Any]]:
    by_kind = {"String": strings(), "Number": numbers(), "Date": dates(), "Boolean": st.booleans()}
    fields = [st.fixed_dictionaries({}, optional={f"x{kind}{n}": value for n in (1, 2)})
              for kind, value in by_kind.items()]
    return st.tuples(*fields).map(lambda parts: {k: v for part in parts for k, v in part.items()})
