"""Sampled series in the reports: an inline SVG chart beside the verdict in the HTML, the points in the record."""
from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from cutover_pytest.charts import sparkline

SVG = "{http://www.w3.org/2000/svg}"
QUEUE = {"figure": "lock queue <globalLock>", "unit": "operations", "limit": 0,
         "points": [[0.0, 0], [5.0, 25], [10.0, 3], [15.0, 0]]}


def svg_of(chart: str) -> ET.Element:
    return ET.fromstring(re.search(r"<svg.*</svg>", chart, re.S).group(0))  # type: ignore[union-attr]


def test_the_chart_draws_the_series_the_limit_and_the_peak() -> None:
    svg = svg_of(sparkline(QUEUE))
    line = svg.find(f"{SVG}polyline")
    assert line is not None and len(line.get("points", "").split()) == 4
    limit = svg.find(f"{SVG}line")
    assert limit is not None and limit.get("stroke-dasharray")
    peak = svg.find(f"{SVG}circle")
    assert peak is not None and peak.get("fill") == "#cf222e", "a peak over the limit is drawn red"
    assert float(peak.get("cy", "0")) < float(limit.get("y1", "0")), "the peak is drawn above the limit line"


def test_the_caption_names_figure_peak_and_limit_escaped() -> None:
    chart = sparkline(QUEUE)
    assert "lock queue &lt;globalLock&gt;: max 25 operations (limit 0 operations)" in chart
    assert "<globalLock>" not in chart


def test_a_series_within_its_limit_has_a_dark_peak_and_a_flat_series_stays_in_the_box() -> None:
    calm = svg_of(sparkline({**QUEUE, "limit": 30}))
    assert calm.find(f"{SVG}circle").get("fill") == "#24292f"  # type: ignore[union-attr]
    flat = svg_of(sparkline({"figure": "q", "unit": "operations", "limit": None, "points": [[0, 0], [5, 0]]}))
    ys = [float(p.split(",")[1]) for p in flat.find(f"{SVG}polyline").get("points", "").split()]  # type: ignore[union-attr]
    assert all(0 <= y <= 44 for y in ys) and flat.find(f"{SVG}line") is None


def test_nothing_to_draw_without_points() -> None:
    assert sparkline({"figure": "q", "unit": "s", "limit": 1, "points": []}) == ""


CHECKS = '''
import pytest

@pytest.mark.criterion("DB-06")
def test_queue(report_series):
    report_series(QUEUE)
    assert False, "lock queue peaked at 25 operations"
''' + f"\nQUEUE = {QUEUE!r}\n"
TARGETS = '''
[targets.t]
[targets.t.source]
uri = "mongodb://127.0.0.1:1/src"
[targets.t.database]
uri = "mongodb://127.0.0.1:1/dst"
'''


def test_series_reach_the_record_and_the_verdict_cell(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", targets=TARGETS)
    pytester.makepyfile(test_checks=CHECKS)
    pytester.runpytest_subprocess("-p", "no:cacheprovider", "--target", "t", "--reports-dir", "reports",
                                  "test_checks.py")
    (run_dir,) = (p for p in (Path(pytester.path) / "reports" / "t").iterdir() if p.is_dir())
    (entry,) = json.loads((run_dir / "record.json").read_text())["tests"]
    assert entry["series"] == [QUEUE] and entry["outcome"] == "failed"
    page = (run_dir / "report.html").read_text()
    blob = json.loads(html.unescape(re.search(r'data-jsonblob="([^"]*)"', page).group(1)))  # type: ignore[union-attr]
    (row,) = [r[-1]["resultsTableRow"] for r in blob["tests"].values()]
    verdict = next(cell for cell in row if cell.startswith("<td>failed"))
    assert "<svg" in verdict and "max 25 operations" in verdict
