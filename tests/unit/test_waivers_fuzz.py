"""Hypothesis: any waivers file either loads or fails with one ConfigError line, never another exception."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cutover.errors import ConfigError
from cutover.run.waivers import Waiver, load_waivers

KEYS = st.sampled_from(["criterion", "test", "target", "justification", "expires", "author", "expiry", "why"])
SCALARS = (st.sampled_from(["DB-06", "DB-01", "FILE-04", "API-05", "XX-99", ""]) | st.text(max_size=30)
           | st.integers(min_value=-10**20, max_value=10**20) | st.booleans() | st.floats(allow_nan=False)
           | st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2200, 1, 1)))
ENTRIES = st.dictionaries(KEYS, SCALARS | st.lists(SCALARS, max_size=3), max_size=7)


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return "[" + ", ".join(_toml(v) for v in value) + "]"


def _file(entries: list[dict[str, Any]]) -> str:
    return "\n".join("[[waivers]]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in e.items()) for e in entries)


def _outcome(path: Path) -> None:
    try:
        waivers = load_waivers(path, "prod")
    except ConfigError as exc:
        assert str(exc) and "\n" not in str(exc), repr(str(exc))
    else:
        assert all(isinstance(w, Waiver) for w in waivers)


@settings(max_examples=200, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entries=st.lists(ENTRIES, max_size=3))
def test_random_waiver_tables_load_or_fail_in_one_line(tmp_path_factory: pytest.TempPathFactory,
                                                       entries: list[dict[str, Any]]) -> None:
    path = tmp_path_factory.mktemp("waivers") / "waivers.toml"
    path.write_text(_file(entries), encoding="utf-8")
    _outcome(path)


@settings(max_examples=200, derandomize=True, deadline=None)
@given(data=st.binary(max_size=200) | st.text(max_size=120).map(str.encode))
def test_random_bytes_load_or_fail_in_one_line(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    path = tmp_path_factory.mktemp("wbytes") / "waivers.toml"
    path.write_bytes(b"[[waivers]]\n" + data)
    _outcome(path)
