"""The source a sandbox target declares: its source database (default) or its source Parse Server's REST API."""
from __future__ import annotations

import dataclasses
from typing import Any

from cutover.errors import SandboxError
from cutover.model import Source, Target


def with_source(sandbox: Any, target: Target, kind: str) -> Target:
    """``target`` with the source of ``kind``: mongodb (the source database) or rest (the source Parse Server,
    read with the master key: the same server the sandbox seeded, so both kinds describe the same data)."""
    if kind == "mongodb":
        return target
    if kind == "rest":
        assert target.source_parse is not None
        parse = target.source_parse
        return dataclasses.replace(target, source=Source(kind="rest", endpoint=parse.server_url, app_id=parse.app_id,
                                                         master_key=parse.master_key))
    raise SandboxError(f"a sandbox target's source is mongodb or rest, not {kind!r}")
