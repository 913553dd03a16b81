"""The live sandbox's parts without servers: the write mix, the journal, the schedule, settings and config."""
from __future__ import annotations

import collections
import itertools
import time
from pathlib import Path

import pytest

from cutover.errors import ConfigError, SandboxError
from cutover.model import SandboxLive
from cutover.run.config import load_target
from cutover.sandbox.live import LiveStatus, Spread, check_live, count_tolerance
from cutover.sandbox.live_journal import Entry, Journal
from cutover.sandbox.live_mix import Op, Workload
from cutover.sandbox.live_traffic import MAX_BEHIND_S, Pacer, Traffic

WITH_FILES = [f"file{i}" for i in range(30)]
FILELESS = [f"plain{i}" for i in range(20)]


def workload(**mix: float) -> Workload:
    ids = {"GameScore": WITH_FILES + FILELESS, "Player": [f"pl{i}" for i in range(10)],
           "Post": [f"po{i}" for i in range(10)], "_User": [f"u{i}" for i in range(5)]}
    return Workload(ids, FILELESS, SandboxLive(**mix))


def run(load: Workload, n: int) -> list[Op]:
    """n writes, each finished at once (an insert names a new object)."""
    done = []
    for k in range(n):
        op = load.next_op()
        assert op is not None
        load.finish(op, op.object_id or f"new{k}")
        done.append(op)
    return done


# -- the mix ---------------------------------------------------------------------------------------------
def test_shares_of_inserts_and_deletes_follow_the_settings() -> None:
    kinds = collections.Counter(op.kind for op in run(workload(insert_share=0.2, delete_share=0.1), 10_000))
    assert abs(kinds["insert"] / 10_000 - 0.2) < 0.015
    assert abs(kinds["delete"] / 10_000 - 0.1) < 0.015
    assert kinds["update"] == 10_000 - kinds["insert"] - kinds["delete"]


def test_updates_touch_every_class_and_only_existing_fields() -> None:
    ops = [op for op in run(workload(), 5000) if op.kind == "update"]
    assert {op.cls for op in ops} == {"GameScore", "Player", "Post", "_User"}
    fields = {(op.cls, name) for op in ops for name in op.body or {}}
    assert fields == {("GameScore", "score"), ("GameScore", "cheatMode"), ("GameScore", "tags"),
                      ("GameScore", "comment"), ("Player", "level"), ("Player", "country"),
                      ("Post", "published"), ("Post", "title"), ("_User", "emailVerified")}


def test_deletes_never_touch_an_object_that_references_files() -> None:
    deleted = {op.object_id for op in run(workload(delete_share=0.5, insert_share=0.0), 2000) if op.kind == "delete"}
    assert deleted == set(FILELESS)  # every fileless object, and nothing else, once the pool ran dry


def test_inserted_objects_can_be_updated_and_deleted_later() -> None:
    ops = run(workload(insert_share=0.3, delete_share=0.3), 3000)
    later = {op.object_id for op in ops if op.kind in ("update", "delete")}
    assert any(object_id.startswith("new") for object_id in later)


def test_inserts_carry_every_parse_type_and_an_acl() -> None:
    op = next(op for op in run(workload(insert_share=1.0), 1))
    body = op.body or {}
    assert (op.kind, op.cls, op.object_id) == ("insert", "GameScore", "")
    assert body["location"]["__type"] == "GeoPoint" and body["blob"]["__type"] == "Bytes"
    assert body["player"]["__type"] == "Pointer" and body["stats"]["lastMatch"]["__type"] == "Date"
    assert body["ACL"]["*"] == {"read": True}


def test_two_writes_never_run_on_one_object_at_once() -> None:
    load = workload(insert_share=0.0, delete_share=0.2)
    running = [load.next_op() for _ in range(60)]
    named = [op.object_id for op in running if op is not None]
    assert len(named) == len(set(named))
    for op in running:
        if op is not None:
            load.finish(op, op.object_id)
    assert not load.busy


def test_no_write_when_every_object_is_busy() -> None:
    load = Workload({"Player": ["only"]}, [], SandboxLive(insert_share=0.0, delete_share=0.0))
    first = load.next_op()
    assert first is not None and first.object_id == "only"
    assert load.next_op() is None


def test_a_failed_delete_takes_its_object_out_of_the_traffic() -> None:
    load = workload(insert_share=0.0, delete_share=1.0)
    op = load.next_op()
    assert op is not None and op.kind == "delete"
    load.finish(op, op.object_id)  # whether it happened or not, it is never written again
    assert op.object_id not in load.ids["GameScore"] and op.object_id not in load.deletable


# -- the journal -----------------------------------------------------------------------------------------
def test_journal_gives_what_is_due_in_order_and_counts_what_was_applied() -> None:
    journal = Journal()
    for k, at in enumerate((10.0, 11.0, 12.0)):
        journal.append(Entry("update", "Post", f"p{k}", at, at - 0.01, b"doc", latency_s=0.01 * (k + 1)))
    due = journal.due(cutoff=11.5, limit=10)
    assert [e.object_id for e in due] == ["p0", "p1"]
    assert journal.due(cutoff=11.5, limit=1) == due[:1]
    journal.applied(due, at=13.0)
    assert journal.pending() == (1, 12.0)
    assert journal.synced == 2 and all(e.doc is None for e in due)
    assert journal.lag_stats() == {"count": 2, "min_s": 2.0, "p50_s": 2.5, "p95_s": 3.0, "max_s": 3.0}
    assert journal.latency_stats() == {"count": 3, "min_s": 0.01, "p50_s": 0.02, "p95_s": 0.03, "max_s": 0.03}
    assert journal.next_due_in(lag=2.0, now=13.0) == pytest.approx(1.0)


def test_journal_lists_recent_entries_after_a_sequence_number_without_their_bytes() -> None:
    journal = Journal(keep=5)
    for k in range(8):
        journal.append(Entry("insert", "GameScore", f"g{k}", float(k), float(k), b"doc"))
    listed = journal.recent(since=4, limit=2)
    assert [e["seq"] for e in listed] == [5, 6] and "doc" not in listed[0]
    assert [e["seq"] for e in journal.recent(since=0, limit=100)] == [4, 5, 6, 7, 8]  # only `keep` kept
    assert journal.written == {"insert": 8, "GameScore": 8}


def test_journal_counts_lookups_apart() -> None:
    journal = Journal()
    journal.append(Entry("update", "Post", "p", 1.0, lookup=True))
    assert journal.written == {"update": 1, "Post": 1, "lookup": 1}
    assert journal.latency_stats()["count"] == 0  # a failed write has no latency to speak of


# -- the schedule ----------------------------------------------------------------------------------------
def test_schedule_spaces_writes_by_one_over_the_rate() -> None:
    pacer = Pacer(rate=50.0)
    slots = [pacer.next_due() for _ in range(5)]
    gaps = [b - a for a, b in itertools.pairwise(slots)]
    assert gaps == pytest.approx([0.02] * 4)


def test_schedule_restarts_after_a_stall_instead_of_bursting() -> None:
    pacer = Pacer(rate=100.0)
    pacer.next_due()
    time.sleep(MAX_BEHIND_S + 0.3)
    due = pacer.next_due()
    assert due >= time.monotonic() - 0.05  # now, not a second in the past
    assert pacer.missed >= 100


def test_a_stopped_traffic_claims_no_write_and_is_idle_once_the_last_one_ends() -> None:
    traffic = Traffic("http://127.0.0.1:1/parse", {}, None, workload(), Journal(), rate=10.0)
    assert traffic._claim() is None and traffic.idle()  # never started
    traffic.set_running(True)
    op = traffic._claim()
    assert op is not None and traffic.active == 1
    traffic.set_running(False)
    assert traffic._claim() is None and not traffic.idle()  # stopped, one write still under way
    traffic.active -= 1
    assert traffic.idle()


# -- settings, status, config ----------------------------------------------------------------------------
@pytest.mark.parametrize(("settings", "word"), [
    ({"rate": 0.0}, "rate"), ({"rate": float("inf")}, "rate"), ({"lag_s": -1.0}, "lag"),
    ({"insert_share": 0.7, "delete_share": 0.4}, "sum"), ({"delete_share": -0.1}, "delete_share"),
])
def test_settings_out_of_range_are_refused(settings: dict[str, float], word: str) -> None:
    with pytest.raises(SandboxError, match=word):
        check_live(SandboxLive(**settings))


def test_declared_count_tolerance_covers_the_inserts_and_deletes_in_flight() -> None:
    assert count_tolerance(SandboxLive(rate=100.0, lag_s=5.0, insert_share=0.1, delete_share=0.1)) == 400
    assert count_tolerance(SandboxLive(rate=1.0, lag_s=1.0)) == 10
    assert count_tolerance(SandboxLive(rate=10.0, lag_s=2.0)) == 12  # 4 x 10 x 2 x 0.15, not 12.000000000000002


def test_status_line_says_when_the_sync_is_paused() -> None:
    status = LiveStatus(True, False, 10.0, 2.0, 100, {"insert": 10}, 80, 20, 4.5, Spread(80, 2.0, 2.01, 2.1, 2.2),
                        Spread(100, 0.01, 0.02, 0.05, 0.3), 10.0, 10.0, 0, 0, "", 0, "", 12.0)
    line = status.line()
    assert "100 written (10.0/s of 10/s asked, write p95 0.050 s), 80 copied, 20 in flight, oldest 4.5 s" in line
    assert "sync PAUSED" in line


def test_a_sandbox_target_may_declare_live_mode(tmp_path: Path) -> None:
    path = tmp_path / "targets.toml"
    path.write_text('[targets.l]\nsandbox = { scale = 500, live = { rate = 20, lag_s = 3.5 } }\n')
    spec = load_target(path, "l")
    assert getattr(spec, "live", None) == SandboxLive(rate=20.0, lag_s=3.5)


def test_an_unknown_live_key_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "targets.toml"
    path.write_text('[targets.l]\nsandbox = { live = { rate = 20, lag = 3 } }\n')
    with pytest.raises(ConfigError, match=r"targets\.l\.sandbox\.live\.lag: unknown key; did you mean 'lag_s'"):
        load_target(path, "l")
