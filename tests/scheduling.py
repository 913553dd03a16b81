"""The order in which the suite's modules go to the xdist workers (``./dev test`` runs ``--dist loadfile
--no-loadscope-reorder``).

Plain ``--dist load`` hands a module's tests to both workers, so every module-scoped server (mongoeco, moto,
parse-server, TLS front) started twice. ``loadfile`` runs a module on one worker, which starts its servers
once, and hands modules out in collection order: the costly directories come first, so the cheap unit tests
fill the tail instead of a long module starting last. (``loadgroup`` would keep cheap modules spreading test by
test, but xdist 3.8 cannot rename node ids under pytest 9, so its groups are silently ignored.)
"""
from __future__ import annotations

from pathlib import Path

import pytest

ORDER = ("package", "scenarios", "sandbox", "plugin", "unit")  # costliest first


def tier(item: pytest.Item) -> int:
    parts = Path(item.path).parts
    return next((i for i, name in enumerate(ORDER) if name in parts), len(ORDER))


def schedule(items: list[pytest.Item]) -> None:
    """Put the costly directories first; the order inside a directory stays (the sort is stable)."""
    items.sort(key=tier)
