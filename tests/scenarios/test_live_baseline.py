"""Issue 14: the data checks on a clean migration under live traffic do not cry wolf.

A sandbox of its own (live mode must not touch the shared scenario sandbox) runs app traffic on the source and
a sync copying every write to the target a few seconds later; nothing else differs. The data checks run on it
(``live_sync = true``, ``sync_lag_s`` declared by the sandbox). Before the rechecks (the baseline in
docs/live-sandbox.md) DB-02 reported objects in flight on every run. Now every DB-01/DB-02 test must pass, and
the run is proven clean: once the sync is drained both sides are equal byte for byte. A failure names what was
reported and whether the traffic wrote it (an object it never wrote would be a real difference, not in flight).
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bson.raw_bson import RawBSONDocument

from cutover.sandbox.cache_dir import default_cache_dir
from cutover.sandbox.migrate import collection_infos, raw
from cutover.sandbox.stack import Sandbox

REPO = Path(__file__).resolve().parents[2]
SCALE = int(os.environ.get("CUTOVER_SCENARIO_SCALE", "600"))
RATE, LAG = 20.0, 3.0  # about 60 writes in flight at any moment


@pytest.fixture(scope="module")
def live_box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    box = Sandbox(tmp_path_factory.mktemp("live-baseline"), scale=SCALE, cache_dir=default_cache_dir())
    with box:
        box.live(rate=RATE, lag_s=LAG)
        yield box


def differing_collections(box: Sandbox) -> list[str]:
    src, dst = box.db(box.ep.source_uri), box.db(box.ep.target_uri)
    names = [str(info["name"]) for info in collection_infos(src)]
    return [name for name in names if _docs(src[name]) != _docs(dst[name])]


def _docs(coll: Any) -> dict[Any, bytes]:
    return {d["_id"]: bytes(d.raw) for d in raw(coll).find() if isinstance(d, RawBSONDocument)}


def reported(test: dict[str, Any]) -> set[str]:
    facts = test.get("facts", {})
    ids = set(facts.get("missingOnTarget", [])) | set(facts.get("extraOnTarget", []))
    return ids | {item["_id"] for item in facts.get("content", [])}


def test_a_clean_migration_under_live_traffic_passes_the_data_checks(
        live_box: Sandbox, run_checks: Any) -> None:
    control = live_box.live_control
    assert control is not None
    result = run_checks(live_box.target("live"), only=("test_data.py",))
    touched = {op.object_id for op in control.ops(0, limit=10**6)}
    status = control.drain(timeout_s=120)
    assert status.traffic_errors == status.sync_errors == 0, (status.traffic_last_error, status.sync_last_error)
    assert not differing_collections(live_box), "the sync lost a write: the baseline proves nothing"
    alarms = [t for t in result.record["tests"] if t["criterion"] in ("DB-01", "DB-02")
              and t["outcome"] not in ("passed", "skipped")]
    for test in alarms:
        strangers = reported(test) - touched
        assert not strangers, f"{test['label']} reports objects the traffic never wrote: {sorted(strangers)[:5]}"
    labels = "; ".join(f"{t['label']} ({len(reported(t))} objects in flight): {t.get('message', '')[:300]}"
                       for t in alarms)
    assert not alarms, f"{len(alarms)} false alarms on a clean live migration: {labels}"
    synced = [t["facts"]["sync"] for t in result.record["tests"] if "sync" in t.get("facts", {})]
    assert any(s["arrived_while_rechecked"] for s in synced), "no recheck saw a document arrive: not exercised"
