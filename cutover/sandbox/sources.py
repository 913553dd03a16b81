"""The source a sandbox target declares: its source database (default), its source Parse Server's REST API, or a
Parse JSON export written from that API into the run directory."""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from cutover.data import RestReader
from cutover.errors import SandboxError
from cutover.model import Source, Target


def with_source(sandbox: Any, target: Target, kind: str) -> Target:
    """``target`` with the source of ``kind``: mongodb (the source database) or rest (the source Parse Server,
    read with the master key: the same server the sandbox seeded, so both kinds describe the same data)."""
    if kind == "mongodb":
        return target
    assert target.source_parse is not None
    parse = target.source_parse
    rest = Source(kind="rest", endpoint=parse.server_url, app_id=parse.app_id, master_key=parse.master_key)
    if kind == "rest":
        return dataclasses.replace(target, source=rest)
    if kind == "export":
        return dataclasses.replace(target, source=Source(kind="export", export_dir=str(export_dir(sandbox, rest))))
    raise SandboxError(f"a sandbox target's source is mongodb, rest or export, not {kind!r}")


def export_dir(sandbox: Any, rest: Source) -> Path:
    """The sandbox's export (written once, from the source Parse Server): ``<run dir>/export``."""
    from cutover.sandbox.export import write_export

    directory = Path(sandbox.run_dir) / "export"
    if not (directory / "_SCHEMA.json").exists():
        write_export(RestReader(rest.endpoint, rest.app_id, rest.master_key, timeout=30.0), directory)
    return directory
