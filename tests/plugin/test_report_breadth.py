"""The report of a broad run (issue 31: an app of 1,000 classes holds thousands of checks), at a smaller but
meaningful breadth: 200 classes, 3 criteria each (more checks than pytest-html's table draws), 5% of the classes
failing two of them. record.json, junit.xml and
the HTML stay well-formed and show every failure; in a real headless Chromium the page opens on the verdict and the
failing checks, its groups are collapsed, and pytest-html draws only the failing rows (each drawn row costs the
page at every click: bench/bench_breadth.py measures the 1,000-class run)."""
from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from cutover.run.run_directory import verify_manifest
from cutover_testing.browser import measure
from tests.inner_runs import UNUSED_PLUGINS
from tests.plugin.test_plugin import FAST_UNREACHABLE, record

CLASSES, FAILING_EVERY = 200, 20       # 10 classes of 200 (5%) fail DB-01 and DB-02: 600 checks, 20 failing
CHECKS = f"""
import pytest

CLASSES = [f"Tenant{{k:04d}}" for k in range({CLASSES})]

def failing(cls):
    return int(cls[-4:]) % {FAILING_EVERY} == 7

@pytest.mark.criterion("DB-01")
@pytest.mark.parametrize("cls", CLASSES)
def test_count(cls, record_facts):
    record_facts(cls=cls, source=3, target=2 if failing(cls) else 3)
    assert not failing(cls), f"{{cls}}: target holds 2 documents, source 3 (difference -1)"

@pytest.mark.criterion("DB-02")
@pytest.mark.parametrize("cls", CLASSES)
def test_content(cls, record_facts):
    record_facts(cls=cls, source_docs=3)
    assert not failing(cls), f"{{cls}}: missingOnTarget 1: _id x{{cls}}"

@pytest.mark.criterion("DB-03")
@pytest.mark.parametrize("cls", CLASSES)
def test_indexes(cls, record_facts):
    record_facts(collection=cls, missing=[])
"""


@pytest.fixture(scope="module")
def broad(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The run directory of one broad run (600 checks, -n 2), shared by this module's tests."""
    tree = tmp_path_factory.mktemp("broad")
    (tree / "targets.toml").write_text(FAST_UNREACHABLE)
    (tree / "broad_checks.py").write_text(CHECKS)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUTOVER_")}
    out = subprocess.run([sys.executable, "-m", "pytest", "--target", "t", "--partial", "-q", "-n", "2",
                          "-p", "no:cacheprovider", *UNUSED_PLUGINS, "--reports-dir", "reports", "broad_checks.py"],
                         cwd=tree, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert out.returncode == 1, out.stdout[-2000:] + out.stderr[-2000:]
    (only,) = (p for p in (tree / "reports" / "t").iterdir() if p.is_dir())
    return only


def failing_labels() -> set[str]:
    return {f"{cid}[Tenant{k:04d}]" for k in range(CLASSES) if k % FAILING_EVERY == 7 for cid in ("DB-01", "DB-02")}


def test_record_and_junit_are_well_formed_and_hold_every_failure(broad: Path) -> None:
    tests = record(broad)["tests"]
    assert len(tests) == 3 * CLASSES and not verify_manifest(broad)
    assert {t["label"] for t in tests if t["outcome"] == "failed"} == failing_labels()
    suite = ET.parse(broad / "junit.xml").getroot().find("testsuite")
    assert suite is not None and int(suite.get("tests", 0)) == 3 * CLASSES
    assert int(suite.get("failures", 0)) == len(failing_labels()) == 20


def test_the_page_lists_every_failure_and_every_check_in_its_group(broad: Path) -> None:
    page = (broad / "report.html").read_text(encoding="utf-8")
    failing_table = page[page.index('id="cutover-failing"'):page.index('id="cutover-remediation"')
                         if 'id="cutover-remediation"' in page else page.index("cutover-groups")]
    assert all(f"<td>{label}</td>" in failing_table for label in failing_labels())
    groups = re.findall(r'<details class="cutover-group[^"]*" data-criterion="([^"]+)">', page)
    assert groups == ["DB-01", "DB-02", "DB-03"]
    assert "200 checks: 10 failed, 190 passed" in page and "<td>Tenant0199</td>" not in page
    assert "<td>DB-03[Tenant0199]</td><td>passed</td><td>collection Tenant0199</td>" in page
    blob = json.loads(html.unescape(re.search(r'data-jsonblob="([^"]*)"', page)[1]))
    assert len(blob["tests"]) == 20      # pytest-html draws the failing rows only
    assert page.index('id="environment"') > page.index('id="results-table"')   # the environment at the end


def test_chromium_opens_it_on_the_verdict_and_the_failing_checks(broad: Path) -> None:
    seen = measure(broad / "report.html")
    facts = seen.facts
    assert not seen.console_errors, seen.console_errors
    assert facts["verdict_shown"] and facts["verdict_top"] < facts["viewport"], facts
    assert facts["failing_top"] < facts["viewport"] and facts["failing_rows"] == 20, facts
    assert facts["environment_top"] > facts["failing_top"], facts
    assert facts["groups"] == 3 and facts["groups_open"] == 0, facts
    assert facts["results_rows"] == 20, facts
    assert seen.open_group_ms is not None
