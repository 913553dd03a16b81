"""Two Parse Servers of different versions on the same migrated data: what they answer, compared as
``docs/versions.md`` says (the demo-skew scenarios; not shipped).

:func:`reads` lists raw requests the suite makes of a source server (whole classes in objectId order, counts,
``/schemas``, API-08's declared queries) and a few an app makes (reads without the master key, ``/config``,
``/serverInfo``); none writes (a log-in would store a session on each side). :func:`answer_differences`
compares two answers after the normalisations the docs list, and only those: a File's URL (each server serves
files under its own origin: the name is the reference), the version ``/serverInfo`` reports, and the token a
fresh log-in makes anew. Everything else that differs is named by its path.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import requests

from cutover.model import Query
from cutover.rest.flows import order_of

# The values two servers give anew on each call, by key: compared for presence and type, never for value.
FRESH_KEYS = frozenset({"sessionToken"})
VERSION_PATH = ".parseServerVersion"   # /serverInfo: differs by definition between versions
_TIMEOUT = 20.0


@dataclass(frozen=True)
class Read:
    """One GET: path, query parameters; ``auth`` "master" or "client"."""

    label: str
    path: str
    params: dict[str, Any] = field(default_factory=dict)
    auth: str = "master"


def reads(classes: list[str], queries: tuple[Query, ...]) -> Iterator[Read]:
    """What the suite asks a source server (and an app asks any server) for the given classes and queries; the
    REST source reader's own requests are made by the reader itself (the scenario compares what it yields)."""
    yield Read("schemas", "/schemas")
    for cls in classes:
        yield Read(f"{cls} objects", f"/classes/{cls}", {"order": "objectId", "limit": 10_000})
        yield Read(f"{cls} count", f"/classes/{cls}", {"count": 1, "limit": 0})
        yield Read(f"{cls} without the master key", f"/classes/{cls}", {"order": "objectId", "limit": 50},
                   auth="client")
    for query in queries:
        yield Read(f"query {query.label}", f"/classes/{query.cls}", {"where": json.dumps(query.where),
                                                                     "order": order_of(query), "limit": 100})
    yield Read("serverInfo", "/serverInfo")
    yield Read("config", "/config", auth="client")


def ask(url: str, read: Read, headers: dict[str, str]) -> tuple[int, Any]:
    """The status and JSON body (or text) ``read`` gets from the server at ``url``."""
    answer = requests.get(url + read.path, params=read.params, headers=headers, timeout=_TIMEOUT)
    try:
        return answer.status_code, answer.json()
    except ValueError:
        return answer.status_code, answer.text[:300]


def answer_differences(source: Any, target: Any, path: str = "") -> list[str]:
    """Where ``target`` differs from ``source`` (JSON paths), after the documented normalisations only."""
    if isinstance(source, dict) and isinstance(target, dict):
        if source.get("__type") == "File" and target.get("__type") == "File":
            return [] if _without_url(source) == _without_url(target) else [f"{path} (File {source.get('name')})"]
        found = []
        for key in sorted(set(source) | set(target)):
            found += _keyed(source, target, key, f"{path}.{key}")
        return found
    if isinstance(source, list) and isinstance(target, list):
        if len(source) != len(target):
            return [f"{path} ({len(source)} items, then {len(target)})"]
        return [d for i, (a, b) in enumerate(zip(source, target, strict=True))
                for d in answer_differences(a, b, f"{path}[{i}]")]
    return [] if source == target or path == VERSION_PATH else [f"{path} ({_short(source)}, then {_short(target)})"]


def _keyed(source: dict[str, Any], target: dict[str, Any], key: str, path: str) -> list[str]:
    if key not in source or key not in target:
        return [f"{path} ({'absent' if key not in source else 'present'}, then "
                f"{'absent' if key not in target else 'present'})"]
    if key in FRESH_KEYS:
        return [] if type(source[key]) is type(target[key]) else [f"{path} (type)"]
    return answer_differences(source[key], target[key], path)


def _without_url(file: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in file.items() if k != "url"}


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= 80 else text[:77] + "..."
