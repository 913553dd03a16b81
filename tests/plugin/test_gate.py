"""The compliance gate, run for real in a subprocess (pytester): every exit code path, waivers (--waivers,
./waivers.toml, CUTOVER_WAIVERS), expiry, malformed files, severity overrides, run history and the manifest.

The checks below pass unless their label is listed in ./failing.txt, so one checks file serves every
scenario and a second run can flip outcomes. Nothing touches a database except DB-07 when asked to fail
(it then meets an unreachable one: "could not verify"). They are a team's own checks named on the command line,
so each run is narrowed to the five criteria they carry and asks for ``--partial``: where the gate would pass,
it says GATE: PARTIAL PASS (5/N criteria). The coverage gate itself is tests/plugin/test_coverage_gate.py's.
"""
from __future__ import annotations

import datetime as dt
import getpass
import json
import platform
import subprocess
from pathlib import Path
from typing import Any

import pytest

from cutover import __version__
from cutover.run.criteria import CRITERIA
from tests.plugin.test_plugin import CANARY, UNREACHABLE, html_rows, one_error_line, record, run, run_dir

TARGETS = f"""
[targets.t]
source = {{ uri = "{UNREACHABLE}", app_id = "${{CUTOVER_CANARY}}" }}
database = {{ uri = "{UNREACHABLE}" }}

[targets.t.thresholds]
timeout_s = 0.5
"""

CHECKS = """
import os
import pytest

FAILING = set(filter(None, open("failing.txt").read().split(","))) if os.path.exists("failing.txt") else set()


def outcome(label):
    assert label not in FAILING, f"{label}: planted failure"


@pytest.mark.criterion("DB-01")
@pytest.mark.parametrize("cls", ["GameScore", "_User"])
def test_counts(cls):
    outcome(f"DB-01[{cls}]")


@pytest.mark.criterion("DB-05")
@pytest.mark.parametrize("query", ["GameScore.score", "_User.email"])
def test_queries(query):
    outcome(f"DB-05[{query}]")


@pytest.mark.criterion("DB-06")
def test_health():
    outcome("DB-06")


@pytest.mark.criterion("DB-07")
def test_collections(request):
    if "DB-07" in FAILING:
        request.getfixturevalue("target_db").list_collection_names()


@pytest.mark.criterion("FILE-04")
def test_orphans():
    outcome("FILE-04")
"""

LABELS = ["DB-01[GameScore]", "DB-01[_User]", "DB-05[GameScore.score]", "DB-05[_User.email]", "DB-06", "DB-07",
          "FILE-04"]
LAG = "replication lag spikes during the nightly backup, ticket OPS-12"
PASS = f"GATE: PARTIAL PASS (5/{len(CRITERIA)} criteria)"
WAIVED = f"GATE: PARTIAL PASS (5/{len(CRITERIA)} criteria, 1 waived)"


def waiver(criterion: str, expires: dt.date | None = None, **fields: str) -> str:
    expires = expires or dt.date.today() + dt.timedelta(days=30)
    extra = "".join(f'{k} = "{v}"\n' for k, v in fields.items())
    return (f'[[waivers]]\ncriterion = "{criterion}"\njustification = "{LAG}"\nexpires = {expires}\n'
            f'author = "ana"\n{extra}')


@pytest.fixture
def tree(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("CUTOVER_CANARY", CANARY)
    for var in ("CUTOVER_TARGET", "CUTOVER_TARGETS_FILE", "CUTOVER_WAIVERS"):
        monkeypatch.delenv(var, raising=False)
    pytester.makefile(".toml", targets=TARGETS)
    pytester.makepyfile(test_checks=CHECKS)
    return pytester


def gate(tree: pytest.Pytester, *failing: str, args: tuple[str, ...] = ()) -> pytest.RunResult:
    """One run of target t with the named labels failing."""
    (tree.path / "failing.txt").write_text(",".join(failing), encoding="utf-8")
    return run(tree, "--target", "t", "--partial", *args, "test_checks.py")


def entries(directory: Path) -> dict[str, dict[str, Any]]:
    return {e["label"]: e for e in record(directory)["tests"]}


def assert_verdict(result: pytest.RunResult, code: int, line: str) -> None:
    assert result.ret == code, result.stdout.str()[-2000:]
    result.stdout.fnmatch_lines([f"=* {line} =*"])


# -- exit 0 and 1: severities ------------------------------------------------------------------------------

def test_all_pass_exit_0(tree: pytest.Pytester) -> None:
    result = gate(tree)
    assert_verdict(result, 0, PASS)
    result.assert_outcomes(passed=len(LABELS))
    assert record(run_dir(tree))["verdict"] == PASS and record(run_dir(tree))["exit_code"] == 0


def test_a_failing_blocker_exit_1(tree: pytest.Pytester) -> None:
    result = gate(tree, "DB-01[_User]")
    assert_verdict(result, 1, "GATE: FAIL - 1 blocker (DB-01)")
    assert entries(run_dir(tree))["DB-01[_User]"]["message"] == "DB-01[_User]: planted failure"


def test_a_failing_major_exit_1(tree: pytest.Pytester) -> None:
    assert_verdict(gate(tree, "DB-06"), 1, "GATE: FAIL - 1 major (DB-06)")


def test_a_major_that_could_not_be_verified_exit_1(tree: pytest.Pytester) -> None:
    result = gate(tree, "DB-07")   # the run met the unreachable database the preflight found: it says so first
    assert_verdict(result, 1, "GATE: FAIL - not verified: 2 of 2 components unreachable (source database, "
                              "target database); 1 major (DB-07)")
    assert entries(run_dir(tree))["DB-07"]["outcome"] == "error"


def test_blockers_and_majors_are_counted_by_criterion_in_the_line(tree: pytest.Pytester) -> None:
    result = gate(tree, "DB-01[GameScore]", "DB-01[_User]", "DB-06", "FILE-04")   # two failing checks of DB-01
    assert_verdict(result, 1, "GATE: FAIL - 1 blocker (DB-01), 1 major (DB-06)")
    assert record(run_dir(tree))["counts"] == {"passed": 3, "failed": 4}


def test_a_failing_minor_passes_exit_0(tree: pytest.Pytester) -> None:
    result = gate(tree, "FILE-04")
    assert_verdict(result, 0, PASS)
    result.assert_outcomes(passed=len(LABELS) - 1, failed=1)


def test_a_severity_override_turns_a_failing_major_non_gating(tree: pytest.Pytester) -> None:
    tree.makefile(".toml", targets=TARGETS + '\n[targets.t.severity]\n"DB-06" = "minor"\n')
    result = gate(tree, "DB-06")
    assert_verdict(result, 0, PASS)
    directory = run_dir(tree)
    assert entries(directory)["DB-06"]["severity"] == "minor"
    assert record(directory)["severity_overrides"] == {"DB-06": "minor"}
    assert html_rows(directory)["test_checks.py::test_health"]["Severity"] == "minor"


def test_a_severity_override_can_make_a_minor_gate(tree: pytest.Pytester) -> None:
    tree.makefile(".toml", targets=TARGETS + '\n[targets.t.severity]\n"FILE-04" = "blocker"\n')
    assert_verdict(gate(tree, "FILE-04"), 1, "GATE: FAIL - 1 blocker (FILE-04)")


# -- waivers -----------------------------------------------------------------------------------------------

def test_a_waived_major_passes_and_carries_its_justification(tree: pytest.Pytester) -> None:
    expires = dt.date.today() + dt.timedelta(days=30)
    (tree.path / "w.toml").write_text(waiver("DB-06", expires), encoding="utf-8")
    result = gate(tree, "DB-06", args=("--waivers", "w.toml"))
    assert_verdict(result, 0, WAIVED)
    directory = run_dir(tree)
    entry = entries(directory)["DB-06"]
    assert entry["outcome"] == "failed"
    assert entry["waiver"] == {"justification": LAG, "expires": str(expires),
                               "author": "ana"}
    assert html_rows(directory)["test_checks.py::test_health"]["Verdict"] == "waived"
    assert record(directory)["verdict"] == WAIVED
    assert LAG in (directory / "report.html").read_text(encoding="utf-8")


def test_default_waivers_file_in_the_working_directory(tree: pytest.Pytester) -> None:
    (tree.path / "waivers.toml").write_text(waiver("DB-06"), encoding="utf-8")
    assert_verdict(gate(tree, "DB-06"), 0, WAIVED)


def test_cutover_waivers_environment_variable(tree: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    (tree.mkdir("conf") / "prod-waivers.toml").write_text(waiver("DB-06"), encoding="utf-8")
    (tree.path / "waivers.toml").write_text("this = is not read\n", encoding="utf-8")
    monkeypatch.setenv("CUTOVER_WAIVERS", "conf/prod-waivers.toml")
    assert_verdict(gate(tree, "DB-06"), 0, WAIVED)


def test_a_test_pattern_waives_only_the_labels_it_matches(tree: pytest.Pytester) -> None:
    (tree.path / "waivers.toml").write_text(waiver("DB-05", test="DB-05[GameScore.*]"), encoding="utf-8")
    result = gate(tree, "DB-05[GameScore.score]", "DB-05[_User.email]")
    assert_verdict(result, 1, "GATE: FAIL - 1 major (DB-05)")
    found = entries(run_dir(tree))
    assert found["DB-05[GameScore.score]"]["waiver"]["justification"] == LAG
    assert "waiver" not in found["DB-05[_User.email]"]


def test_a_waiver_for_another_target_does_not_apply(tree: pytest.Pytester) -> None:
    text = waiver("DB-06", target="prod") + waiver("DB-05")
    (tree.path / "waivers.toml").write_text(text, encoding="utf-8")
    result = gate(tree, "DB-06", "DB-05[_User.email]")
    assert_verdict(result, 1, "GATE: FAIL - 1 major (DB-06)")
    assert "waiver" not in entries(run_dir(tree))["DB-06"]


def test_an_expired_waiver_is_ignored_and_says_so(tree: pytest.Pytester) -> None:
    yesterday = dt.date.today() - dt.timedelta(days=1)
    (tree.path / "waivers.toml").write_text(waiver("DB-06", yesterday), encoding="utf-8")
    result = gate(tree, "DB-06")
    assert_verdict(result, 1, "GATE: FAIL - 1 major (DB-06)")
    result.stdout.fnmatch_lines([f"waiver expired, ignored: DB-06 * (until {yesterday} by ana): {LAG}"])
    directory = run_dir(tree)
    assert "waiver" not in entries(directory)["DB-06"]
    assert record(directory)["expired_waivers"] == [f"DB-06 * (until {yesterday} by ana): {LAG}"]
    assert "EXPIRED: ignored" in (directory / "report.html").read_text(encoding="utf-8")


def test_a_waiver_expiring_today_still_holds(tree: pytest.Pytester) -> None:
    # the inner run decides "today" in UTC; avoid the minutes around midnight where local and UTC differ
    today = dt.datetime.now(dt.UTC).date()
    (tree.path / "waivers.toml").write_text(waiver("DB-06", today), encoding="utf-8")
    assert_verdict(gate(tree, "DB-06"), 0, WAIVED)


# -- exit 4: the waivers file is checked at start, one line ------------------------------------------------

def assert_usage_error(result: pytest.RunResult, *fragments: str) -> None:
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    line = one_error_line(result)
    for fragment in fragments:
        assert fragment in line, line
    assert "passed" not in result.stdout.str()


def test_a_malformed_waivers_file(tree: pytest.Pytester) -> None:
    (tree.path / "waivers.toml").write_text('[[waivers]\ncriterion = "DB-06"\n', encoding="utf-8")
    assert_usage_error(gate(tree, "DB-06"), "waivers.toml: malformed waivers file")
    assert not (tree.path / "reports").exists()


def test_a_waiver_without_expiry(tree: pytest.Pytester) -> None:
    text = '[[waivers]]\ncriterion = "DB-06"\njustification = "lag"\n'
    (tree.path / "waivers.toml").write_text(text, encoding="utf-8")
    assert_usage_error(gate(tree), "waivers.toml: waivers[0].expires: required")


def test_an_explicit_waivers_file_that_does_not_exist(tree: pytest.Pytester) -> None:
    assert_usage_error(gate(tree, args=("--waivers", "nope.toml")), "nope.toml: waivers file not found")


def test_a_waiver_that_matches_nothing(tree: pytest.Pytester) -> None:
    (tree.path / "waivers.toml").write_text(waiver("DB-06") + waiver("DB-05", test="DB-05[Typo*]"),
                                            encoding="utf-8")
    assert_usage_error(gate(tree, "DB-06"), "waiver matches no check of target t: DB-05 DB-05[Typo*]")


def test_a_waiver_on_a_blocker(tree: pytest.Pytester) -> None:
    (tree.path / "waivers.toml").write_text(waiver("DB-01"), encoding="utf-8")
    assert_usage_error(gate(tree, "DB-01[_User]"), "waivers[0].criterion: DB-01 is a blocker",
                       "blockers cannot be waived")


def test_a_waiver_on_a_blocker_demoted_by_the_target_is_allowed(tree: pytest.Pytester) -> None:
    tree.makefile(".toml", targets=TARGETS + '\n[targets.t.severity]\n"DB-01" = "major"\n')
    (tree.path / "waivers.toml").write_text(waiver("DB-01", test="DB-01[_User]"), encoding="utf-8")
    assert_verdict(gate(tree, "DB-01[_User]"), 0, WAIVED)


def test_a_waiver_matching_nothing_archives_no_passing_verdict(tree: pytest.Pytester) -> None:
    (tree.path / "waivers.toml").write_text(waiver("DB-05", test="DB-05[Typo*]"), encoding="utf-8")
    result = gate(tree)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "PASS" not in result.stdout.str()
    assert all("PASS" not in record(d)["verdict"] for d in (tree.path / "reports" / "t").glob("*/"))


def test_a_check_module_that_does_not_import_is_not_a_pass(tree: pytest.Pytester) -> None:
    tree.makepyfile(test_broken="import a_module_that_does_not_exist\n")
    result = run(tree, "--target", "t", "--partial", "test_checks.py", "test_broken.py")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*ERROR collecting *test_broken.py*", "*GATE: NOT RUN (1 collection error)*"])
    assert "PASS" not in result.stdout.str()
    assert record(run_dir(tree))["verdict"] == "GATE: NOT RUN (1 collection error)"


def test_a_waiver_applies_under_xdist(tree: pytest.Pytester) -> None:
    (tree.path / "waivers.toml").write_text(waiver("DB-06"), encoding="utf-8")
    result = gate(tree, "DB-06", args=("-n", "2"))
    assert_verdict(result, 0, WAIVED)


def test_a_waiver_matching_nothing_is_caught_under_xdist(tree: pytest.Pytester) -> None:
    (tree.path / "waivers.toml").write_text(waiver("DB-05", test="DB-05[Typo*]"), encoding="utf-8")
    result = gate(tree, args=("-n", "2"))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "waiver matches no check of target t: DB-05 DB-05[Typo*]" in result.stdout.str() + result.stderr.str()


# -- history and the manifest ------------------------------------------------------------------------------

def test_a_second_run_lists_what_changed_and_the_index_lists_both(tree: pytest.Pytester) -> None:
    gate(tree, "DB-06", "FILE-04")
    first = run_dir(tree)
    gate(tree, "DB-06", "DB-01[_User]")
    (second,) = (p for p in (tree.path / "reports" / "t").iterdir() if p.is_dir() and p != first)
    assert record(second)["changes"] == {"previous_run": first.name, "newly_failing": ["DB-01[_User]"],
                                         "newly_passing": ["FILE-04"]}
    assert record(first)["changes"]["previous_run"] is None
    page = (second / "report.html").read_text(encoding="utf-8")
    assert f"Changes since run {first.name}" in page

    index = (tree.path / "reports" / "t" / "index.html").read_text(encoding="utf-8")
    links = [line.split('"')[1] for line in index.split("<a href=")[1:]]
    assert links == [f"{second.name}/report.html", f"{first.name}/report.html"]
    assert index.index("GATE: FAIL - 1 blocker (DB-01), 1 major (DB-06)") < index.index("GATE: FAIL - 1 major (DB-06)<")


def test_manifest_holds_suite_version_commit_target_digest_and_who(tree: pytest.Pytester) -> None:
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org"]
    for cmd in (["init", "-q"], ["add", "test_checks.py"], ["commit", "-q", "-m", "checks"]):
        subprocess.run([*git, *cmd], cwd=tree.path, check=True, capture_output=True, timeout=30)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=tree.path, capture_output=True, text=True,
                          check=True, timeout=30).stdout.strip()
    gate(tree)
    text = (run_dir(tree) / "manifest.json").read_text(encoding="utf-8")
    manifest = json.loads(text)
    assert manifest["suite_version"] == __version__
    assert manifest["git_commit"] == head
    assert manifest["target"] == "t" and manifest["run_id"] == run_dir(tree).name
    assert len(manifest["config_digest"]) == 64 and int(manifest["config_digest"], 16) >= 0
    assert manifest["ran_by"]["user"] == getpass.getuser() and manifest["ran_by"]["host"] == platform.node()
    assert set(manifest["ran_by"]) == {"user", "host", "platform", "ci"}
    assert "s3cr3t" not in text and "Cn4ry" not in text


def digest(tree: pytest.Pytester) -> str:
    gate(tree)
    newest = max((p for p in (tree.path / "reports" / "t").iterdir() if p.is_dir()), key=lambda p: p.name)
    return str(json.loads((newest / "manifest.json").read_text(encoding="utf-8"))["config_digest"])


def test_the_config_digest_ignores_secret_values_but_not_settings(
        tree: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUTOVER_CANARY", "plainSecretValue1")
    first = digest(tree)
    monkeypatch.setenv("CUTOVER_CANARY", "plainSecretValue2")   # another secret value, same config
    assert digest(tree) == first
    tree.makefile(".toml", targets=TARGETS.replace("timeout_s = 0.5", "timeout_s = 0.6"))
    assert digest(tree) != first


def test_the_config_digest_ignores_secret_values_that_json_escapes(
        tree: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    first = digest(tree)                                              # CANARY holds a double quote
    monkeypatch.setenv("CUTOVER_CANARY", CANARY.replace("Zq", "Qz"))
    assert digest(tree) == first
