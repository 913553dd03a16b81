"""Hostile data never crashes a check: odd `_id`s, deep and huge documents, odd field and class names.

The same hostile documents are planted in two fresh copies of the migrated data, one serving as the source
and one as the target (the shared sandbox source stays untouched), and the data, index and files checks run
on them. A check may pass, fail honestly (an assertion naming what differs) or ERROR cleanly ("could not
verify", one line); it may never crash with an unexpected exception, and the run never ends in INTERNALERROR.

Limits measured on the mongoeco stand-in are asserted where they are facts (see ``plant``): a key that is
not valid UTF-8 cannot be planted through pymongo at all (its encoder refuses), so it is planted as raw BSON.
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

import pytest
from bson import Binary, ObjectId, encode
from bson.int64 import Int64
from bson.raw_bson import RawBSONDocument

from cutover.model import Source
from cutover.sandbox.stack import Sandbox

pytestmark = pytest.mark.sandbox
RunResult = Any   # tests/scenarios/conftest.py's RunResult (conftest modules are not importable by name)
AREAS = ("test_data.py", "test_indexes.py", "test_files.py")
BIG_BYTES = 15 * 1024 * 1024
CRASH = re.compile(r"^[A-Za-z_.]+(Error|Exception|Exit)\b")


def deep(levels: int) -> dict[str, Any]:
    doc: dict[str, Any] = {"leaf": "bottom"}
    for level in range(levels):
        doc = {f"l{level}": doc}
    return doc


def hostile_documents() -> dict[str, list[Any]]:
    return {
        "HostileIds": [{"_id": 1, "v": "int"}, {"_id": Int64(2**40), "v": "long"},
                       {"_id": ObjectId("5f0000000000000000000001"), "v": "oid"},
                       {"_id": Binary(b"\x00\xff\x10", 0), "v": "binary"},
                       {"_id": {"a": 1, "b": [2]}, "v": "compound"}, {"_id": "plain-string", "v": "string"},
                       {"_id": 2.5, "v": "double"}],
        "HostileShapes": [{"_id": "deep", "d": deep(150)},
                          {"_id": "names", "a.b": 1, "ünïcødé": "ok", " ": "space",
                           "x": {"": "empty", "c.d": [{"e.f": 1}]}}],
        "Weird.Class": [{"_id": "dotted-class", "v": 1}],
    }


def bad_utf8_key_document() -> RawBSONDocument:
    """``{"_id": "bad-utf8", b"k\\xff": 1}``: a key that is not UTF-8, built byte by byte."""
    body = encode({"_id": "bad-utf8", "k": 1})
    fixed = body[4:].replace(b"\x10k\x00", b"\x10k\xff\x00", 1)
    return RawBSONDocument((len(fixed) + 4).to_bytes(4, "little") + fixed)


def plant(db: Any) -> dict[str, str]:
    """Plant every hostile document in ``db``; returns what the server refused, by what (measured facts)."""
    refused: dict[str, str] = {}
    for cls, docs in hostile_documents().items():
        for doc in docs:
            try:
                db[cls].insert_one(doc)
            except Exception as exc:   # a refusal is a fact about the server, recorded for the assertion
                refused[f"{cls}:{doc['_id']!r}"] = type(exc).__name__
    big = {"_id": "big", "blob": "x" * BIG_BYTES}
    try:
        db["HostileBig"].insert_one(big)
    except Exception as exc:
        refused["HostileBig"] = f"{type(exc).__name__}: {str(exc)[:120]}"
    try:
        db["HostileNames"].insert_one(bad_utf8_key_document())
    except Exception as exc:
        refused["HostileNames:bad-utf8"] = f"{type(exc).__name__}: {str(exc)[:120]}"
    return refused


def test_hostile_data_never_crashes_a_check(sandbox: Sandbox, run_checks: Callable[..., RunResult]) -> None:
    source = sandbox.fork_target("hostile_src")
    target = sandbox.fork_target("hostile")
    refused = [plant(sandbox.db(t.database.uri)) for t in (source, target)]
    assert refused[0] == refused[1]
    # Measured on mongoeco 4.11: it stores the 15 MB document, 150 levels of nesting, dotted and unicode field
    # names and a dotted class name; it refuses only the key that is not UTF-8 (code 22, InvalidBSON).
    assert set(refused[0]) <= {"HostileNames:bad-utf8"}, refused[0]
    hostile = dataclasses.replace(target, name="hostile", cloud_functions=(),
                                  source=Source(kind="mongodb", uri=source.database.uri))
    result = run_checks(hostile, only=AREAS)
    assert result.exit_code not in (2, 3, 4) and "INTERNALERROR" not in result.output, result.output[-3000:]
    assert any(label.startswith("DB-02[HostileIds") for label in result.outcomes), sorted(result.outcomes)
    for label, outcome in result.outcomes.items():
        message = result.messages.get(label, "")
        if outcome == "error":
            assert message.startswith("could not verify: ") and "\n" not in message, (label, message)
        if outcome == "failed":
            assert not CRASH.match(message), (label, message)
    same = [k for k in result.outcomes if k.startswith(("DB-01[Hostile", "DB-01[Weird.Class", "DB-02[Host"))]
    wrong = {k: result.messages.get(k) for k in same if result.outcomes[k] != "passed"}
    assert same and not wrong, wrong
