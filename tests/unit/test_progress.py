"""Progress lines (cutover.run.progress): one line per interval whatever the breadth, with the checks done of the
whole, the time left, and the criteria under way (checks done, documents per second)."""
from __future__ import annotations

from cutover.run.progress import Progress, Tracker, duration


def test_a_line_says_checks_done_time_left_and_the_criteria_under_way() -> None:
    progress = Progress(every_s=10, trackers={"DB-02": Tracker(40, 100.0), "DB-01": Tracker(3, 100.0)}, total=44)
    for _ in range(10):
        progress.finish("DB-02", docs=5_000)
    progress.finish("DB-07")
    assert progress.line(now=110.0, started=100.0) == "11/44 checks done, about 30s left; DB-02 10/40, 5,000 docs/s"
    for _ in range(30):
        progress.finish("DB-02")
    progress.finish("DB-01")
    assert progress.line(now=150.0, started=100.0) == "42/44 checks done, about 2s left; DB-01 1/3"   # DB-02 done


def test_at_breadth_there_is_one_line_per_interval_not_one_per_check() -> None:
    classes = 1000
    per_class = ("DB-01", "DB-02", "DB-03", "DB-04", "API-03")
    progress = Progress(every_s=30, trackers={c: Tracker(classes, 0.0) for c in per_class},
                        total=classes * len(per_class))
    lines, ticks = [], 0
    for cid in per_class:
        for _ in range(classes):
            ticks += 1
            now = ticks / 10     # a check every 0.1 s
            progress.finish(cid, docs=100)
            if progress.due(now):
                lines.append(progress.line(now, started=0.0))
    assert len(lines) == int(now // 30)       # 500 s of checks: 16 lines for 5,000 checks
    assert all(line.count("checks done") == 1 and line.count(";") <= 2 for line in lines), lines
    assert lines[-1].startswith("4,800/5,000 checks done, about 20s left; API-03 800/1,000, ")


def test_lines_come_at_most_once_per_interval_and_never_when_off() -> None:
    progress = Progress(every_s=30, trackers={"DB-02": Tracker(4, 0.0)}, total=7)
    progress.finish("DB-02", 10)
    assert not progress.due(29.0)
    assert progress.due(30.0) and progress.line(30.0, 0.0) == "1/7 checks done, about 3m00s left; DB-02 1/4, 0 docs/s"
    assert not progress.due(45.0)
    assert not Progress(every_s=0).due(1e9)


def test_durations_read_as_a_person_says_them() -> None:
    assert [duration(s) for s in (4.4, 185, 7800)] == ["4s", "3m05s", "2h10m"]
