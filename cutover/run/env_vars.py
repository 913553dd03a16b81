"""``${VAR}`` references in a targets file, and the secrets written there literally.

Before a target is built, every reference of its table is looked up at once: a run stopped for a missing variable
names all of them, not the first of eight. A variable that is set but empty counts as missing (a CI secret that
does not exist is often handed over as an empty string). A secret written in the file itself (a master key, an
AWS secret, a password inside a URI) is accepted, with a warning that names the key and the ``${VAR}`` to use.
"""
from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from cutover.redact import uri_password

REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
SECRET_KEYS = frozenset({"master_key", "rest_key", "javascript_key", "file_key", "secret_access_key"})
URI_KEYS = frozenset({"uri", "gridfs_uri", "server_url", "public_url", "endpoint", "endpoint_url",
                      "source_endpoint_url", "base_url"})
SHOWN = 20   # variables named in one message, at most


def strings(value: Any, key: str) -> Iterator[tuple[str, str]]:
    """(dotted key, text) of every string in a raw TOML value, keys relative to ``key``."""
    if isinstance(value, str):
        yield key, value
    elif isinstance(value, dict):
        for sub, item in value.items():
            yield from strings(item, f"{key}.{sub}" if key else str(sub))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from strings(item, f"{key}[{i}]")


def unresolved(table: Mapping[str, Any], environ: Mapping[str, str]) -> tuple[str, str]:
    """("", "") when every ``${VAR}`` of the table is set and not empty, else (the key, when only one variable is
    missing; else ""), and one phrase naming every variable that is missing, each with the first key using it."""
    missing: dict[str, str] = {}
    empty: dict[str, str] = {}
    for key, text in strings(dict(table), ""):
        for var in REFERENCE.findall(text):
            if var not in environ:
                missing.setdefault(var, key)
            elif environ[var] == "":
                empty.setdefault(var, key)
    if not missing and not empty:
        return "", ""
    if len(missing) + len(empty) == 1:
        var, key = next(iter({**missing, **empty}.items()))
        state = "is not set" if var in missing else "is set but empty"
        return key, f"environment variable {var} {state}; export it or edit the file"
    parts = [part for part in (_listed(missing, "not set"), _listed(empty, "set but empty")) if part]
    return "", "; ".join(parts) + "; export them or edit the file"


def _listed(found: dict[str, str], state: str) -> str:
    if not found:
        return ""
    names = [f"{var} ({key})" for var, key in list(found.items())[:SHOWN]]
    more = f" and {len(found) - SHOWN} more" if len(found) > SHOWN else ""
    verb = "is" if len(found) == 1 else "are"
    noun = "variable" if len(found) == 1 else "variables"
    return f"{len(found)} environment {noun} {verb} {state}: {', '.join(names)}{more}"


def literal_secrets(table: Mapping[str, Any], name: str) -> list[str]:
    """A warning for each secret written literally in the target's table (never the secret itself)."""
    found = []
    for key, text in strings(dict(table), ""):
        field = key.rsplit(".", 1)[-1]
        if field in SECRET_KEYS and text and not REFERENCE.search(text):
            found.append(f"targets.{name}.{key}: a secret written in the file; write it as "
                         f"${{{_variable(name, key)}}} and export that variable")
        elif field in URI_KEYS and _literal_password(text):
            found.append(f"targets.{name}.{key}: the URI holds a password written in the file; write it as "
                         f"scheme://user:${{{_variable(name, key + '_password')}}}@host/... (percent-encoded) "
                         "and export that variable")
    return found


def _literal_password(uri: str) -> bool:
    password = uri_password(uri)
    return bool(password) and not REFERENCE.search(password)


def _variable(name: str, key: str) -> str:
    """A variable name for the value: PROD_PARSE_MASTER_KEY."""
    return re.sub(r"[^A-Za-z0-9]+", "_", f"{name}_{key}").strip("_").upper()
