"""docs/targets.md documents every key of targets.toml: the test walks the model's dataclasses
(cutover/model.py, and the sandbox target's SandboxSpec) and fails on a key without a row, or a row without a key.
"""
from __future__ import annotations

import dataclasses
import re
import types
import typing
from pathlib import Path
from typing import Any

from cutover import model
from cutover.ranges import range_of
from cutover.run.config import _SPELLED, SandboxSpec

DOC = Path(__file__).resolve().parents[2] / "docs" / "targets.md"
INTERNAL = {"secrets"}    # what config collects for redaction: not a key
NAMED = (model.Target, SandboxSpec)   # their `name` is the table's name, not a key


def sections(text: str) -> dict[str, set[str]]:
    """table ("targets.NAME.files") -> the keys of its rows."""
    found: dict[str, set[str]] = {}
    current = ""
    for line in text.splitlines():
        heading = re.match(r"^## \[\[?(targets\.NAME[\w.]*)\]\]?$", line)
        if heading:
            current = heading.group(1)
            found[current] = set()
        elif line.startswith("## "):   # a section that documents no table (the suite's own database user)
            current = ""
        elif current and (row := re.match(r"^\| `([\w]+)` \|", line)):
            found[current].add(row.group(1))
    return found


def _inner(typ: Any) -> Any:
    """The dataclass behind ``X | None`` or ``tuple[X, ...]``, else the type itself."""
    if typing.get_origin(typ) in (types.UnionType, typing.Union):
        typ = next(t for t in typing.get_args(typ) if t is not type(None))
    if typing.get_origin(typ) is tuple:
        typ = typing.get_args(typ)[0]
    return typ


def expected(cls: Any = model.Target, table: str = "targets.NAME") -> dict[str, set[str]]:
    """table -> keys, from the model: a field holding a dataclass is a table of its own."""
    hints = typing.get_type_hints(cls)
    internal = INTERNAL | ({"name"} if cls in NAMED else set())
    keys = {_SPELLED.get(f.name, f.name) for f in dataclasses.fields(cls) if f.name not in internal}
    tables = {table: keys}
    for field in dataclasses.fields(cls):
        inner = _inner(hints[field.name])
        if dataclasses.is_dataclass(inner) and field.name != "source_parse":   # documented with [parse]
            tables.update(expected(inner, f"{table}.{field.name}"))
    return tables


def wanted() -> dict[str, set[str]]:
    tables = expected()
    tables["targets.NAME"] |= {"sandbox", "production"}
    sandbox = expected(SandboxSpec, "targets.NAME.sandbox")
    sandbox["targets.NAME.sandbox"] -= {"production"}   # documented with [targets.NAME]
    tables.update(sandbox)
    return tables


def test_every_key_of_the_model_is_documented_and_every_documented_key_exists() -> None:
    documented = sections(DOC.read_text(encoding="utf-8"))
    for table, keys in wanted().items():
        assert table in documented, f"docs/targets.md: no section '## [{table}]'"
        assert not keys - documented[table], f"[{table}] keys not documented: {sorted(keys - documented[table])}"
        assert not documented[table] - keys, f"[{table}] documents unknown keys: {sorted(documented[table] - keys)}"


def rows(text: str) -> dict[tuple[str, str], str]:
    """(table, key) -> the row's type cell."""
    found: dict[tuple[str, str], str] = {}
    current = ""
    for line in text.splitlines():
        heading = re.match(r"^## \[\[?(targets\.NAME[\w.]*)\]\]?$", line)
        if heading:
            current = heading.group(1)
        elif current and (row := re.match(r"^\| `([\w]+)` \| ([^|]*) \|", line)):
            found[(current, row.group(1))] = row.group(2)
    return found


def ranged(cls: Any = model.Target, table: str = "targets.NAME") -> dict[tuple[str, str], str]:
    """(table, key) -> the interval of every number of the model, as the loader checks it."""
    hints = typing.get_type_hints(cls)
    found = {(table, f.name): bounds.interval for f in dataclasses.fields(cls)
             if (bounds := range_of(f.metadata)) is not None}
    for field in dataclasses.fields(cls):
        inner = _inner(hints[field.name])
        if dataclasses.is_dataclass(inner) and field.name != "source_parse":
            found.update(ranged(inner, f"{table}.{field.name}"))
    return found


def test_every_number_s_row_states_the_range_the_loader_checks() -> None:
    documented = rows(DOC.read_text(encoding="utf-8"))
    expected = {**ranged(), **ranged(SandboxSpec, "targets.NAME.sandbox")}
    assert len(expected) > 30
    wrong = {key: (interval, documented.get(key)) for key, interval in expected.items()
             if interval not in documented.get(key, "")}
    assert wrong == {}, "docs/targets.md: rows without the interval the loader checks"


def test_free_form_tables_and_the_source_parse_table_are_described() -> None:
    text = DOC.read_text(encoding="utf-8")
    for table in ("regions", "severity"):
        assert f"## [targets.NAME.{table}]" in text
    assert "The same keys describe `[targets.NAME.source_parse]`" in text
    assert model.Target.__dataclass_fields__["source_parse"].type == model.Target.__dataclass_fields__["parse"].type


def test_the_walk_sees_nested_tables_and_toml_spellings() -> None:
    tables = wanted()
    assert "class" in tables["targets.NAME.queries"] and "cls" not in tables["targets.NAME.queries"]
    assert "timeout_s" in tables["targets.NAME.thresholds"] and "uri" in tables["targets.NAME.database"]
    assert "scale" in tables["targets.NAME.sandbox"]
