"""Writing a Target back as a targets file, secrets as ``${ENV}`` references (sandbox and scenario tests)."""
from __future__ import annotations

import dataclasses
import json
from typing import Any

from cutover.model import Target
from cutover.run.config import SECRET_KEYS

_TABLES = ("source", "database", "parse", "source_parse", "files", "thresholds", "scans")
_ARRAYS = {"queries": {"cls": "class"}, "cloud_functions": {}}


def dump_target(target: Target, env_prefix: str = "CUTOVER_SECRET") -> tuple[str, dict[str, str]]:
    """TOML text for ``[targets.<name>]`` and the environment that its ``${...}`` references need."""
    env: dict[str, str] = {}
    name = target.name
    lines = [f"[targets.{toml_key(name)}]"]
    lines += _pairs({k: getattr(target, k) for k in ("app_source_dir", "production", "probe_class", "probe_grace_s",
                                                      "probe_side_effects", "allow_blocking_commands")})
    for table in ("regions", "severity"):
        if getattr(target, table):
            lines += ["", f"[targets.{toml_key(name)}.{table}]", *_pairs(getattr(target, table))]
    for table in _TABLES:
        value = getattr(target, table)
        if value is None:
            continue
        fields = _secretize(dataclasses.asdict(value), f"{env_prefix}_{table.upper()}", env)
        lines += ["", f"[targets.{toml_key(name)}.{table}]", *_pairs(fields)]
    for array, renames in _ARRAYS.items():
        for item in getattr(target, array):
            fields = {renames.get(k, k): v for k, v in dataclasses.asdict(item).items()}
            lines += ["", f"[[targets.{toml_key(name)}.{array}]]", *_pairs(fields)]
    return "\n".join(lines) + "\n", env


def _secretize(fields: dict[str, Any], prefix: str, env: dict[str, str]) -> dict[str, Any]:
    out = dict(fields)
    for key, value in fields.items():
        if key in SECRET_KEYS and isinstance(value, str) and value:
            var = f"{prefix}_{key.upper()}"
            env[var] = value
            out[key] = "${" + var + "}"
    return out


def _pairs(fields: dict[str, Any]) -> list[str]:
    return [f"{toml_key(k)} = {toml_value(v)}" for k, v in fields.items() if v is not None]


def toml_key(key: str) -> str:
    """A TOML key: bare when it can be, else quoted."""
    return key if key.replace("_", "").replace("-", "").isalnum() and key.isascii() else json.dumps(key)


def toml_value(value: Any) -> str:
    """``value`` written as TOML (``None`` values of a table are left out)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{toml_key(str(k))} = {toml_value(v)}" for k, v in value.items() if v is not None) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")
