"""A newcomer's worst cases, run for real in a subprocess (issue 29; the fuzzing of every bad value runs
in-process in tests/unit/test_first_contact.py):

- an empty ``--target`` or ``CUTOVER_TARGET`` in a repository with tests of its own is a usage error, never a
  green run of those tests;
- a waiver that can match nothing and a ``--checks`` path that does not exist stop the run before any component
  is reached (a black hole counts the connections it is offered: none);
- a target where every component is unreachable: the preflight's line survives ``-q``, the gate line says
  first that nothing could be reached and counts criteria, a valid DB-06 waiver leaves DB-06's errors errors
  (terminal, record.json, HTML), and no message shows an argument's name ("could not list cls").
"""
from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from cutover.run.criteria import CRITERIA
from tests.inner_runs import UNUSED_PLUGINS
from tests.plugin.test_plugin import record, run_dir
from tests.stubs import BlackHole

OWN_TEST = "def test_the_repository_s_own():\n    pass\n"
WAIVER = ('[[waivers]]\ncriterion = "DB-06"\n{test}justification = "lag during the nightly backup, OPS-12"\n'
          "expires = 2099-12-31\n")


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *UNUSED_PLUGINS, *args, timeout=300)


def error_lines(result: pytest.RunResult) -> list[str]:
    return [line for line in result.outlines + result.errlines if line.strip()]


@pytest.fixture
def tree(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    for var in ("CUTOVER_TARGET", "CUTOVER_TARGETS_FILE", "CUTOVER_WAIVERS"):
        monkeypatch.delenv(var, raising=False)
    pytester.makepyfile(test_own=OWN_TEST)
    return pytester


@pytest.mark.parametrize("how", ["option", "environment"])
def test_an_empty_target_never_runs_the_repository_s_own_tests(tree: pytest.Pytester, how: str,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    if how == "environment":
        monkeypatch.setenv("CUTOVER_TARGET", "")
    result = run(tree, *(["--target", ""] if how == "option" else []))
    assert result.ret == 4, result.stdout.str()
    (line,) = error_lines(result)
    assert line.startswith("ERROR: ") and ("--target ''" in line or "CUTOVER_TARGET is set but empty" in line)
    assert "passed" not in result.stdout.str()


@pytest.fixture
def hole() -> Iterator[BlackHole]:
    server = BlackHole()
    yield server
    server.close()


def held_target(port: int) -> str:
    uri = f"mongodb://127.0.0.1:{port}/app"
    return (f'[targets.t]\nsource = {{ uri = "{uri}" }}\ndatabase = {{ uri = "{uri}" }}\n'
            "thresholds = { timeout_s = 20 }\n")


@pytest.mark.parametrize("mistake", ["waiver", "checks"])
def test_a_dead_waiver_or_checks_path_stops_the_run_before_any_component_is_reached(
        tree: pytest.Pytester, hole: BlackHole, mistake: str) -> None:
    tree.makefile(".toml", targets=held_target(hole.port))
    tree.path.joinpath("waivers.toml").write_text(WAIVER.format(test='test = "GameScore.*"\n'), encoding="utf-8")
    args = ["--waivers", "waivers.toml"] if mistake == "waiver" else ["--checks", "team-checks/"]
    if mistake == "checks":
        tree.path.joinpath("waivers.toml").unlink()
    result = run(tree, "--target", "t", *args)
    (line,) = error_lines(result)
    assert result.ret == 4 and hole.accepted == 0, result.stdout.str()   # the preflight would have connected
    expected = ("waivers[0].test: 'GameScore.*' matches no check of DB-06" if mistake == "waiver"
                else "ERROR: --checks team-checks/: no such file or directory")
    assert expected in line and "preflight" not in result.stdout.str()


def dead_target() -> str:
    """Seven components on closed local ports: every one refuses at once."""
    return """
[targets.t]
source = { uri = "mongodb://127.0.0.1:1/src" }
database = { uri = "mongodb://127.0.0.1:2/app" }
thresholds = { timeout_s = 2 }
[targets.t.parse]
server_url = "http://127.0.0.1:3/parse"
public_url = "http://127.0.0.1:4/parse"
app_id = "app"
master_key = "${MASTER_KEY}"
[targets.t.source_parse]
server_url = "http://127.0.0.1:5/parse"
app_id = "app"
master_key = "${MASTER_KEY}"
[targets.t.files]
bucket = "app-files"
source_bucket = "legacy-files"
endpoint_url = "http://127.0.0.1:6"
source_endpoint_url = "http://127.0.0.1:7"
access_key_id = "AKIAEXAMPLE"
secret_access_key = "${S3_SECRET}"
"""


def test_a_run_that_reached_nothing_says_so(tree: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MASTER_KEY", "mk-secret-1")
    monkeypatch.setenv("S3_SECRET", "s3-secret-2")
    tree.makefile(".toml", targets=dead_target())
    tree.path.joinpath("waivers.toml").write_text(WAIVER.format(test=""), encoding="utf-8")
    result = run(tree, "--target", "t", "-q", "--reports-dir", "reports")
    output = result.stdout.str()
    assert result.ret == 1, output[-3000:]
    assert "cutover preflight: 7 of 7 components do not answer" in output   # under -q too
    gate = next(line for line in result.outlines if "GATE:" in line)
    assert ("GATE: FAIL - not verified: 7 of 7 components unreachable (source database, target database, Parse "
            "Server, Parse Server public URL, source Parse Server, file store, source file store); ") in gate
    assert "blockers (DB-01, DB-02, DB-03, DB-04, ...)" in gate and "major" in gate
    assert "could not list cls" not in output and "could not list unit" not in output
    assert "could not list the classes" in output
    assert "waiver not applied to 6 errors (DB-06[" in output
    directory = run_dir(tree)
    found = record(directory)
    db06 = [t for t in found["tests"] if t["criterion"] == "DB-06" and t.get("outcome") == "error"]
    assert db06 and all(t["verdict"] == "error" and "waiver_refused" in t and "waiver" not in t for t in db06)
    assert found["criteria"]["DB-06"]["verdict"] == "error" and found["verdict"] == gate.strip("= ")
    failing = sum(1 for c in found["criteria"].values() if c["verdict"] in ("fail", "error"))
    assert failing <= len(CRITERIA) and "could not list cls" not in json.dumps(found)
    page = (directory / "report.html").read_text(encoding="utf-8")
    assert "NOT applied to 6 errors (could not verify)" in page
