"""``cutover init [NAME]``: a commented targets file for a new target, written from the target model.

Every table and key comes from :mod:`cutover.model` (the shapes :mod:`cutover.run.config` validates against),
with its default; :mod:`cutover.run.init_notes` adds one line per key. What a target must declare is written
as settings: the source and target database URIs, as ``${VAR}`` placeholders. Every other key of a table that
is on is a commented line at its default ("#key = value": remove the "#" to change it). The optional tables
([parse], [source_parse], [files], [[queries]], [[cloud_functions]]) are commented blocks: removing the "#" of
every line of a block turns it on, with the defaults written out and ``${VAR}`` placeholders for its secrets.
Unit tests load the file with every line turned on (every key valid) and check that every table
``docs/targets.md`` documents is in it.
"""
from __future__ import annotations

import dataclasses
import re
import textwrap
import typing
from pathlib import Path
from typing import Any

from cutover import model
from cutover.errors import ConfigError
from cutover.run.config import _ENUMS, _SPELLED
from cutover.run.config_dump import toml_key, toml_value
from cutover.run.init_notes import NOTES, TABLES
from cutover.run.target_rules import PROBE_SIDE_EFFECTS

OFF_TABLES = frozenset({"parse", "source_parse", "files", "queries", "cloud_functions"})   # commented blocks
ACTIVE = frozenset({"source.kind", "source.uri", "database.uri"})
PLACEHOLDERS = {"source.uri": "SOURCE_MONGODB_URI", "database.uri": "TARGET_MONGODB_URI",
                "source.master_key": "SOURCE_MASTER_KEY", "parse.app_id": "PARSE_APP_ID",
                "parse.master_key": "PARSE_MASTER_KEY", "source_parse.app_id": "SOURCE_PARSE_APP_ID",
                "source_parse.master_key": "SOURCE_PARSE_MASTER_KEY"}
EXAMPLES: dict[str, Any] = {"parse.server_url": "https://parse.example.com/parse",
                            "source_parse.server_url": "https://legacy.example.com/parse",
                            "files.bucket": "my-app-files", "queries.class": "GameScore",
                            "cloud_functions.name": "hello", "cloud_functions.expect_result": "Hello world!"}
FREE_FORM = {"regions": {"app_server": "aws:us-east-1", "database": "aws:us-east-1",
                         "file_store": "aws:us-east-1", "clients": "internet"},
             "severity": {"FILE-04": "minor"}}
ENUMS = {**{".".join(k): v for k, v in _ENUMS.items()}, ".probe_side_effects": PROBE_SIDE_EFFECTS}
NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
COLUMN = 40
WIDTH = 118

HEAD = """\
# cutover targets file for '{name}', written by `cutover init`. Check it with `pytest --target {name}`.
# One [targets.NAME] table per deployment; `cutover init OTHER -o -` prints another to append.
#
# ${{VAR}} is replaced by the environment variable VAR when a run starts, anywhere inside a string value
# ("mongodb://${{USER}}:${{PW}}@host/app" works); a variable that is not set stops the run (exit 4), and the
# values are masked in every output. Use it for every secret and every URI that holds a password. Values are
# used as they are: a password inside a URI must be percent-encoded (@ -> %40, : -> %3A, / -> %2F, % -> %25).
#
# "#key = value" lines are defaults: remove the "#" to change one. A block whose header is commented
# ("#[targets.{name}.parse]") is off: remove the first "#" of each of its lines to turn it on.
# Every key is documented in docs/targets.md.
"""


def check_name(name: str) -> None:
    """ConfigError unless ``name`` can be a bare TOML key and a directory name."""
    if not NAME.match(name):
        raise ConfigError(f"cutover init: target name {name!r}: use 1-64 letters, digits, '-' or '_'")


def env_prefix(name: str) -> str:
    """The prefix of the target's environment variables: STAGING_ for 'staging'."""
    return re.sub(r"[^A-Za-z0-9]", "_", name).upper() + "_"


def render(name: str) -> str:
    """The targets file of a new target ``name``."""
    check_name(name)
    hints = typing.get_type_hints(model.Target)
    lines = [HEAD.format(name=name), *_table(name, "", model.Target, name)]
    for field in dataclasses.fields(model.Target):
        inner = _inner(hints[field.name])
        if dataclasses.is_dataclass(inner):
            lines += ["", *_table(name, field.name, inner, name, array=_is_array(hints[field.name]))]
        elif field.name in FREE_FORM:
            lines += ["", *_free_form(name, field.name)]
    return "\n".join(lines) + "\n"


def _table(name: str, table: str, cls: Any, target: str, array: bool = False) -> list[str]:
    off = table in OFF_TABLES
    lines = _comment(TABLES[table]) if table else []
    path = f"targets.{name}" + (f".{table}" if table else "")
    header = f"[[{path}]]" if array else f"[{path}]"
    lines.append(("#" if off else "") + header)
    for field in dataclasses.fields(cls):
        if field.name in ("name", "secrets") and cls in (model.Target,):
            continue
        if dataclasses.is_dataclass(_inner(typing.get_type_hints(cls)[field.name])) or (
                cls is model.Target and field.name in FREE_FORM):
            continue
        lines.append(_setting(table, field, off, target))
    return lines


def _setting(table: str, field: dataclasses.Field[Any], off: bool, target: str) -> str:
    key = _SPELLED.get(field.name, field.name)
    dotted = f"{table}.{key}"
    value = _value(dotted, field, target)
    on = dotted in ACTIVE and not off
    text = f"{'' if on else '#'}{key} = {value}"
    note = NOTES[f"{'parse' if table == 'source_parse' else table}.{key}"]
    if dotted in ENUMS:
        note += f" ({' | '.join(ENUMS[dotted])})"
    line = f"{text:<{COLUMN}} # {note}"
    return line if len(line) <= WIDTH else "\n".join([*_comment(note, "##" if off else "#"), text])


def _value(dotted: str, field: dataclasses.Field[Any], target: str) -> str:
    if dotted in PLACEHOLDERS:
        return toml_value(f"${{{env_prefix(target)}{PLACEHOLDERS[dotted]}}}")
    if dotted in EXAMPLES:
        return toml_value(EXAMPLES[dotted])
    if field.default is not dataclasses.MISSING:
        return toml_value(field.default)
    return toml_value(typing.cast(Any, field.default_factory)())


def _free_form(name: str, table: str) -> list[str]:
    lines = [*_comment(TABLES[table]), f"[targets.{name}.{table}]"]
    return lines + [f"#{toml_key(k)} = {toml_value(v)}" for k, v in FREE_FORM[table].items()]


def _comment(text: str, mark: str = "#") -> list[str]:
    """Prose as comment lines; "##" inside a commented block, so that uncommenting the block keeps it prose."""
    return [f"{mark} {line}" for line in textwrap.wrap(text, WIDTH - len(mark) - 1)]


def _inner(typ: Any) -> Any:
    """The dataclass behind ``X | None`` or ``tuple[X, ...]``, else the type itself."""
    args = [t for t in typing.get_args(typ) if t is not type(None) and t is not Ellipsis]
    return args[0] if typing.get_origin(typ) is not dict and len(args) == 1 else typ


def _is_array(typ: Any) -> bool:
    return typing.get_origin(typ) is tuple


def write(name: str, path: Path, force: bool = False) -> None:
    """Write the file; ConfigError (one line) when it exists and ``force`` is not given, or cannot be written."""
    text = render(name)
    if path.is_dir():
        raise ConfigError(f"{path}: is a directory; name the file to write: -o {path / 'targets.toml'}")
    if path.exists() and not force:
        raise ConfigError(f"{path}: exists; cutover init never overwrites a file: pass --force to replace it, "
                          f"or -o - to print the new target and add it yourself")
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be written: {exc.strerror}") from None


def next_steps(name: str, path: str) -> str:
    """What to do after ``cutover init``: the three edits, the suite's own user, the first run."""
    env = env_prefix(name)
    return "\n".join([
        f"Next, for target '{name}' ({path}):",
        f"  1. export {env}SOURCE_MONGODB_URI='mongodb://cutover:PASSWORD@old-host:27017/legacy?authSource=admin'",
        f"  2. export {env}TARGET_MONGODB_URI='mongodb+srv://cutover:PASSWORD@cluster0.example.net/app'",
        "     (a password holding @ : / or % is percent-encoded: @ -> %40, : -> %3A, / -> %2F, % -> %25)",
        f"  3. turn on [targets.{name}.parse] and [targets.{name}.files] (remove the first '#' of each of their",
        f"     lines), set their values and export {env}PARSE_APP_ID and {env}PARSE_MASTER_KEY: without them the",
        "     REST and files criteria are not run, so the gate cannot pass",
        "  4. give the suite its own read-only database users (below; `cutover roles` prints them again)",
        f"  5. pytest --target {name}   (the preflight says which components answer and which rights are missing;",
        "     set production = true for a production target)",
    ])
