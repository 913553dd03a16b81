"""Writing a file another process may read at any moment (a plan, a shard's plan, the health window, a dead
component): the reader sees the old file or the whole new one, never a part."""
from __future__ import annotations

import os
import threading
from pathlib import Path


def write_atomically(path: Path, data: str | bytes) -> Path:
    """Write ``data`` (text as UTF-8) beside ``path`` under a name of this process and thread, then rename it over
    ``path`` (same directory, so same file system: the rename is atomic). Nothing is left behind on a failure."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        if isinstance(data, bytes):
            tmp.write_bytes(data)
        else:
            tmp.write_text(data, encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
