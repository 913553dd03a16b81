"""Under a live sync, one process that runs the whole selection starts the data checks' facts ahead
(:mod:`cutover.data.live_prefetch`): their settle delays overlap instead of adding up. Under pytest-xdist a
worker does not know which checks it will get, so each check computes its own facts as before. DB-01's tests
run last in that process: by then their brackets are done."""
from __future__ import annotations

from typing import Any

import pytest

from cutover.session import Session

CONTENT = "test_content"
COUNTS = ("test_row_count", "test_row_count_table")
WATCH = "test_live_sync_delivers"


def start(session: Session, items: list[pytest.Item]) -> None:
    """Ask ``session.data`` for the DB-01 brackets, DB-06 sync watch and DB-02 verdicts the selected ``items``
    will need."""
    if not session.target.database.live_sync:
        return
    data_items = [item for item in items if item.path.name == "test_data.py"]
    units = [_param(item, "unit") for item in data_items if _name(item) == CONTENT]
    brackets = any(_counts(item) for item in data_items)
    watch = any(_name(item) == WATCH and item.path.name == "test_health.py" for item in items)
    session.data.prefetch_live([unit for unit in units if unit is not None], brackets, watch)
    if brackets:
        counts_last(items)


def counts_last(items: list[pytest.Item]) -> None:
    """Run DB-01's tests last (in place): their brackets wait a settle delay or two between a class's source
    and target counts, in the background meanwhile (the HTML report lists its rows in node-id order anyway)."""
    counts = [item for item in items if _counts(item)]
    items[:] = [item for item in items if item not in counts] + counts


def _counts(item: pytest.Item) -> bool:
    """A DB-01 test of the data checks (``test_rest.py`` has a ``test_row_count`` of its own: API-03)."""
    return item.path.name == "test_data.py" and _name(item) in COUNTS


def _name(item: pytest.Item) -> str:
    return str(getattr(item, "originalname", item.name))


def _param(item: pytest.Item, name: str) -> Any:
    callspec = getattr(item, "callspec", None)
    return callspec.params.get(name) if callspec is not None else None
