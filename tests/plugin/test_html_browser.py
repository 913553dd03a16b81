"""The HTML report as a release manager sees it: rendered by a real headless Chromium (Debian package).

pytest-html renders its results table with JavaScript from embedded JSON, so only a browser shows whether
the verdict and the failing criteria are really visible, and whether the page raises console errors.
"""
from __future__ import annotations

import html
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.inner_runs import UNUSED_PLUGINS
from tests.plugin.test_charts import TARGETS

CHECKS = '''
import pytest

@pytest.mark.criterion("DB-01")
def test_counts():
    assert False, "GameScore: target holds 1199 documents, source 1200"

@pytest.mark.criterion("DB-06")
def test_health(report_series):
    report_series({"figure": "lock queue", "unit": "operations", "limit": 0, "points": [[0, 0], [5, 0]]})

@pytest.mark.criterion("DB-03")
def test_indexes(record_facts):
    record_facts(collection="GameScore", database="app", missing=["player_score {playerName: 1, score: -1}"],
                 different=[], extra=[], parse_required_missing=[], schema_metadata=[],
                 specs={"missing": [{"name": "player_score", "key": [["playerName", 1], ["score", -1]],
                                     "options": {"unique": True}}], "different": []})
    assert False, "GameScore: missing on target: ['player_score {playerName: 1, score: -1}']"

@pytest.mark.criterion("DB-07")
def test_crashes():
    return {}["no such key"]     # a check's own bug: the traceback is what its maintainer needs
'''


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail("Debian chromium is required for this test: apt-get install chromium (.ci/run installs it)")
    return found


def _failing_run(tmp_path: Path) -> Path:
    (tmp_path / "test_checks.py").write_text(CHECKS)
    (tmp_path / "targets.toml").write_text(TARGETS)
    subprocess.run([sys.executable, "-m", "pytest", "test_checks.py", "--target", "t", "-p", "no:cacheprovider",
                    *UNUSED_PLUGINS, "--reports-dir", "reports", "-q"], cwd=tmp_path, capture_output=True, timeout=120,
                   check=False)
    return next((tmp_path / "reports" / "t").glob("*/report.html"))


def _browse(tmp_path: Path, page: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0", *flags,
         "--virtual-time-budget=5000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False)


def _console_errors(browser: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in browser.stderr.splitlines() if "CONSOLE" in line and "rror" in line]


def test_report_renders_verdict_and_failing_criteria(tmp_path: Path) -> None:
    browser = _browse(tmp_path, _failing_run(tmp_path))
    dom = browser.stdout
    assert "GATE: FAIL - 2 blockers (DB-01, DB-03), 1 major (DB-07)" in dom, "the verdict banner is not rendered"
    assert "Criteria (the catalogue" in dom, "the criteria matrix is not rendered"
    assert "<td>DB-01</td><td>Row counts per class</td><td>blocker</td><td>FAIL</td>" in dom
    assert "<td>DB-06</td><td>Deployment health before finalizing</td><td>major</td><td>PASS</td>" in dom
    assert "DB-01" in dom and "GameScore: target holds 1199 documents, source 1200" in dom
    assert 'class="col-result">Failed' in dom or ">Failed<" in dom, "the failing row is not rendered"
    assert "<polyline" in dom and "lock queue: max 0 operations" in dom, "the sampled series is not drawn"
    assert "File &quot;" not in dom and "def test_counts" not in dom, "a failed assertion shows no traceback"
    # the page opens on the verdict, the failing checks and the remediation; pytest-html's environment comes last
    order = [dom.index(mark) for mark in ('id="cutover-verdict"', 'id="cutover-failing"', 'id="cutover-remediation"',
                                          'id="cutover-groups"', 'id="results-table"', 'id="environment"')]
    assert order == sorted(order), order
    assert "<td>Target</td>" in dom, "the environment table is still drawn"
    errors = _console_errors(browser)
    assert not errors, f"console errors while rendering the report: {errors[:3]}"


# Drives the report in a frame (file pages may script each other and read files only with
# --allow-file-access-from-files): what is visible, what a click on the toggle opens, what each link loads.
PROBE = '''<!doctype html><iframe id="report" src="REPORT" width="1400" height="4000"></iframe>
<pre id="result">pending</pre>
<script>
const shown = (el) => !!el && el.checkVisibility({visibilityProperty: true, opacityProperty: true});
const load = (url) => new Promise((done) => {
  const xhr = new XMLHttpRequest();
  xhr.onload = () => done(xhr.responseText.length);
  xhr.onerror = () => done(-1);
  xhr.open("GET", url);
  xhr.send();
});
window.addEventListener("load", async () => {
  const out = {};
  try {
    const doc = document.getElementById("report").contentDocument;
    const evidence = [...doc.querySelectorAll(".cutover-evidence")];
    out.evidence = evidence.filter(shown).map((e) => e.dataset.criterion);
    out.evidenceText = evidence.map((e) => e.textContent).join(" | ");
    const toggles = [...doc.querySelectorAll("details.cutover-traceback")];
    out.toggles = toggles.length;
    const toggle = toggles[0];
    out.closedAtFirst = !toggle.open && !shown(toggle.querySelector("pre"));
    toggle.querySelector("summary").click();
    out.openAfterClick = toggle.open && shown(toggle.querySelector("pre"));
    out.traceback = toggle.querySelector("pre").textContent;
    out.links = [];
    for (const a of doc.querySelectorAll("a.cutover-remediation")) {
      out.links.push([a.getAttribute("href"), await load(a.href)]);
    }
  } catch (e) { out.error = String(e); }
  document.getElementById("result").textContent = "RESULT " + JSON.stringify(out);
});
</script>'''


def test_evidence_toggle_and_remediation_links_work_in_the_browser(tmp_path: Path) -> None:
    report = _failing_run(tmp_path)
    probe = tmp_path / "probe.html"
    probe.write_text(PROBE.replace("REPORT", report.as_uri()))
    browser = _browse(tmp_path, probe, "--allow-file-access-from-files")
    found = [line for line in html.unescape(browser.stdout).splitlines() if "RESULT " in line]
    assert found, f"the probe page did not finish: {browser.stdout[-2000:]}"
    result = json.loads(found[0].split("RESULT ", 1)[1].split("</pre>")[0])
    assert "error" not in result, result
    assert result["evidence"] == ["DB-03"], "the failed DB-03 check's evidence is not visible"
    assert "player_score" in result["evidenceText"] and "absent" in result["evidenceText"]
    assert result["toggles"] == 1, "only the crashed check has a traceback toggle"
    assert result["closedAtFirst"] and result["openAfterClick"], result
    assert "KeyError" in result["traceback"] and "def test_crashes" in result["traceback"]
    expected = report.parent / "remediation" / "DB-03-create-indexes.js"
    assert result["links"] == [["remediation/DB-03-create-indexes.js", len(expected.read_text())]]
    errors = _console_errors(browser)
    assert not errors, f"console errors: {errors[:3]}"
