"""The report at breadth (cutover.run.report_groups, cutover_pytest.htmlreport): one collapsed group per criterion
in the catalogue's order, failing checks first, every check listed; pytest-html's environment table moved to the
end of its page (against the template of the installed pytest-html)."""
from __future__ import annotations

import importlib.resources
import re
from pathlib import Path

from cutover.run.report_groups import criterion_groups
from cutover_pytest.htmlreport import environment_below

ENTRIES = [
    {"label": "DB-02[Tenant0010]", "criterion": "DB-02", "outcome": "passed", "facts": {"cls": "Tenant0010",
                                                                                         "source_docs": 3}},
    {"label": "DB-02[Tenant0002]", "criterion": "DB-02", "outcome": "failed",
     "message": "Tenant0002: missingOnTarget 1: _id <b>x</b>\nsecond line"},
    {"label": "DB-01[Tenant0002]", "criterion": "DB-01", "outcome": "failed", "message": "count differs",
     "waiver": {"author": "a"}},
    {"label": "DB-01[Tenant0001]", "criterion": "DB-01", "outcome": "error", "message": "could not verify"},
    {"label": "TEAM[x]", "criterion": "TEAM-1", "outcome": "skipped", "message": "not applicable: none"},
]


def test_one_collapsed_group_per_criterion_failing_first() -> None:
    page = criterion_groups(ENTRIES, {"DB-02": "major"})
    assert re.findall(r'data-criterion="([^"]+)"', page) == ["DB-01", "DB-02", "TEAM-1"]   # catalogue order
    assert "<details open" not in page and page.count("<details") == 3
    assert "<b>DB-02</b> Document content equal (major): 2 checks: 1 failed, 1 passed</summary>" in page
    assert "2 checks: 1 error, 1 failed (waived)" in page
    db02 = page[page.index('data-criterion="DB-02"'):page.index('data-criterion="TEAM-1"')]
    assert db02.index("Tenant0002") < db02.index("Tenant0010")           # the failing check first
    assert "_id &lt;b&gt;x&lt;/b&gt; \u2026</td>" in db02 and "second line" not in db02   # escaped, one line
    assert "<td>cls Tenant0010, source_docs 3</td>" in db02                 # a passing check's facts
    assert "<b>TEAM-1</b>: 1 check: 1 skipped</summary>" in page
    assert 'class="cutover-group cutover-group-failing"' in page and criterion_groups([]) == ""


def test_the_environment_goes_to_the_end_of_pytest_htmls_page(tmp_path: Path) -> None:
    template = importlib.resources.files("pytest_html").joinpath("resources/index.jinja2").read_text()
    page = tmp_path / "report.html"
    page.write_text(template)
    assert environment_below(page)
    moved = page.read_text()
    assert moved.index('<table id="environment"></table>') > moved.index('<table id="results-table">')
    assert moved.index('<div id="environment-header">') < moved.index("<footer>")
    assert sorted(re.sub(r"\s", "", moved)) == sorted(re.sub(r"\s", "", template))    # moved, nothing lost
    environment_below(page)
    assert page.read_text().index('<table id="environment">') > page.read_text().index('id="results-table"')
    assert not environment_below(tmp_path / "none.html")
