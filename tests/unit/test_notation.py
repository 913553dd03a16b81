"""Values in messages render in MongoDB shell / JSON notation, never as Python reprs."""
from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import bson
from bson import SON, Binary, Decimal128, Int64, MaxKey, MinKey, ObjectId, Regex, Timestamp
from bson.raw_bson import RawBSONDocument

from cutover.notation import shell

# what a Python repr leaves in a message, and the notation never does
PYTHON_REPR = re.compile(r"SON\(\[|[\[{(]'|', '|'\]|\{'[^']*': |\b(True|False|None)[,)\]}]|datetime\.datetime\(|"
                         r"ObjectId\('|Int64\(|Decimal128\(|Binary\(|\bb'")


def test_json_values_read_as_json() -> None:
    assert shell({"cheatMode": True, "name": "Mario's", "n": None, "tags": ["a", "b"], "x": 1.5, "k": 3}) == (
        '{"cheatMode": true, "name": "Mario\'s", "n": null, "tags": ["a", "b"], "x": 1.5, "k": 3}')
    assert shell(("a", 1)) == '["a", 1]' and shell({"b", "a"}) == '["a", "b"]' and shell("é") == '"é"'


def test_the_mappings_pymongo_returns_read_as_objects_in_key_order() -> None:
    son = SON([("cheatMode", True), ("score", -1)])
    assert shell(son) == '{"cheatMode": true, "score": -1}'
    raw = RawBSONDocument(bson.encode({"z": 1, "a": {"b": [1]}}))
    assert shell(raw) == '{"z": 1, "a": {"b": [1]}}'


def test_bson_types_json_lacks_read_as_the_shell_s_constructors() -> None:
    oid = ObjectId("5f1d7f0c2f8fb814b56fa181")
    assert shell(oid) == 'ObjectId("5f1d7f0c2f8fb814b56fa181")'
    assert shell(Int64(7)) == "NumberLong(7)" and shell(5.0) == "5.0" and shell(7) == "7"
    assert shell(Decimal128("1.5")) == 'NumberDecimal("1.5")'
    assert shell(datetime(2024, 1, 2, 3, 4, 5)) == 'ISODate("2024-01-02T03:04:05Z")'
    assert shell(datetime(2024, 1, 2, 3, 4, 5, 120000, tzinfo=UTC)) == 'ISODate("2024-01-02T03:04:05.120Z")'
    assert shell(Binary(b"\x00\x01", 4)) == 'BinData(4, "AAE=")' and shell(b"\x01") == 'BinData(0, "AQ==")'
    assert shell(Timestamp(1700000000, 3)) == "Timestamp(1700000000, 3)"
    assert shell(Regex("^a", "i")) == "/^a/i" and shell(re.compile("^b", re.I | re.M)) == "/^b/im"
    assert shell(uuid.UUID(int=1)) == 'UUID("00000000-0000-0000-0000-000000000001")'
    assert shell([MinKey(), MaxKey()]) == "[MinKey(), MaxKey()]"
    assert shell([float("nan"), float("inf"), -float("inf")]) == "[NaN, Infinity, -Infinity]"


def test_nothing_renders_as_a_python_repr() -> None:
    value = {"a": [True, None, False, datetime(2020, 1, 1), ObjectId(), Int64(1), b"x"], "b": SON([("c", "d")])}
    assert PYTHON_REPR.search(str(value)) and not PYTHON_REPR.search(shell(value))


def test_a_long_value_is_cut_with_an_ellipsis() -> None:
    assert shell("x" * 100, limit=10) == '"xxxxxx...' and len(shell(list(range(100)), limit=20)) == 20
    assert shell([1], limit=20) == "[1]"


def test_the_repr_detector_the_scenarios_use_knows_a_repr_from_prose() -> None:
    """Every scenario run reads its failed checks' messages with PYTHON_REPR (tests/scenarios/conftest.py)."""
    for repr_text in ("partialFilterExpression=SON([('cheatMode', True)])", "different: ['source a vs target b']",
                      "{'locale': 'en'}", "[True, None]", "ObjectId('5f1d7f0c2f8fb814b56fa181')"):
        assert PYTHON_REPR.search(repr_text), repr_text
    for prose in ("None of the 3 classes", "field 'tNumber' came back 7, sent 8", "it's True that", "(first 10)",
                  'partialFilterExpression={"cheatMode": true}', "extra on target: TopScores, _Idempotency"):
        assert not PYTHON_REPR.search(prose), prose
