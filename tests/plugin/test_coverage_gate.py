"""The coverage gate and what a gate run collects, run for real in subprocesses (pytester): the working
directory's tests, conftest and pytest settings play no part; path options never change what is collected;
collection errors, zero checks, --collect-only, narrowing (-k, --deselect, paths, -x) never pass without
--partial, and the record says which criteria were not verified and why.

The target's databases are unreachable (port 1): the bundled checks are only collected here (``--collect-only``),
never run; the runs that go to a verdict use a team's checks from the pytester directory. Narrowed runs of the
bundled catalogue against a live target are tests/scenarios/test_coverage_gate.py's.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from cutover.run.criteria import CRITERIA
from cutover_pytest.selection import BUNDLED, rootdir
from tests.plugin.test_plugin import FAST_UNREACHABLE, record, run, run_dir

TARGETS = FAST_UNREACHABLE

CHECKS = """
import pytest

@pytest.mark.criterion("FILE-04")
def test_orphans():
    assert False, "2 stored files are referenced by no object"

@pytest.mark.criterion("DB-06")
def test_health():
    pass

@pytest.mark.criterion("DB-07")
def test_collections():
    pass
"""

APP_TEST = "def test_app():\n    assert False, 'the app test must not run in a gate run'\n"
CONFTEST = "import pathlib\npathlib.Path('conftest-was-imported').write_text('x')\n"
INI = "[pytest]\naddopts = --maxfail=1 --import-mode=prepend\ntestpaths = nowhere\npython_files = check_*.py\n"


@pytest.fixture
def tree(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    for var in ("CUTOVER_TARGET", "CUTOVER_TARGETS_FILE", "CUTOVER_WAIVERS"):
        monkeypatch.delenv(var, raising=False)
    pytester.makefile(".toml", targets=TARGETS)
    pytester.makepyfile(team_checks=CHECKS, test_app=APP_TEST, conftest=CONFTEST)
    pytester.makeini(INI)
    return pytester


def collected(result: pytest.RunResult) -> list[str]:
    return sorted(line for line in result.stdout.lines if "::" in line and not line.startswith(("ERROR", "FAIL")))


def bundled_ids() -> set[str]:
    return {f"cutover_pytest/checks/{p.name}" for p in BUNDLED.glob("test_*.py")}


def not_verified(directory: Path) -> list[str]:
    return list(record(directory)["not_verified"])


# -- what a gate run collects ------------------------------------------------------------------------------

def test_a_gate_run_collects_the_bundled_checks_and_nothing_of_the_working_directory(tree: pytest.Pytester) -> None:
    result = run(tree, "--target", "t", "--collect-only", "-q")
    ids = collected(result)
    assert ids and {i.split("::")[0] for i in ids} == bundled_ids(), result.stdout.str()[-3000:]
    assert not [i for i in ids if "test_app" in i or "team_checks" in i]
    assert not (tree.path / "conftest-was-imported").exists()
    result.stdout.fnmatch_lines(["*GATE: NOT RUN (--collect-only)*"])
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_path_options_never_change_what_is_collected(tree: pytest.Pytester, tmp_path_factory: pytest.TempPathFactory
                                                     ) -> None:
    elsewhere = tmp_path_factory.mktemp("conf")        # outside the checkout and the working directory
    (elsewhere / "prod.toml").write_text(TARGETS, encoding="utf-8")
    (elsewhere / "waivers.toml").write_text("", encoding="utf-8")
    reports = tmp_path_factory.mktemp("existing-reports")
    forms = [("--targets-file", str(elsewhere / "prod.toml")), (f"--targets-file={elsewhere / 'prod.toml'}",),
             ("--reports-dir", str(reports)), (f"--reports-dir={reports}",),
             ("--waivers", str(elsewhere / "waivers.toml")), (f"--waivers={elsewhere / 'waivers.toml'}",)]
    baseline = collected(run(tree, "--target", "t", "--collect-only", "-q"))
    for form in forms:
        found = collected(run(tree, "--target", "t", *form, "--collect-only", "-q"))
        assert found == baseline, form
    assert (reports / "t").is_dir()


def test_a_teams_checks_run_with_the_catalogue_when_given_with_checks(tree: pytest.Pytester) -> None:
    result = run(tree, "--target", "t", "--checks", "team_checks.py", "--collect-only", "-q")
    files = {i.split("::")[0].rpartition("/")[2] for i in collected(result)}
    assert files == {p.name for p in BUNDLED.glob("test_*.py")} | {"team_checks.py"}


# -- no verdict at all -------------------------------------------------------------------------------------

@pytest.mark.parametrize("stop", [("-x",), ("--maxfail=1",), ()])
def test_a_collection_error_is_not_run_with_or_without_x(tree: pytest.Pytester, stop: tuple[str, ...]) -> None:
    tree.makepyfile(team_broken="import a_module_that_does_not_exist\n")
    result = run(tree, "--target", "t", "--partial", *stop, "team_checks.py", "team_broken.py")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*GATE: NOT RUN (1 collection error)*"])
    assert "PASS" not in result.stdout.str()
    assert record(run_dir(tree))["verdict"] == "GATE: NOT RUN (1 collection error)"


def test_continuing_past_a_collection_error_is_still_not_run(tree: pytest.Pytester) -> None:
    tree.makepyfile(team_broken="import a_module_that_does_not_exist\n")
    result = run(tree, "--target", "t", "--partial", "--continue-on-collection-errors", "team_checks.py",
                 "team_broken.py")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert record(run_dir(tree))["verdict"] == "GATE: NOT RUN (1 collection error)"


@pytest.mark.parametrize("args", [("-k", "nothing_has_this_name"), ("-m", "writes")])
def test_zero_checks_selected_is_not_run_even_with_partial(tree: pytest.Pytester, args: tuple[str, ...]) -> None:
    result = run(tree, "--target", "t", "--partial", *args, "team_checks.py")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    result.stdout.fnmatch_lines(["*GATE: NOT RUN (no checks collected)*"])
    assert record(run_dir(tree))["exit_code"] == 5


# -- narrowed runs: INCOMPLETE, or PARTIAL PASS with --partial -----------------------------------------------

def test_a_narrowed_run_without_partial_is_incomplete_and_says_why(tree: pytest.Pytester) -> None:
    result = run(tree, "--target", "t", "-k", "not orphans", "team_checks.py")
    others = [cid for cid in CRITERIA if cid not in ("DB-06", "DB-07")]
    assert result.ret == 6
    result.stdout.fnmatch_lines([f"*GATE: INCOMPLETE - not verified: {', '.join(others)}*"])
    result.stdout.fnmatch_lines(["not verified (not selected: the run was narrowed to the paths given): DB-01, *",
                                 "not verified (1 check deselected): FILE-04"])
    directory = run_dir(tree)
    assert not_verified(directory) == others and record(directory)["partial"] is False
    assert record(directory)["criteria"]["FILE-04"] == {
        "verdict": "not run", "checks": {}, "reason": "1 check deselected", "title": "Orphaned files in the store"}


def test_partial_lets_it_pass_on_what_it_verified_and_says_partial_everywhere(tree: pytest.Pytester) -> None:
    # node ids (and so --deselect) are relative to the gate run's rootdir: as record.json and the report show
    root = rootdir(["team_checks.py"], [], tree.path)
    nodeid = f"{(tree.path / 'team_checks.py').relative_to(root)}::test_collections"
    result = run(tree, "--target", "t", "--partial", "--deselect", nodeid, "team_checks.py")
    assert result.ret == 0
    line = f"GATE: PARTIAL PASS (2/{len(CRITERIA)} criteria)"    # FILE-04 failed (minor), DB-06 passed
    result.stdout.fnmatch_lines([f"*{line}*"])
    directory = run_dir(tree)
    assert record(directory)["verdict"] == line and record(directory)["partial"] is True
    assert json.loads((directory / "manifest.json").read_text(encoding="utf-8"))["partial"] is True
    assert "partial: true" in (directory.parent / "index.html").read_text(encoding="utf-8")
    assert record(directory)["criteria"]["DB-07"]["reason"] == "1 check deselected"
    assert sorted((t["criterion"], t["verdict"]) for t in record(directory)["tests"]) == [
        ("DB-06", "pass"), ("FILE-04", "fail")]
    page = (directory / "report.html").read_text(encoding="utf-8")
    assert "Criteria (the catalogue" in page and "NOT RUN" in page and "partial run" in page


def test_a_run_stopped_early_by_x_has_not_verified_what_did_not_run(tree: pytest.Pytester) -> None:
    result = run(tree, "--target", "t", "--partial", "-x", "team_checks.py")
    directory = run_dir(tree)
    assert result.ret == 0 and record(directory)["verdict"] == f"GATE: PARTIAL PASS (1/{len(CRITERIA)} criteria)"
    reasons = {cid: c["reason"] for cid, c in record(directory)["criteria"].items() if cid in ("DB-06", "DB-07")}
    assert reasons == dict.fromkeys(("DB-06", "DB-07"), "1 check not run (the run stopped before them)")


def test_deselection_is_counted_under_xdist(tree: pytest.Pytester) -> None:
    result = run(tree, "--target", "t", "-n", "2", "-k", "not health", "team_checks.py")
    assert result.ret == 6
    criteria = record(run_dir(tree))["criteria"]
    assert (criteria["DB-06"]["verdict"], criteria["DB-06"]["reason"]) == ("not run", "1 check deselected")
    assert criteria["DB-07"]["verdict"] == "pass" and criteria["FILE-04"]["verdict"] == "fail"


def test_a_bundled_module_can_be_named_without_its_path(tree: pytest.Pytester) -> None:
    result = run(tree, "--target", "t", "test_secrets.py::test_least_privilege_user", "--collect-only", "-q")
    assert collected(result) == ["cutover_pytest/checks/test_secrets.py::test_least_privilege_user"]


def test_help_with_a_target_lists_the_suites_options(tree: pytest.Pytester) -> None:
    result = run(tree, "--target", "t", "--help")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*--checks=PATH*", "*--partial*"])


def test_a_check_without_its_criterion_is_refused_in_a_gate_run(tree: pytest.Pytester) -> None:
    tree.makepyfile(team_plain="def test_something():\n    assert False\n")
    result = run(tree, "--target", "t", "--checks", "team_plain.py")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "team_plain.py::test_something: a check needs its criterion" in result.stderr.str()
    assert "PASS" not in result.stdout.str()


def test_k_selects_the_checks_of_a_criterion_by_its_id(tree: pytest.Pytester) -> None:
    result = run(tree, "--target", "t", "--partial", "-k", "FILE-04 or DB-07", "team_checks.py")
    checks = {t["criterion"] for t in record(run_dir(tree))["tests"]}
    assert checks == {"FILE-04", "DB-07"}, result.stdout.str()[-2000:]
