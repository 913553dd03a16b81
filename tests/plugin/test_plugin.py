"""The cutover pytest plugin, run for real in a subprocess (pytester): config errors, archived reports,
redaction, could-not-verify, the gate, target selection and pytest-xdist.

The checks here are a team's own (files in the pytester directory, named on the command line): such a run is
narrowed to them, so it passes only as GATE: PARTIAL PASS (with --partial). Their node ids are their paths
from the gate run's rootdir (the common ancestor of the package and the pytester directory); ``local`` keeps
the part from the file name on.
"""
from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from cutover.run.criteria import CRITERIA
from cutover.run.run_directory import sha256_of, verify_manifest
from tests.inner_runs import UNUSED_PLUGINS

CANARY = 'Cn4ry&<"s3cr3t>Zq'   # characters that HTML, XML and JSON all escape differently
UNREACHABLE = "mongodb://127.0.0.1:1/db"
# A target `t` whose databases are unreachable, failing fast: for runs of synthetic checks (--checks).
FAST_UNREACHABLE = f"""
[targets.t]
source = {{ uri = "{UNREACHABLE}" }}
database = {{ uri = "{UNREACHABLE}" }}

[targets.t.thresholds]
timeout_s = 0.3
"""

TARGETS = f"""
[targets.t]
source = {{ uri = "{UNREACHABLE}", app_id = "${{CUTOVER_CANARY}}" }}
database = {{ uri = "{UNREACHABLE}" }}

[targets.t.thresholds]
timeout_s = 0.5

[targets.t.severity]
"DB-07" = "minor"
"""

CHECKS = """
import os
import pytest

@pytest.mark.criterion("DB-01")
@pytest.mark.parametrize("cls", ["GameScore", "_User"])
def test_counts(target, cls):
    print("connected with", os.environ["CUTOVER_CANARY"])  # captured output lands in report.html
    assert target.name == "t"

@pytest.mark.criterion("DB-02")
def test_content(target):
    assert target.probe_class == "nothing", f"GameScore differs; secret was {os.environ['CUTOVER_CANARY']}"

@pytest.mark.criterion("DB-03")
def test_indexes(target_db):
    target_db.list_collection_names()

@pytest.mark.criterion("DB-07")
def test_metadata(target):
    assert False, "1 extra collection on the target: Junk"
"""

# DB-02 and FILE-01 fail, DB-03 cannot verify (its database is unreachable, as the preflight found): criteria counted
FULL_VERDICT = ("GATE: FAIL - not verified: 2 of 2 components unreachable (source database, target database); "
                "3 blockers (DB-02, DB-03, FILE-01)")

GATE_CHECKS = """
import pytest

@pytest.mark.criterion("FILE-04")
def test_orphans():
    assert False, "3 orphaned files"

@pytest.mark.criterion("FILE-01")
def test_resolve():
    assert False, "1 of 10 files does not resolve"

@pytest.mark.criterion("FILE-02")
def test_legacy():
    pass
"""


@pytest.fixture
def tree(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("CUTOVER_CANARY", CANARY)
    monkeypatch.delenv("CUTOVER_TARGET", raising=False)
    monkeypatch.delenv("CUTOVER_TARGETS_FILE", raising=False)
    pytester.makefile(".toml", targets=TARGETS)
    pytester.makepyfile(test_checks=CHECKS, test_gate=GATE_CHECKS)
    return pytester


def team_tree(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, checks: str,
              targets: str = FAST_UNREACHABLE, unset: tuple[str, ...] = ()) -> pytest.Pytester:
    """A directory holding a targets file and a team's checks (team_checks.py), the suite's variables unset."""
    for var in ("CUTOVER_TARGET", "CUTOVER_TARGETS_FILE", "CUTOVER_WAIVERS", *unset):
        monkeypatch.delenv(var, raising=False)
    pytester.makefile(".toml", targets=targets)
    pytester.makepyfile(team_checks=checks)
    return pytester


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *UNUSED_PLUGINS, "--reports-dir", "reports", *args)


def local(nodeid: str) -> str:
    """``test_checks.py::test_x[p]`` from ``tmp/pytest-of-u/.../test_checks.py::test_x[p]``."""
    path, sep, names = nodeid.partition("::")
    return path.rpartition("/")[2] + sep + names


def run_dir(pytester: pytest.Pytester, target: str = "t") -> Path:
    (only,) = (p for p in (pytester.path / "reports" / target).iterdir() if p.is_dir())
    return only


def record(directory: Path) -> dict[str, Any]:
    return json.loads((directory / "record.json").read_text(encoding="utf-8"))


def by_id(directory: Path) -> dict[str, dict[str, Any]]:
    return {local(entry["id"]): entry for entry in record(directory)["tests"]}


def junit_outcomes(directory: Path) -> dict[str, tuple[str, dict[str, str]]]:
    outcomes = {}
    for case in ET.parse(directory / "junit.xml").getroot().iter("testcase"):
        kinds = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
        props = {p.get("name", ""): p.get("value", "") for p in case.iter("property")}
        module = str(case.get("classname")).rpartition(".")[2]
        outcomes[f"{module}.{case.get('name')}"] = (kinds[0] if kinds else "passed", props)
    return outcomes


def html_rows(directory: Path) -> dict[str, dict[str, str]]:
    """Test id -> column title -> cell text, from pytest-html's header and its embedded data blob."""
    page = (directory / "report.html").read_text(encoding="utf-8")
    head = re.search(r'<thead id="results-table-head">(.*?)</thead>', page, re.S).group(1)  # type: ignore[union-attr]
    headers = [re.sub(r"<[^>]+>", "", h) for h in re.findall(r"<th\b[^>]*>.*?</th>", head, re.S)]
    blob = json.loads(html.unescape(re.search(r'data-jsonblob="([^"]*)"', page).group(1)))  # type: ignore[union-attr]
    rows = {}
    for test_id, results in blob["tests"].items():
        cells = [html.unescape(re.sub(r"<[^>]+>", "", c)) for c in results[-1]["resultsTableRow"]]
        rows[local(test_id)] = dict(zip(headers, cells, strict=True))
    return rows


def one_error_line(result: pytest.RunResult) -> str:
    lines = [line for line in result.errlines if line.strip()]
    assert len(lines) == 1, result.errlines
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
    assert lines[0].startswith("ERROR: ")
    return lines[0]


# -- configuration errors: one line, exit 4 ----------------------------------------------------------------

def test_unknown_target(tree: pytest.Pytester) -> None:
    result = run(tree, "--target", "prdo", "test_checks.py")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    line = one_error_line(result)
    assert "unknown target 'prdo'; known targets: t" in line


def test_missing_env_var(tree: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CUTOVER_CANARY")
    result = run(tree, "--target", "t", "test_checks.py")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    line = one_error_line(result)
    assert "targets.t.source.app_id: environment variable CUTOVER_CANARY is not set" in line


def test_malformed_toml(tree: pytest.Pytester) -> None:
    tree.makefile(".toml", targets="[targets.t\nsource = 1\n")
    result = run(tree, "--target", "t", "test_checks.py")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "targets.toml: malformed TOML" in one_error_line(result)
    assert not (tree.path / "reports").exists()


def test_a_check_without_target_is_a_usage_error(tree: pytest.Pytester) -> None:
    result = run(tree, "test_checks.py")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "pass --target NAME" in one_error_line(result)


def test_own_tests_without_criterion_need_no_target(tree: pytest.Pytester) -> None:
    tree.makepyfile(test_plain="def test_one():\n    assert 1 + 1 == 2\n")
    result = run(tree, "test_plain.py")
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.OK
    assert "GATE" not in result.stdout.str() and not (tree.path / "reports").exists()


# -- one full run: outcomes in every report, redaction, could-not-verify, manifest -------------------------

EXPECTED = {
    "test_gate.py::test_orphans": ("failed", "FILE-04", "minor", "FILE-04"),
    "test_gate.py::test_resolve": ("failed", "FILE-01", "blocker", "FILE-01"),
    "test_gate.py::test_legacy": ("passed", "FILE-02", "blocker", "FILE-02"),
    "test_checks.py::test_counts[GameScore]": ("passed", "DB-01", "blocker", "DB-01[GameScore]"),
    "test_checks.py::test_counts[_User]": ("passed", "DB-01", "blocker", "DB-01[_User]"),
    "test_checks.py::test_content": ("failed", "DB-02", "blocker", "DB-02"),
    "test_checks.py::test_indexes": ("error", "DB-03", "blocker", "DB-03"),
    "test_checks.py::test_metadata": ("failed", "DB-07", "minor", "DB-07"),
}


@pytest.fixture(scope="module")
def cache() -> dict[str, Any]:
    return {}


@pytest.fixture
def full_run(cache: dict[str, Any], tree: pytest.Pytester) -> tuple[pytest.RunResult, Path]:
    """One serial run of both check files, shared by the tests that read its reports (it takes seconds)."""
    if "full" not in cache:
        cache["full"] = run(tree, "--target", "t", "test_checks.py", "test_gate.py"), run_dir(tree)
    return cache["full"]


def test_outcomes_criterion_and_severity_in_record_junit_and_html(full_run: tuple[pytest.RunResult, Path]) -> None:
    result, directory = full_run
    entries = by_id(directory)
    assert {k: (e["outcome"], e["criterion"], e["severity"], e["label"]) for k, e in entries.items()} == EXPECTED
    assert entries["test_checks.py::test_metadata"]["message"] == "1 extra collection on the target: Junk"
    assert record(directory)["verdict"] == FULL_VERDICT and record(directory)["exit_code"] == 1
    assert result.ret == 1

    junit = junit_outcomes(directory)
    junit_kind = {"passed": "passed", "failed": "failure"}
    for test_id, (outcome, criterion, severity, _) in EXPECTED.items():
        name = test_id.replace(".py::", ".")
        assert junit[name][1]["criterion"] == criterion and junit[name][1]["severity"] == severity
        if outcome in junit_kind:
            assert junit[name][0] == junit_kind[outcome], name
        else:
            assert junit[name][0] in ("error", "failure"), name  # see test_unreachable_is_an_error_in_junit

    rows = html_rows(directory)
    assert set(rows) == set(EXPECTED)
    for test_id, (outcome, criterion, severity, _) in EXPECTED.items():
        assert (rows[test_id]["Criterion"], rows[test_id]["Severity"]) == (criterion, severity)
        assert rows[test_id]["Verdict"] == outcome


def test_unreachable_database_is_an_error_that_could_not_verify(full_run: tuple[pytest.RunResult, Path]) -> None:
    result, directory = full_run
    entry = by_id(directory)["test_checks.py::test_indexes"]
    assert entry["outcome"] == "error" and entry["message"].startswith("could not verify: ")
    result.assert_outcomes(passed=3, failed=4, errors=1)
    result.stdout.fnmatch_lines(["ERROR test_checks.py::test_indexes - could not verify*"])


def test_unreachable_is_an_error_in_junit(full_run: tuple[pytest.RunResult, Path]) -> None:
    _, directory = full_run
    assert junit_outcomes(directory)["test_checks.test_indexes"][0] == "error"


def test_manifest_hashes_match_the_files(full_run: tuple[pytest.RunResult, Path]) -> None:
    _, directory = full_run
    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["files"]) == {"record.json", "junit.xml", "report.html"}
    for rel, entry in manifest["files"].items():
        assert entry["sha256"] == sha256_of(directory / rel)
    assert manifest["run_id"] == directory.name and manifest["target"] == "t"
    assert verify_manifest(directory) == []


def test_the_canary_secret_appears_nowhere(full_run: tuple[pytest.RunResult, Path]) -> None:
    result, directory = full_run
    forms = {CANARY, html.escape(CANARY), json.dumps(CANARY)[1:-1], "s3cr3t"}
    for path in (p for p in directory.rglob("*") if p.is_file()):
        content = path.read_text(encoding="utf-8")
        assert not [f for f in forms if f in content], path.name
    assert "GameScore differs; secret was ***" in by_id(directory)["test_checks.py::test_content"]["message"]
    assert not any("s3cr3t" in test_id for test_id in by_id(directory))
    assert "s3cr3t" not in result.stdout.str() + result.stderr.str()


def test_the_report_path_is_printed(full_run: tuple[pytest.RunResult, Path]) -> None:
    result, directory = full_run
    result.stdout.fnmatch_lines([f"*{FULL_VERDICT}*", f"cutover report: *{directory.name}/report.html"])
    assert (directory / "report.html").is_file()


PRINTING_CHECK = """
import os
import pytest

@pytest.mark.criterion("DB-02")
def test_prints(target):
    print("using", os.environ["CUTOVER_CANARY"])
    assert False, "differs"
"""


def test_a_secret_printed_by_a_failing_check_stays_out_of_files_and_terminal(tree: pytest.Pytester) -> None:
    tree.makepyfile(test_print=PRINTING_CHECK)
    result = run(tree, "--target", "t", "test_print.py")
    result.assert_outcomes(failed=1)
    files = "".join(p.read_text(encoding="utf-8") for p in run_dir(tree).rglob("*") if p.is_file())
    assert "s3cr3t" not in files and "using ***" in files
    assert "s3cr3t" not in result.stdout.str() + result.stderr.str()


# -- the gate, and choosing the target ------------------------------------------------------------------

def test_only_a_minor_failing_passes_the_gate_with_cutover_target_env(
        tree: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUTOVER_TARGET", "t")  # no --target: the environment names it
    result = run(tree, "test_gate.py", "-k", "orphans or legacy", "--partial")
    result.assert_outcomes(passed=1, failed=1)
    assert result.ret == 0
    result.stdout.fnmatch_lines([f"*GATE: PARTIAL PASS (2/{len(CRITERIA)} criteria)*"])
    assert record(run_dir(tree))["target"] == "t"


def test_a_blocker_failing_fails_the_gate_with_targets_file(tree: pytest.Pytester) -> None:
    elsewhere = tree.mkdir("conf") / "other.toml"
    elsewhere.write_text(TARGETS.replace("[targets.t", "[targets.other"), encoding="utf-8")
    (tree.path / "targets.toml").unlink()
    result = run(tree, "--target", "other", "--targets-file", str(elsewhere), "test_gate.py")
    result.assert_outcomes(passed=1, failed=2)
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*GATE: FAIL - 1 blocker *"])
    assert record(run_dir(tree, "other"))["verdict"] == "GATE: FAIL - 1 blocker (FILE-01)"


# -- pytest-xdist ------------------------------------------------------------------------------------------

def test_xdist_record_equals_the_serial_one(full_run: tuple[pytest.RunResult, Path], tree: pytest.Pytester) -> None:
    serial, serial_dir = full_run
    parallel = run(tree, "--target", "t", "-n", "2", "test_checks.py", "test_gate.py")
    # the shared serial run may have been made in this very directory (when this test runs alone)
    (parallel_dir,) = (p for p in (tree.path / "reports" / "t").iterdir() if p.is_dir() and p != serial_dir)
    assert parallel.ret == serial.ret == 1
    parallel.stdout.fnmatch_lines(["*2 workers*"])

    def summary(directory: Path) -> list[tuple[str, str, str, str]]:
        return [(local(e["id"]), e["outcome"], e["criterion"], e["severity"]) for e in record(directory)["tests"]]

    assert len(summary(parallel_dir)) == len({row[0] for row in summary(parallel_dir)}) == 8
    assert summary(parallel_dir) == summary(serial_dir)
    assert by_id(parallel_dir)["test_checks.py::test_content"]["message"] == \
        by_id(serial_dir)["test_checks.py::test_content"]["message"]
    assert record(parallel_dir)["verdict"] == record(serial_dir)["verdict"] == FULL_VERDICT
