"""cutover.data.digest without a server: the exact double scaling (a model of the server's IEEE arithmetic), the
known-answer verdicts on recorded replies, the pipeline's shape and what makes two digests match."""
from __future__ import annotations

import json
import math
import re
from fractions import Fraction
from typing import Any

import bson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cutover.data import digest
from cutover.data.content import Partition
from cutover.data.digest import KNOWN, POWERS, Digest, Support, judge_known_answers


def scaled(d: float) -> tuple[float, float] | None:
    """What double_rep computes on the server for a finite non-zero double: (k, d x 2^k), or None when the
    server's own exactness test would fail (the document then counts as undigestable)."""
    k = 56 - math.floor(math.log(abs(d)) / math.log(2))
    h = math.floor(k / 2)
    p, q = POWERS[int(h) + 500], POWERS[int(k - h) + 500]
    s = d * p * q
    exact = s == math.trunc(s) and abs(s) < 2 ** 62 and s / q / p == d
    return (k, s) if exact else None


def test_powers_are_exact_powers_of_two() -> None:
    assert all(math.frexp(p)[0] == 0.5 for p in POWERS)
    assert POWERS[500] == 1.0 and len(POWERS) == 1101


finite = st.floats(allow_nan=False, allow_infinity=False).filter(lambda d: d != 0)


@settings(max_examples=3000, deadline=None)
@given(finite)
def test_every_finite_double_scales_exactly_and_back(d: float) -> None:
    found = scaled(d)
    assert found is not None, f"{d!r} would be undigestable"
    k, s = found
    assert Fraction(s) / Fraction(2) ** int(k) == Fraction(d)


@pytest.mark.parametrize("d", [5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, -1.0, 0.1, 1.0, 2.0,
                               2.0 ** 52 + 1, 2.0 ** 53, 1e300, -1e-300, 1 / 3])
def test_edge_doubles_scale_exactly(d: float) -> None:
    assert scaled(d) is not None


@settings(max_examples=2000, deadline=None)
@given(finite, finite)
def test_the_scaled_form_tells_every_two_doubles_apart(a: float, b: float) -> None:
    if a != b:
        assert scaled(a) != scaled(b)


def test_neighbouring_doubles_have_different_scaled_forms() -> None:
    for d in (1.0, 0.3, 1e-310, 123456.789, 1e300):
        assert scaled(d) != scaled(math.nextafter(d, math.inf))


def _rows(equal_hashes: dict[int, bool] | None = None, undigestable: int | None = None) -> list[dict[str, Any]]:
    """Recorded shape of the known-answer reply: {i, h (Int64), x} per document, two per case."""
    rows = []
    for i, (_, _, _, equal) in enumerate(KNOWN):
        same = (equal_hashes or {}).get(i, equal)
        rows += [{"i": i, "h": bson.Int64(1000 + 2 * i), "x": 0},
                 {"i": i, "h": bson.Int64(1000 + 2 * i + (0 if same else 1)), "x": int(i == undigestable)}]
    return rows


def test_known_answers_all_right_make_the_digest_available() -> None:
    assert judge_known_answers(_rows()) == Support(True)


def test_a_collision_on_int64_vs_double_disables_the_digest() -> None:
    index = next(i for i, case in enumerate(KNOWN) if case[0] == "Int64 vs Double")
    verdict = judge_known_answers(_rows({index: True}))
    assert not verdict.available and verdict.reason == "known-answer test 'Int64 vs Double': digests collide"


def test_reordered_fields_must_digest_alike() -> None:
    verdict = judge_known_answers(_rows({0: False}))
    assert verdict.reason == "known-answer test 'field order': digests differ"


def test_an_undigested_known_document_disables_the_digest() -> None:
    assert judge_known_answers(_rows(undigestable=3)).reason.endswith("not digested")
    assert not judge_known_answers(_rows()[:-1]).available


def test_digests_match_only_when_complete_and_equal() -> None:
    assert Digest(3, "123").matches(Digest(3, "123"))
    assert not Digest(3, "123").matches(Digest(3, "124"))
    assert not Digest(3, "123").matches(Digest(4, "123"))
    assert not Digest(3, "123", 1).matches(Digest(3, "123", 1))
    assert Digest(2, "5", 1).describe() == "2 documents, 1 undigestable"


def test_the_pipeline_reads_only_the_partition_and_never_writes() -> None:
    part = Partition("GameScore", 1, 3, "k1", "k2")
    pipeline = digest.digest_pipeline(part.filter())
    assert pipeline[0] == {"$match": {"_id": {"$gte": "k1", "$lt": "k2"}}}
    text = json.dumps(pipeline)
    assert "$toHashedIndexKey" in text and "$sortArray" in text
    assert not {"$out", "$merge", "$function", "$where", "$accumulator"} & {
        k for stage in pipeline for k in _keys(stage)}
    assert len(bson.encode({"p": pipeline})) < 200_000


def test_no_double_reaches_the_hash_raw() -> None:
    """A double is represented as ["double", k, long], ["double", "0"] or ["double", its name], never as
    itself (the hash folds doubles to truncated integers); doubles and decimals are not hashed as they are."""
    reps = _reps(digest.double_rep("$$v", 0))
    assert reps and all(r[0] == "double" and "$$v" not in r[1:] for r in reps)
    assert "double" not in digest.SAME and "decimal" not in digest.SAME


def _reps(value: Any) -> list[Any]:
    """Every non-null value of an "r" key (a representation) inside an expression."""
    if isinstance(value, dict):
        own = [value["r"]] if value.get("r") is not None else []
        return own + [r for v in value.values() for r in _reps(v)]
    return [r for v in value for r in _reps(v)] if isinstance(value, list) else []


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


def test_known_cases_are_distinct_documents_where_they_must_differ() -> None:
    for what, a, b, _ in KNOWN:
        assert bson.encode(a) != bson.encode(b), f"{what}: a known-answer case compares two different encodings"


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 1 + max((_depth(v) for v in value), default=0) if isinstance(value, list) else 0


def test_the_commands_nest_well_under_the_servers_bson_depth_limit() -> None:
    """MongoDB refuses command documents nested deeper than its maxBSONDepth (200; 180 for stored data)."""
    for pipeline in (digest.digest_pipeline({}), digest.known_answer_pipeline()):
        assert _depth({"aggregate": "C", "pipeline": pipeline, "cursor": {}}) <= 130


def _variables(value: Any) -> set[str]:
    """Names bound by $let and $map in an expression."""
    if isinstance(value, list):
        return {n for v in value for n in _variables(v)}
    if not isinstance(value, dict):
        return set()
    own = set(value["$let"]["vars"]) if "$let" in value else set()
    own |= {value["$map"]["as"]} if "$map" in value else set()
    return own | {n for v in value.values() for n in _variables(v)}


def test_variable_names_are_ones_a_real_server_accepts() -> None:
    """MongoDB wants user variables to start with a lower-case letter (the stand-in does not check)."""
    names = _variables(digest.known_answer_pipeline())
    assert {"pow2", "i10", "c10", "j1"} <= names
    assert all(re.fullmatch(r"[a-z][A-Za-z0-9_]*", n) for n in names), sorted(names)
