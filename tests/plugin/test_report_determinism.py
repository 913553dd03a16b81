"""Same data, same report: two runs of the same checks, one of them under xdist with workers finishing out of
order, give the same report.html, record.json and remediation files once volatile fields are normalised
(times, durations, run id). What the runs have in common is the data; only scheduling and the clock differ."""
from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from cutover.run.remediation import natural
from tests.inner_runs import UNUSED_PLUGINS
from tests.plugin.test_charts import TARGETS

CHECKS = '''
import time
import pytest

@pytest.mark.criterion("DB-01")
@pytest.mark.parametrize("n", range(12))
def test_counts(n, record_facts):
    time.sleep((12 - n) * 0.04)     # later ids finish first: arrival order is not id order under xdist
    record_facts(cls=f"Class{n}", source=10, target=10 - n % 2, difference=-(n % 2))
    assert n % 2 == 0, f"Class{n}: target holds 9 documents, source 10 (difference -1)"

@pytest.mark.criterion("DB-03")
def test_indexes(record_facts):
    record_facts(collection="GameScore", database="app", missing=["score_-1 {score: -1}"], different=[],
                 extra=[], specs={"missing": [{"name": "score_-1", "key": [["score", -1]], "options": {}}],
                 "different": []}, parse_required_missing=[], schema_metadata=[])
    assert False, "GameScore: missing on target: ['score_-1 {score: -1}']"
'''
CI_VARIABLES = {"CI_JOB_ID": "4242", "BUILD_NUMBER": "77"}   # pytest-metadata copies these from each worker
VOLATILE = ("started_utc", "finished_utc", "run_id")


def _run(tmp_path: Path, reports: str, *args: str) -> Path:
    subprocess.run([sys.executable, "-m", "pytest", "test_checks.py", "--target", "t", "-p", "no:cacheprovider",
                    "-p", "no:randomly", *UNUSED_PLUGINS, "--reports-dir", reports, "-q", *args], cwd=tmp_path,
                   capture_output=True, timeout=300, check=False, env={**os.environ, **CI_VARIABLES})
    return next((tmp_path / reports / "t").glob("*/report.html")).parent


def _page(run_dir: Path) -> str:
    text = (run_dir / "report.html").read_text().replace(run_dir.name, "RUN")
    text = re.sub(r"Report generated on [^<]*", "", text)
    text = re.sub(r"tests took [0-9:.]+", "", text)
    return re.sub(r"&quot;\d+ ms&quot;|\d+ ms|\d\d:\d\d:\d\d", "D", text)


def _record(run_dir: Path) -> Any:
    record = json.loads((run_dir / "record.json").read_text())
    for key in VOLATILE:
        record.pop(key)
    return _timeless(record)


def _timeless(value: Any) -> Any:
    """Without timings: a test's duration, how long a preflight probe took."""
    if isinstance(value, dict):
        return {k: _timeless(v) for k, v in value.items() if k not in ("duration", "seconds")}
    return [_timeless(v) for v in value] if isinstance(value, list) else value


def _rows(page: str) -> list[str]:
    blob = re.search(r'data-jsonblob="([^"]*)"', page)
    assert blob, "pytest-html's data blob is missing"
    return list(json.loads(html.unescape(blob.group(1)))["tests"])


def test_two_runs_on_the_same_data_give_the_same_report(tmp_path: Path) -> None:
    (tmp_path / "test_checks.py").write_text(CHECKS)
    (tmp_path / "targets.toml").write_text(TARGETS)
    one = _run(tmp_path, "one")
    two = _run(tmp_path, "two", "-n", "2")
    rows = _rows(_page(two))
    assert rows == sorted(rows, key=natural) and rows[:2] == [rows[0], rows[0].replace("[0]", "[1]")]
    assert not [name for name in CI_VARIABLES if name in _page(two)], "CI variables leaked into the report"
    assert _page(one) == _page(two), "report.html differs beyond times and the run id"
    assert _record(one) == _record(two), "record.json differs beyond times and the run id"
    fixes = sorted(p.relative_to(one) for p in (one / "remediation").iterdir())
    assert [str(p) for p in fixes] == ["remediation/DB-03-create-indexes.js"]
    assert all((one / p).read_bytes() == (two / p).read_bytes() for p in fixes)
