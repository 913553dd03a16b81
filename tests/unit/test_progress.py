"""Progress lines (cutover.run.progress): checks done of the total, documents per second, time left, and at
most one batch every interval."""
from __future__ import annotations

from cutover.run.progress import Progress, Tracker, duration


def test_a_line_says_checks_done_rate_and_time_left() -> None:
    tracker = Tracker(total=40, started=100.0)
    for _ in range(10):
        tracker.finish(docs=5_000)
    assert tracker.line("DB-02", now=110.0) == "DB-02: 10/40 checks done, 5,000 docs/s, about 30s left"
    for _ in range(30):
        tracker.finish()
    assert tracker.line("DB-02", now=150.0).endswith("40/40 checks done, 1,000 docs/s")   # nothing left: no ETA


def test_lines_come_at_most_once_per_interval_and_never_when_off() -> None:
    progress = Progress(every_s=30, trackers={"DB-02": Tracker(4, 0.0), "DB-01": Tracker(3, 0.0)}, last=0.0)
    progress.trackers["DB-02"].finish(10)
    assert not progress.due(29.0)
    assert progress.due(30.0) and progress.lines(30.0) == ["DB-02: 1/4 checks done, 0 docs/s, about 1m30s left"]
    assert not progress.due(45.0)
    assert not Progress(every_s=0).due(1e9)


def test_durations_read_as_a_person_says_them() -> None:
    assert [duration(s) for s in (4.4, 185, 7800)] == ["4s", "3m05s", "2h10m"]
