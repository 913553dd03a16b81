"""The HTML report as a release manager sees it: rendered by a real headless Chromium (Debian package).

pytest-html renders its results table with JavaScript from embedded JSON, so only a browser shows whether
the verdict and the failing criteria are really visible, and whether the page raises console errors.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CHECKS = '''
import pytest

@pytest.mark.criterion("DB-01")
def test_counts():
    assert False, "GameScore: target holds 1199 documents, source 1200"

@pytest.mark.criterion("DB-06")
def test_health(report_series):
    report_series({"figure": "lock queue", "unit": "operations", "limit": 0, "points": [[0, 0], [5, 0]]})
'''
TARGETS = '''
[targets.t]
[targets.t.source]
uri = "mongodb://127.0.0.1:1/src"
[targets.t.database]
uri = "mongodb://127.0.0.1:1/dst"
'''


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail("Debian chromium is required for this test: apt-get install chromium (.ci/run installs it)")
    return found


def test_report_renders_verdict_and_failing_criteria(tmp_path: Path) -> None:
    (tmp_path / "test_checks.py").write_text(CHECKS)
    (tmp_path / "targets.toml").write_text(TARGETS)
    subprocess.run([sys.executable, "-m", "pytest", "test_checks.py", "--target", "t", "-p", "no:cacheprovider",
                    "--reports-dir", "reports", "-q"], cwd=tmp_path, capture_output=True, timeout=120, check=False)
    report = next((tmp_path / "reports" / "t").glob("*/report.html"))
    browser = subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0",
         "--virtual-time-budget=5000", "--dump-dom", report.as_uri()],
        capture_output=True, text=True, timeout=120, check=False)
    dom = browser.stdout
    assert "GATE: FAIL - 1 blocker" in dom, "the verdict banner is not rendered"
    assert "Criteria (the catalogue" in dom, "the criteria matrix is not rendered"
    assert "<td>DB-01</td><td>Row counts per class</td><td>blocker</td><td>FAIL</td>" in dom
    assert "<td>DB-06</td><td>Deployment health before finalizing</td><td>major</td><td>PASS</td>" in dom
    assert "DB-01" in dom and "GameScore: target holds 1199 documents, source 1200" in dom
    assert 'class="col-result">Failed' in dom or ">Failed<" in dom, "the failing row is not rendered"
    assert "<polyline" in dom and "lock queue: max 0 operations" in dom, "the sampled series is not drawn"
    errors = [line for line in browser.stderr.splitlines() if "CONSOLE" in line and "rror" in line]
    assert not errors, f"console errors while rendering the report: {errors[:3]}"
