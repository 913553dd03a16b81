"""Under a live sync one process computes the data checks' facts ahead (docs/live-sync.md): the jobs, and the
order of the run (DB-01 last, so that its brackets are done by then)."""
from __future__ import annotations

import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from cutover.data.live_prefetch import Background
from cutover.memo import Memo
from cutover_pytest.live_prefetch import counts_last


def item(module: str, name: str) -> Any:
    return SimpleNamespace(path=Path(f"/x/{module}"), originalname=name, name=name)


def test_db01_runs_last_and_nothing_else_moves() -> None:
    items = [item("test_clients.py", "test_cli"), item("test_data.py", "test_row_count"),
             item("test_data.py", "test_row_count_table"), item("test_data.py", "test_content"),
             item("test_rest.py", "test_row_count")]
    counts_last(items)  # type: ignore[arg-type]
    assert [(i.path.name, i.name) for i in items] == [
        ("test_clients.py", "test_cli"), ("test_data.py", "test_content"), ("test_rest.py", "test_row_count"),
        ("test_data.py", "test_row_count"), ("test_data.py", "test_row_count_table")]


def test_a_fact_computed_ahead_is_the_checks_and_a_failed_one_is_computed_again() -> None:
    memo, calls, gate = Memo(), {"good": 0, "bad": 0}, threading.Event()

    def good() -> int:
        gate.wait(5)
        calls["good"] += 1
        return 42

    def bad() -> int:
        calls["bad"] += 1
        raise ValueError("server gone")
    ahead = Background([lambda: memo.get("good", good), lambda: memo.get("bad", bad)], threads=2)
    gate.set()
    for future in ahead.futures:
        future.result(timeout=5)          # the failure stayed in the background
    ahead.close()
    assert memo.get("good", good) == 42 and calls["good"] == 1
    try:
        memo.get("bad", bad)
    except ValueError as exc:            # the check computes it again and reports the error itself
        assert "server gone" in str(exc) and calls["bad"] == 2
    else:
        raise AssertionError("a failed fact was remembered")
