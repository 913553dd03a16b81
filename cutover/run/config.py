"""Loading ``targets.toml``: ``${ENV}`` substitution and validation into the :mod:`cutover.model` shapes.

Every problem becomes one :class:`ConfigError` line naming the file, the dotted key and what is expected;
secret values (substituted variables, keys, URI passwords) are never echoed.
"""
from __future__ import annotations

import dataclasses
import difflib
import math
import os
import re
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cutover import model
from cutover.errors import ConfigError
from cutover.redact import redact_text, uri_password
from cutover.run.criteria import CRITERIA, SEVERITIES

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
SECRET_KEYS = frozenset({"master_key", "rest_key", "javascript_key", "file_key", "secret_access_key"})
_RENAMED = {"class": "cls"}  # TOML spelling -> model field
_SPELLED = {v: k for k, v in _RENAMED.items()}
_MONGO_SCHEMES = ("mongodb", "mongodb+srv")
_HTTP_SCHEMES = ("http", "https")
_URI_FIELDS = {
    "uri": _MONGO_SCHEMES, "gridfs_uri": _MONGO_SCHEMES, "server_url": _HTTP_SCHEMES,
    "public_url": _HTTP_SCHEMES, "endpoint": _HTTP_SCHEMES, "endpoint_url": _HTTP_SCHEMES,
    "source_endpoint_url": _HTTP_SCHEMES, "base_url": _HTTP_SCHEMES,
}
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
PROBE_SIDE_EFFECTS = ("undo", "report")


@dataclass(frozen=True)
class SandboxSpec:
    """A target served by the embedded sandbox: the plugin starts it and builds the real Target."""

    name: str
    scale: int = 3000
    production: bool = False
    live: model.SandboxLive | None = None  # live mode: app traffic on the source, a lagged sync to the target
    source_kind: str = "mongodb"           # rest: the source Parse Server's API; export: a JSON export written from it
    files_store: str = "s3"                # gcs: the target Parse Server stores files in GCS (two emulators)
    source_parse_server: str = "9.10.0"    # 8.6.94: the source runs the older major, the target 9.10.0 (skew)


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
                required: bool = True) -> model.Target | SandboxSpec:
    """The target ``name`` from the TOML file at ``path`` (or a built-in one), validated; ConfigError on any
    problem. With ``required=False`` a missing file holds no targets (the default ``./targets.toml``)."""
    try:
        return _load_target(path, name, environ, required)
    except ConfigError as exc:
        raise ConfigError(_one_line(str(exc))) from None


def _load_target(path: Path, name: str, environ: Mapping[str, str] | None,
                 required: bool) -> model.Target | SandboxSpec:
    targets = read_targets(path) if required or path.exists() else {}
    if name not in targets and name in BUILTIN_TARGETS:
        return BUILTIN_TARGETS[name]
    if name not in targets:
        known = ", ".join(sorted(targets)) or "none"
        where = "" if required or path.exists() else " (no such file: pass --targets-file PATH)"
        raise ConfigError(f"{path}: unknown target '{name}'; known targets: {known}{where}; "
                          f"built-in targets: {', '.join(sorted(BUILTIN_TARGETS))}")
    raw = targets[name]
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: targets.{name}: expected a table, got {_kind(raw)}")
    if "sandbox" in raw:
        return _sandbox_spec(path, name, raw)
    return build_target(path, name, raw, os.environ if environ is None else environ)


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
                          "'sandbox' (a table with 'scale', 'live', 'source_kind', 'files_store' and "
                          "'source_parse_server') and 'production'")
    box = raw["sandbox"]
    if box is True:
        box = {}
    if not isinstance(box, dict):
        raise ConfigError(f"{path}: targets.{name}.sandbox: expected true or a table, got {_kind(box)}")
    spec = _convert(path, f"targets.{name}.sandbox", SandboxSpec, {"name": name, **box}, {}, [])
    if spec.scale < 1:
        raise ConfigError(f"{path}: targets.{name}.sandbox.scale: expected a positive integer, "
                          f"got {spec.scale}")
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
    for sev_key, sev in target.severity.items():
        if sev_key not in CRITERIA:
            raise ConfigError(f"{path}: targets.{name}.severity.{sev_key}: unknown criterion"
                              f"{_suggest(sev_key, set(CRITERIA))}")
        if sev not in SEVERITIES:
            raise ConfigError(f"{path}: targets.{name}.severity.{sev_key}: expected one of "
                              f"{', '.join(SEVERITIES)}, got '{sev}'")
    if target.source.kind == "mongodb" and not target.source.uri:
        raise ConfigError(f"{path}: targets.{name}.source.uri: required when source.kind is 'mongodb'")
    if target.source.kind == "rest" and not target.source.endpoint:
        raise ConfigError(f"{path}: targets.{name}.source.endpoint: required when source.kind is 'rest'")
    if target.source.kind == "export":
        _check_export(path, name, target.source)
    _check_health_window(path, name, target.thresholds)
    for key, number in (("max_docs_per_s", target.scans.max_docs_per_s),
                        ("aggregation_timeout_s", target.scans.aggregation_timeout_s)):
        if number < 0:
            raise ConfigError(f"{path}: targets.{name}.scans.{key}: expected 0 (no limit) or more, got {number}")
    if target.probe_side_effects not in PROBE_SIDE_EFFECTS:
        raise ConfigError(f"{path}: targets.{name}.probe_side_effects: expected one of "
                          f"{', '.join(PROBE_SIDE_EFFECTS)}, got '{target.probe_side_effects}'")
    if target.probe_grace_s < 0:
        raise ConfigError(f"{path}: targets.{name}.probe_grace_s: expected seconds >= 0, got {target.probe_grace_s:g}")
    for key, uri in (("database.uri", target.database.uri), ("source.uri", target.source.uri)):
        if uri and not urlsplit(uri).path.strip("/"):
            raise ConfigError(f"{path}: targets.{name}.{key}: name the database in the URI path "
                              "(mongodb://host/DBNAME)")
    return dataclasses.replace(target, secrets=tuple(sorted(set(s for s in secrets if s))))


def _check_export(path: Path, name: str, source: model.Source) -> None:
    key = f"{path}: targets.{name}.source"
    if bool(source.export_dir) == bool(source.export_file):
        raise ConfigError(f"{key}: source.kind is 'export': set export_dir (the unpacked export's folder) or "
                          "export_file (the export's .zip), exactly one of them")
    if source.export_file and not source.export_file.lower().endswith(".zip"):
        raise ConfigError(f"{key}.export_file: expected the export's .zip file, got '{source.export_file}'; "
                          "for an unpacked export set export_dir to its folder")


def _check_health_window(path: Path, name: str, limits: model.Thresholds) -> None:
    key = f"{path}: targets.{name}.thresholds"
    if limits.health_window_s <= 0 or limits.health_interval_s <= 0:
        raise ConfigError(f"{key}: health_window_s and health_interval_s must be positive numbers of seconds")
    if limits.health_interval_s > limits.health_window_s:
        raise ConfigError(f"{key}.health_interval_s: {limits.health_interval_s:g} s is longer than health_window_s "
                          f"({limits.health_window_s:g} s); the window needs at least two samples")
    if not 0 < limits.cpu_max_percent <= 100:
        raise ConfigError(f"{key}.cpu_max_percent: expected a percentage above 0 and at most 100, "
                          f"got {limits.cpu_max_percent:g}")


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
    names = {f.name for f in dataclasses.fields(cls) if f.name != "secrets"}
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
    missing = [f.name for f in dataclasses.fields(cls)
               if f.name in names and f.name not in kwargs
               and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if missing:
        raise ConfigError(f"{path}: {key}.{missing[0]}: required key is missing")
    return cls(**kwargs)


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
        if value and field_name in _URI_FIELDS:
            _check_uri(path, key, value, _URI_FIELDS[field_name], secrets)
    return value


def _substitute(path: Path, key: str, value: Any, environ: Mapping[str, str], secrets: list[str]) -> Any:
    if isinstance(value, dict):
        return {k: _substitute(path, f"{key}.{k}", v, environ, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(path, f"{key}[{i}]", v, environ, secrets) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    def repl(match: re.Match[str]) -> str:
        var = match.group(1)
        if var not in environ:
            raise ConfigError(f"{path}: {key}: environment variable {var} is not set; export it or edit the file")
        secrets.append(environ[var])
        return environ[var]

    return _ENV.sub(repl, value)


def _check_enum(path: Path, key: str, value: str) -> None:
    parts = tuple(key.split(".")[-2:])
    allowed = _ENUMS.get(parts)
    if allowed and value not in allowed and not (value == "" and parts in _OPTIONAL_ENUMS):
        raise ConfigError(f"{path}: {key}: expected one of {', '.join(allowed)}, got '{value}'")


def _check_uri(path: Path, key: str, value: str, schemes: tuple[str, ...], secrets: list[str]) -> None:
    password = uri_password(value)
    if password:
        secrets.append(password)
    expected = f"expected a {' or '.join(s + '://' for s in schemes)} URI with a host"
    try:
        parts = urlsplit(value)
        hosts = parts.netloc.rpartition("@")[2].split(",") if parts.scheme in _MONGO_SCHEMES else [parts.netloc]
        for host in filter(None, hosts):  # a replica-set seed list names several host[:port]
            urlsplit(f"{parts.scheme}://{host}").port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise ConfigError(f"{path}: {key}: {expected} and a valid port, got a malformed host or port") from None
    if parts.scheme not in schemes or not parts.hostname or not all(hosts):
        has_scheme = parts.scheme and "://" in value
        shown = f"'{parts.scheme}://…'" if has_scheme else "a value without a scheme and host"
        raise ConfigError(f"{path}: {key}: {expected}, got {shown}")


def _one_line(message: str) -> str:
    """Control characters (a quoted TOML key may hold a newline) escaped, so the error stays one line."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in message)


def _suggest(word: str, names: set[str]) -> str:
    close = difflib.get_close_matches(word, sorted(names), n=1)
    return f"; did you mean '{close[0]}'?" if close else f"; known keys: {', '.join(sorted(names))}"


def _kind(value: Any) -> str:
    return {dict: "a table", list: "an array", str: "a string", bool: "a boolean", int: "an integer",
            float: "a number"}.get(type(value), type(value).__name__)


def _name(typ: Any) -> str:
    return {str: "a string", bool: "true or false", int: "an integer", float: "a number"}.get(typ, str(typ))
