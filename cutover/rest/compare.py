"""What a Parse Server must give back for what was sent, and the differences rendered for a message.

Parse's wire semantics: Dates as ``{"__type": "Date", "iso"}`` in milliseconds, Bytes as base64, Pointers
by class and id, a Relation field reads back as ``{"__type": "Relation", "className"}`` (membership is
checked with ``$relatedTo``), a File by its name (the URL depends on the server that answers), numbers
without int/float distinction (JSON).
"""
from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from cutover.notation import shell

PARSE_TYPES = ("String", "Number", "Boolean", "Date", "Array", "Object", "GeoPoint", "Pointer", "Relation",
               "File", "Bytes", "ACL")
SERVER_SET = frozenset({"objectId", "createdAt", "updatedAt"})
_DIFF_CAP = 5


def date(moment: datetime) -> dict[str, str]:
    stamp = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
    return {"__type": "Date", "iso": f"{stamp}Z"}


def pointer(cls: str, object_id: str) -> dict[str, str]:
    return {"__type": "Pointer", "className": cls, "objectId": object_id}


def add_relation(cls: str, object_ids: list[str]) -> dict[str, Any]:
    return {"__op": "AddRelation", "objects": [pointer(cls, i) for i in object_ids]}


def file_ref(name: str, url: str = "") -> dict[str, str]:
    return {"__type": "File", "name": name, **({"url": url} if url else {})}


def sample_object(cls: str, pointer_id: str, file_name: str, moment: datetime, file_url: str = "") -> dict[str, Any]:
    """The fixed object API-02 sends: every Parse type, with values that trip naive stores. The file goes with
    its URL, as the SDKs send it (Parse Server 9.10 crashes when an afterSave trigger of the class meets a new
    object whose File is known by name only: "Tried to encode an unsaved file")."""
    return {
        "tString": "Zoë 🎲 \"quoted\" \\ line\nbreak", "tNumber": 8, "tFloat": -1234.5678, "tBoolean": False,
        "tDate": date(moment), "tArray": [1, "two", 3.5, None, {"k": [True]}],
        "tObject": {"nested": {"deep": [1, 2]}, "when": date(moment), "empty": {}},
        "tGeoPoint": {"__type": "GeoPoint", "latitude": 48.8584, "longitude": 2.2945},
        "tPointer": pointer(cls, pointer_id), "tRelation": add_relation(cls, [pointer_id]),
        "tFile": file_ref(file_name, file_url),
        "tBytes": {"__type": "Bytes", "base64": base64.b64encode(b"\x00\xff\x10bin").decode()},
        "ACL": {"*": {"read": True}, "role:CutoverProbeAdmin": {"read": True, "write": True}},
    }


# -- comparison ---------------------------------------------------------------------------------------------
def expected_back(sent: dict[str, Any]) -> dict[str, Any]:
    """What a GET should return for ``sent``: relation ops read back as Relation fields, Files by name."""
    return {key: _expected_value(value) for key, value in sent.items()}


def _expected_value(value: Any) -> Any:
    if isinstance(value, dict) and value.get("__op") == "AddRelation":
        return {"__type": "Relation", "className": value["objects"][0]["className"]}
    return _strip_file_urls(value)


def _strip_file_urls(value: Any) -> Any:
    if isinstance(value, dict):
        if value.get("__type") == "File":
            return {"__type": "File", "name": value.get("name")}
        return {k: _strip_file_urls(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strip_file_urls(v) for v in value]
    return value


def comparable(got: dict[str, Any], ignore: frozenset[str] = SERVER_SET) -> dict[str, Any]:
    """A returned object without server-set fields and with File URLs removed."""
    return {k: _strip_file_urls(v) for k, v in got.items() if k not in ignore}


def differences(sent: dict[str, Any], got: dict[str, Any], ignore: frozenset[str] = SERVER_SET) -> list[str]:
    """How ``got`` differs from what ``sent`` should read back as: ["field 'tNumber' came back 7, sent 8"]."""
    from deepdiff import DeepDiff  # imported here: it costs every run's start ~0.1 s; only REST comparisons use it

    diff = DeepDiff(expected_back(sent), comparable(got, ignore), ignore_numeric_type_changes=True,
                    verbose_level=2)
    lines: list[str] = []
    for kind, changes in diff.items():
        lines.extend(_describe(kind, path, change) for path, change in _items(changes))
    more = [f"... {len(lines) - _DIFF_CAP} more"] if len(lines) > _DIFF_CAP else []
    return sorted(lines)[:_DIFF_CAP] + more


def _items(changes: Any) -> list[tuple[str, Any]]:
    return list(changes.items()) if isinstance(changes, dict) else [(str(p), None) for p in changes]


def _describe(kind: str, path: str, change: Any) -> str:
    field = _field(path)
    if kind in ("values_changed", "type_changes"):
        return f"field '{field}' came back {_short(change['new_value'])}, sent {_short(change['old_value'])}"
    if kind in ("dictionary_item_removed", "iterable_item_removed"):
        return f"field '{field}' did not come back (sent {_short(change)})"
    if kind in ("dictionary_item_added", "iterable_item_added"):
        return f"field '{field}' came back {_short(change)}, never sent"
    return f"field '{field}': {kind}"


def _field(path: str) -> str:
    """``root['tObject']['when']`` -> ``tObject.when``; list indexes stay as ``[0]``."""
    out = path.removeprefix("root")
    return out.replace("['", ".").replace("']", "").lstrip(".")


def _short(value: Any) -> str:
    return shell(value, limit=80)
