"""Run history of a target: changes since the previous run, and index.html newest first with links."""
from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest

from cutover.run.check_record import CheckRecord
from cutover.run.history import changes, load_records, previous_record, run_order, write_index


def entry(label: str, outcome: str) -> dict[str, Any]:
    return {"id": f"checks/x.py::{label}", "label": label, "outcome": outcome}


def record(label: str, outcome: str) -> CheckRecord:
    """A test of the current run, as the plugin records it."""
    return CheckRecord(f"checks/x.py::{label}", label, label.split("[")[0], "blocker", outcome=outcome)


def save(target_dir: Path, run_id: str, verdict: str = "GATE: PASS", **extra: Any) -> Path:
    run = target_dir / run_id
    run.mkdir(parents=True)
    record = {"run_id": run_id, "started_utc": f"{run_id[:4]}-{run_id[4:6]}-{run_id[6:8]}T00:00:00Z",
              "verdict": verdict, "counts": {"passed": 3}, "tests": [], **extra}
    (run / "record.json").write_text(json.dumps(record), encoding="utf-8")
    return run


# -- changes -----------------------------------------------------------------------------------------------

def test_a_first_run_has_no_changes() -> None:
    assert changes(None, [record("DB-01[A]", "failed")]) == {
        "previous_run": None, "newly_failing": [], "newly_passing": []}


def test_newly_failing_and_newly_passing_since_the_previous_run() -> None:
    before = {"run_id": "r1", "tests": [entry("DB-01[A]", "passed"), entry("DB-01[B]", "failed"),
                                        entry("DB-02", "error"), entry("DB-03", "failed"), entry("DB-04", "skipped"),
                                        entry("DB-06", "passed")]}
    now = [record("DB-01[A]", "failed"), record("DB-01[B]", "passed"), record("DB-02", "passed"),
           record("DB-03", "error"), record("DB-04", "error"), record("DB-05", "failed"), record("DB-06", "passed")]
    assert changes(before, now) == {
        "previous_run": "r1",
        "newly_failing": ["DB-01[A]", "DB-04", "DB-05"],   # DB-03 failed before and errors now: not new
        "newly_passing": ["DB-01[B]", "DB-02"],
    }


def test_a_test_gone_from_the_run_is_neither_failing_nor_passing() -> None:
    before = {"run_id": "r1", "tests": [entry("DB-01[Gone]", "failed")]}
    assert changes(before, [record("DB-01[A]", "passed")])["newly_passing"] == []


def test_skipped_now_is_not_newly_passing() -> None:
    before = {"run_id": "r1", "tests": [entry("DB-01[A]", "failed")]}
    assert changes(before, [record("DB-01[A]", "skipped")]) == {
        "previous_run": "r1", "newly_failing": [], "newly_passing": []}


# -- records, order, previous run --------------------------------------------------------------------------

def test_records_newest_first_skipping_unreadable_ones(tmp_path: Path) -> None:
    for run_id in ("20260101T000000Z", "20260103T000000Z", "20260102T000000Z"):
        save(tmp_path, run_id)
    for broken, content in (("20260104T000000Z", "{not json"), ("20260105T000000Z", "[1, 2]")):
        (tmp_path / broken).mkdir()
        (tmp_path / broken / "record.json").write_text(content, encoding="utf-8")
    (tmp_path / "20260106T000000Z").mkdir()   # a run still going: no record yet
    assert [r["_dir"] for r in load_records(tmp_path)] == ["20260103T000000Z", "20260102T000000Z",
                                                          "20260101T000000Z"]


def test_runs_of_the_same_second_sort_by_number_not_text() -> None:
    ids = ["20260101T000000Z-10", "20260101T000000Z", "20260101T000000Z-2", "20260101T000001Z",
           "20260101T000000Z-9"]
    assert sorted(ids, key=run_order) == ["20260101T000000Z", "20260101T000000Z-2", "20260101T000000Z-9",
                                          "20260101T000000Z-10", "20260101T000001Z"]


def test_previous_record_is_the_newest_older_run(tmp_path: Path) -> None:
    for run_id in ("20260101T000000Z", "20260101T000000Z-2", "20260101T000000Z-10", "20260102T000000Z"):
        save(tmp_path, run_id)
    assert previous_record(tmp_path, "20260101T000000Z") is None
    assert previous_record(tmp_path, "20260101T000000Z-2")["run_id"] == "20260101T000000Z"  # type: ignore[index]
    assert previous_record(tmp_path, "20260101T000000Z-10")["run_id"] == "20260101T000000Z-2"  # type: ignore[index]
    assert previous_record(tmp_path, "20260102T000000Z")["run_id"] == "20260101T000000Z-10"  # type: ignore[index]
    assert previous_record(tmp_path, "20260109T000000Z")["run_id"] == "20260102T000000Z"  # type: ignore[index]


def test_no_previous_record_in_an_empty_or_missing_directory(tmp_path: Path) -> None:
    assert previous_record(tmp_path, "20260101T000000Z") is None
    assert previous_record(tmp_path / "nothing", "20260101T000000Z") is None


# -- index.html --------------------------------------------------------------------------------------------

def rows(index: Path) -> list[list[str]]:
    """Table rows of index.html as cell lists, the link target first."""
    page = index.read_text(encoding="utf-8")
    found = []
    for row in re.findall(r"<tr>(.*?)</tr>", page, re.S)[1:]:   # [0] is the header
        link = re.search(r'href="([^"]+)"', row)
        cells = [html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<td\b[^>]*>(.*?)</td>", row, re.S)]
        found.append([link.group(1) if link else "", *cells])
    return found


def test_index_lists_every_run_newest_first_with_date_verdict_counts_and_link(tmp_path: Path) -> None:
    target_dir = tmp_path / "prod"
    save(target_dir, "20260101T000000Z", counts={"passed": 5, "failed": 1})
    save(target_dir, "20260103T000000Z", "GATE: FAIL - 2 blockers, 1 major",
         counts={"failed": 3, "passed": 2, "error": 1})
    save(target_dir, "20260102T000000Z", "GATE: PASS (1 waived)")
    save(target_dir, "20260104T000000Z", "GATE: PARTIAL PASS (4/25 criteria)", partial=True)
    index = write_index(target_dir)
    assert index == target_dir / "index.html"
    assert rows(index) == [
        ["20260104T000000Z/report.html", "20260104T000000Z", "2026-01-04T00:00:00Z",
         "GATE: PARTIAL PASS (4/25 criteria)", "partial: true", "3 passed"],
        ["20260103T000000Z/report.html", "20260103T000000Z", "2026-01-03T00:00:00Z",
         "GATE: FAIL - 2 blockers, 1 major", "", "1 error, 3 failed, 2 passed"],
        ["20260102T000000Z/report.html", "20260102T000000Z", "2026-01-02T00:00:00Z", "GATE: PASS (1 waived)",
         "", "3 passed"],
        ["20260101T000000Z/report.html", "20260101T000000Z", "2026-01-01T00:00:00Z", "GATE: PASS", "",
         "1 failed, 5 passed"],
    ]
    page = index.read_text(encoding="utf-8")
    assert "<title>cutover runs: prod</title>" in page


def test_index_colours_verdicts(tmp_path: Path) -> None:
    save(tmp_path, "20260101T000000Z", "GATE: PASS")
    save(tmp_path, "20260102T000000Z", "GATE: FAIL - 1 major")
    save(tmp_path, "20260103T000000Z", "GATE: INCOMPLETE - not verified: API-02")
    save(tmp_path, "20260104T000000Z", "GATE: NOT RUN (interrupted)")
    page = write_index(tmp_path).read_text(encoding="utf-8")
    assert re.search(r'color:#cf222e"><b>GATE: FAIL - 1 major</b>', page)
    assert re.search(r'color:#1a7f37"><b>GATE: PASS</b>', page)
    assert re.search(r'color:#9a6700"><b>GATE: INCOMPLETE - not verified: API-02</b>', page)
    assert re.search(r'color:#cf222e"><b>GATE: NOT RUN \(interrupted\)</b>', page)


@pytest.mark.parametrize("verdict", ['<script>alert("x")</script>', "GATE: FAIL & <b>"])
def test_index_escapes_what_it_shows(tmp_path: Path, verdict: str) -> None:
    save(tmp_path, "20260101T000000Z", verdict)
    page = write_index(tmp_path).read_text(encoding="utf-8")
    assert verdict not in page and html.escape(verdict) in page
    assert rows(tmp_path / "index.html")[0][3] == verdict


def test_index_of_a_target_without_runs_is_an_empty_table(tmp_path: Path) -> None:
    assert rows(write_index(tmp_path)) == []
