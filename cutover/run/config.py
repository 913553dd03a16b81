"""Loading ``targets.toml``: ``${ENV}`` substitution and validation into the :mod:`cutover.model` shapes.

Every value is checked when the file is read, before any connection: its type, its range (the model's field
metadata: :mod:`cutover.ranges`), the URI rules (:mod:`cutover.run.uri_rules`) and the rules between values
(:mod:`cutover.run.target_rules`). Every problem becomes one :class:`ConfigError` line naming the file, the dotted
key, the rule and what was found; secret values (substituted variables, keys, URI passwords) are never echoed,
and every missing ``${VAR}`` of the target is named at once (:mod:`cutover.run.env_vars`).
"""
from __future__ import annotations

import dataclasses
import difflib
import math
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cutover import model
from cutover.errors import ConfigError
from cutover.ranges import range_of, within
from cutover.redact import cut, redact_text
from cutover.run import env_vars, target_rules, uri_rules
from cutover.run.env_vars import REFERENCE, SECRET_KEYS

_RENAMED = {"class": "cls"}  # TOML spelling -> model field
_SPELLED = {v: k for k, v in _RENAMED.items()}
_DERIVED = {"secrets"}       # model fields the loader fills, never keys of the file
_URI_FIELDS = {key: uri_rules.MONGO_SCHEMES if key in ("uri", "gridfs_uri") else uri_rules.HTTP_SCHEMES
               for key in env_vars.URI_KEYS}
MESSAGE_CAP = 1000           # a value read from the file may be anything: no message runs longer
KNOWN_SHOWN = 10             # targets named in an "unknown target" message, at most
_ENUMS: dict[tuple[str, ...], tuple[str, ...]] = {
    ("source", "kind"): ("mongodb", "rest", "export"),
    ("sandbox", "source_kind"): ("mongodb", "rest", "export"),
    ("sandbox", "files_store"): ("s3", "gcs"),
    ("sandbox", "source_parse_server"): ("9.10.0", "8.6.94"),   # the pinned versions (sandbox.node_env.PARSE_SERVERS)
    ("files", "adapter"): ("s3", "gridfs", "gcs"),
    ("files", "source_adapter"): ("s3", "gcs"),
    ("scans", "read_preference"): ("primary", "primaryPreferred", "secondary", "secondaryPreferred", "nearest"),
}
_OPTIONAL_ENUMS = frozenset({("scans", "read_preference"), ("files", "source_adapter")})   # "" means "not set"


@dataclass(frozen=True)
class SandboxSpec:
    """A target served by the embedded sandbox: the plugin starts it and builds the real Target."""

    name: str
    scale: int = field(default=3000, metadata=within(1, 10_000_000))
    production: bool = False
    live: model.SandboxLive | None = None  # live mode: app traffic on the source, a lagged sync to the target
    source_kind: str = "mongodb"           # rest: the source Parse Server's API; export: a JSON export written from it
    files_store: str = "s3"                # gcs: the target Parse Server stores files in GCS (two emulators)
    source_parse_server: str = "9.10.0"    # 8.6.94: the source runs the older major, the target 9.10.0 (skew)
    # a multi-tenant app: this many small classes besides the seeded app's (Tenant0001 ... Tenant9999)
    classes: int = field(default=0, metadata=within(0, 9999))


# Built-in targets: served by the embedded sandbox, they need no targets file. A file's target of the same name
# takes precedence.
BUILTIN_TARGETS: dict[str, SandboxSpec] = {
    "demo": SandboxSpec("demo"),
    "demo-live": SandboxSpec("demo-live", live=model.SandboxLive()),  # app traffic and a lagged sync
    "demo-rest": SandboxSpec("demo-rest", source_kind="rest"),  # the source read through its Parse REST API
    "demo-export": SandboxSpec("demo-export", source_kind="export"),  # a Parse JSON export written from it
    "demo-gcs": SandboxSpec("demo-gcs", files_store="gcs"),   # the target Parse Server stores files in GCS
    # version skew: the source on parse-server 8.6.94 (the older major), the target on 9.10.0 (docs/versions.md)
    "demo-skew": SandboxSpec("demo-skew", source_parse_server="8.6.94"),
    "demo-skew-rest": SandboxSpec("demo-skew-rest", source_kind="rest", source_parse_server="8.6.94"),
}


def load_target(path: Path, name: str, environ: Mapping[str, str] | None = None,
                required: bool = True, warnings: list[str] | None = None) -> model.Target | SandboxSpec:
    """The target ``name`` from the TOML file at ``path`` (or a built-in one), validated; ConfigError on any
    problem. With ``required=False`` a missing file holds no targets (the default ``./targets.toml``).
    ``warnings`` receives a line for each secret the file holds literally."""
    try:
        return _load_target(path, name, os.environ if environ is None else environ, required,
                            [] if warnings is None else warnings)
    except ConfigError as exc:
        raise ConfigError(_one_line(str(exc))) from None


def _load_target(path: Path, name: str, environ: Mapping[str, str], required: bool,
                 warnings: list[str]) -> model.Target | SandboxSpec:
    targets = read_targets(path) if required or path.exists() else {}
    if name not in targets and name in BUILTIN_TARGETS:
        return BUILTIN_TARGETS[name]
    if name not in targets:
        raise ConfigError(unknown_target(path, name, targets, required or path.exists()))
    unsafe = target_rules.target_name(name)
    if unsafe:
        raise ConfigError(f"{path}: {unsafe}")
    raw = targets[name]
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: targets.{name}: expected a table, got {_kind(raw)}")
    if "sandbox" in raw:
        return _sandbox_spec(path, name, raw)
    key, missing = env_vars.unresolved(raw, environ)
    if missing:
        raise ConfigError(f"{path}: targets.{name}.{key}: {missing}" if key else f"{path}: targets.{name}: {missing}")
    target = build_target(path, name, raw, environ)
    warnings.extend(f"{path}: {line}" for line in env_vars.literal_secrets(raw, name))
    return target


def unknown_target(path: Path, name: str, targets: Mapping[str, Any], exists: bool) -> str:
    """The message for a target the file does not hold: a few of those it holds, and the closest name."""
    names = sorted(targets)
    known = ", ".join(names[:KNOWN_SHOWN]) or "none"
    if len(names) > KNOWN_SHOWN:
        known += f", ... ({len(names):,} in all)"
    near = [n for n in names if abs(len(n) - len(name)) <= 3][:5000]
    close = difflib.get_close_matches(name, near + sorted(BUILTIN_TARGETS), n=1)
    where = "" if exists else " (no such file: pass --targets-file PATH)"
    return (f"{path}: unknown target '{cut(name)}'{f'; did you mean {close[0]!r}?' if close else ''}; known targets: "
            f"{known}{where}; built-in targets: {', '.join(sorted(BUILTIN_TARGETS))}")


def read_targets(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: targets file not found; pass --targets-file PATH or create it") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start}); save the file as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: malformed TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror}") from None
    unknown = set(data) - {"targets"}
    if unknown:
        raise ConfigError(f"{path}: unknown top-level key '{sorted(unknown)[0]}'; expected only [targets.NAME]")
    targets = data.get("targets", {})
    if not isinstance(targets, dict):
        raise ConfigError(f"{path}: targets: expected tables [targets.NAME], got {_kind(targets)}")
    return targets


def _sandbox_spec(path: Path, name: str, raw: dict[str, Any]) -> SandboxSpec:
    extra = set(raw) - {"sandbox", "production"}
    if isinstance(raw["sandbox"], dict) and "name" in raw["sandbox"]:
        extra.add("sandbox.name")
    if extra:
        raise ConfigError(f"{path}: targets.{name}.{sorted(extra)[0]}: a sandbox target takes only "
                          "'sandbox' (a table with 'scale', 'classes', 'live', 'source_kind', 'files_store' and "
                          "'source_parse_server') and 'production'")
    box = raw["sandbox"]
    if box is True:
        box = {}
    if not isinstance(box, dict):
        raise ConfigError(f"{path}: targets.{name}.sandbox: expected true or a table, got {_kind(box)}")
    spec = _convert(path, f"targets.{name}.sandbox", SandboxSpec, {"name": name, **box}, {}, [])
    if spec.live is not None and spec.live.insert_share + spec.live.delete_share > 1:
        raise ConfigError(f"{path}: targets.{name}.sandbox.live: insert_share + delete_share is "
                          f"{spec.live.insert_share + spec.live.delete_share:g}, more than 1 (they are shares "
                          "of the same writes)")
    return dataclasses.replace(spec, production=_convert(
        path, f"targets.{name}.production", bool, raw.get("production", False), {}, []))


def build_target(path: Path, name: str, raw: dict[str, Any], environ: Mapping[str, str]) -> model.Target:
    """Validate one raw target table (as read from TOML) into a :class:`model.Target`."""
    secrets: list[str] = []
    try:
        return _build_target(path, name, raw, environ, secrets)
    except ConfigError as exc:  # an echoed value may be a substituted secret: mask what was read so far
        raise ConfigError(redact_text(str(exc), secrets)) from None


def _build_target(path: Path, name: str, raw: dict[str, Any], environ: Mapping[str, str],
                  secrets: list[str]) -> model.Target:
    if "name" in raw:
        raise ConfigError(f"{path}: targets.{name}.name: unknown key; the target's name is its table name")
    target = _convert(path, f"targets.{name}", model.Target, {"name": name, **raw}, environ, secrets)
    for problem in target_rules.problems(target):
        raise ConfigError(f"{path}: targets.{name}.{problem}")
    return dataclasses.replace(target, secrets=tuple(sorted(set(s for s in secrets if s))))


def _convert(path: Path, key: str, typ: Any, value: Any, environ: Mapping[str, str], secrets: list[str]) -> Any:
    origin = typing.get_origin(typ)
    if origin in (types.UnionType, typing.Union):
        inner = [t for t in typing.get_args(typ) if t is not type(None)]
        return None if value is None else _convert(path, key, inner[0], value, environ, secrets)
    if dataclasses.is_dataclass(typ):
        return _dataclass(path, key, typ, value, environ, secrets)
    if origin is tuple:
        if not isinstance(value, list):
            raise ConfigError(f"{path}: {key}: expected an array of tables, got {_kind(value)}")
        item = typing.get_args(typ)[0]
        return tuple(_convert(path, f"{key}[{i}]", item, v, environ, secrets) for i, v in enumerate(value))
    if origin is dict or typ is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: {key}: expected a table, got {_kind(value)}")
        item_type = (typing.get_args(typ) or (str, Any))[1]
        return {k: _item(path, f"{key}.{k}", item_type, v, environ, secrets) for k, v in value.items()}
    return _scalar(path, key, typ, value, environ, secrets)


def _item(path: Path, key: str, typ: Any, value: Any, environ: Mapping[str, str], secrets: list[str]) -> Any:
    """A value of a free-form table (regions, severity, where, ...): substituted, type-checked unless Any."""
    value = _substitute(path, key, value, environ, secrets)
    if typ is not Any and (not isinstance(value, typ) or isinstance(value, bool) is not (typ is bool)):
        raise ConfigError(f"{path}: {key}: expected {_name(typ)}, got {_kind(value)}")
    return value


def _dataclass(path: Path, key: str, cls: Any, value: Any, environ: Mapping[str, str], secrets: list[str]) -> Any:
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: {key}: expected a table, got {_kind(value)}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name not in _DERIVED}
    names = set(fields)
    kwargs: dict[str, Any] = {}
    for raw_key, raw_value in value.items():
        field_name = _RENAMED.get(raw_key, raw_key)
        if field_name not in names or raw_key in _RENAMED.values():
            spelled = {_SPELLED.get(n, n) for n in names}
            raise ConfigError(f"{path}: {key}.{raw_key}: unknown key{_suggest(raw_key, spelled)}")
        sub = f"{key}.{raw_key}"
        kwargs[field_name] = _convert(path, sub, hints[field_name], raw_value, environ, secrets)
        if raw_key in SECRET_KEYS and isinstance(kwargs[field_name], str):
            secrets.append(kwargs[field_name])
        _check_value(path, sub, fields[field_name], kwargs[field_name])
    missing = [f.name for f in fields.values() if f.name not in kwargs
               and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if missing:
        raise ConfigError(f"{path}: {key}.{missing[0]}: required key is missing")
    return cls(**kwargs)


def _check_value(path: Path, key: str, spec: dataclasses.Field[Any], value: Any) -> None:
    """The field's own rules: its range; a required string may not be empty."""
    bounds = range_of(spec.metadata)
    if bounds is not None and isinstance(value, int | float) and not bounds.holds(value):
        shown = f"{value:,}" if isinstance(value, int) else f"{value:g}"
        raise ConfigError(f"{path}: {key}: expected {bounds.expected(isinstance(value, int))}, got {shown}")
    required = spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING
    if required and value == "":
        raise ConfigError(f"{path}: {key}: empty; a value is required")


def _scalar(path: Path, key: str, typ: Any, value: Any, environ: Mapping[str, str], secrets: list[str]) -> Any:
    value = _substitute(path, key, value, environ, secrets)
    if typ is Any:
        return value
    if typ is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value) if abs(value) < 2 ** 63 else math.inf
    if typ is float and isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{path}: {key}: expected a finite number, got {value}")
    if not isinstance(value, typ) or (typ is int and isinstance(value, bool)):
        raise ConfigError(f"{path}: {key}: expected {_name(typ)}, got {_kind(value)}")
    field_name = key.rsplit(".", 1)[-1]
    if isinstance(value, str):
        _check_enum(path, key, value)
        if field_name in _URI_FIELDS:
            secrets.extend(uri_rules.passwords(value))
            problem = uri_rules.problem(value, _URI_FIELDS[field_name]) if value else ""
            if problem:
                raise ConfigError(f"{path}: {key}: {problem}")
    return value


def _substitute(path: Path, key: str, value: Any, environ: Mapping[str, str], secrets: list[str]) -> Any:
    if isinstance(value, dict):
        return {k: _substitute(path, f"{key}.{k}", v, environ, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(path, f"{key}[{i}]", v, environ, secrets) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    def repl(match: Any) -> str:
        var = match.group(1)
        if var not in environ:
            raise ConfigError(f"{path}: {key}: environment variable {var} is not set; export it or edit the file")
        secrets.append(environ[var])
        return str(environ[var])

    return REFERENCE.sub(repl, value)


def _check_enum(path: Path, key: str, value: str) -> None:
    parts = tuple(key.split(".")[-2:])
    allowed = _ENUMS.get(parts)
    if allowed and value not in allowed and not (value == "" and parts in _OPTIONAL_ENUMS):
        raise ConfigError(f"{path}: {key}: expected one of {', '.join(allowed)}, got {cut(value)!r}")


def _one_line(message: str) -> str:
    """Control characters (a quoted TOML key may hold a newline) escaped, so the error stays one line; cut at
    ``MESSAGE_CAP`` characters (a key of the file may be of any length)."""
    line = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in message)
    return line if len(line) <= MESSAGE_CAP else line[:MESSAGE_CAP - 1] + "…"


def _suggest(word: str, names: set[str]) -> str:
    close = difflib.get_close_matches(word, sorted(names), n=1)
    return f"; did you mean '{close[0]}'?" if close else f"; known keys: {', '.join(sorted(names))}"


def _kind(value: Any) -> str:
    return {dict: "a table", list: "an array", str: "a string", bool: "a boolean", int: "an integer",
            float: "a number"}.get(type(value), type(value).__name__)


def _name(typ: Any) -> str:
    return {str: "a string", bool: "true or false", int: "an integer", float: "a number"}.get(typ, str(typ))
