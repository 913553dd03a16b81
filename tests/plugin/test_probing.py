"""The probe phase around the checks (cutover_pytest.probing), run for real in a subprocess (pytester): the
sweep every run starts with is reported in the terminal, record.json and report.html, also when it cannot
run; --read-only only surveys; --collect-only touches nothing; side effects the checks recorded are summed."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cutover.errors import TargetUnreachable
from cutover.rest.client import ParseClient
from cutover.rest.phase import ProbePhase
from cutover.rest.side_effects import LEFT, NEW_CLASS
from cutover.rest.sweep import Sweep
from cutover.run.check_record import CheckRecord
from cutover_pytest import probing
from tests.inner_runs import UNUSED_PLUGINS

TARGETS = """
[targets.t]
source = { uri = "mongodb://127.0.0.1:1/src" }
database = { uri = "mongodb://127.0.0.1:1/dst" }
probe_grace_s = 120

[targets.t.parse]
server_url = "http://127.0.0.1:1/parse"
app_id = "app"
master_key = "mk-1234567890"

[targets.t.thresholds]
timeout_s = 0.5
"""

CHECKS = """
import pytest

@pytest.mark.criterion("API-01")
def test_nothing(target):
    assert target.probe_grace_s == 120
"""


@pytest.fixture
def tree(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.delenv("CUTOVER_TARGET", raising=False)
    pytester.makefile(".toml", targets=TARGETS)
    pytester.makepyfile(test_checks=CHECKS)
    return pytester


def run(pytester: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, dict[str, Any], str]:
    quiet = ("-p", "no:cacheprovider", *UNUSED_PLUGINS)
    # this file's one check, not the bundled catalogue: a narrowed run, judged with --partial
    result = pytester.runpytest_subprocess(*quiet, "test_checks.py", "--partial", "--reports-dir", "reports",
                                           "--target", "t", *args)
    runs = [p for p in (pytester.path / "reports" / "t").iterdir() if p.is_dir()] if (
        pytester.path / "reports" / "t").exists() else []
    if not runs:
        return result, {}, ""
    (only,) = runs
    record = json.loads((only / "record.json").read_text(encoding="utf-8"))
    return result, record, (only / "report.html").read_text(encoding="utf-8")


def test_a_sweep_that_cannot_run_says_why_everywhere(tree: pytest.Pytester) -> None:
    result, record, page = run(tree)
    assert result.ret == 0
    sweep = record["probes"]["sweep"]
    assert sweep["grace_s"] == 120 and "unreachable" in sweep["error"] and not sweep["read_only"]
    result.stdout.fnmatch_lines(["cutover probe sweep (grace 120 s): could not sweep: Parse Server *unreachable*"])
    assert 'id="cutover-probes"' in page and "could not sweep" in page
    assert record["probes"]["side_effects"] == []


def test_read_only_only_surveys(tree: pytest.Pytester) -> None:
    result, record, _ = run(tree, "--read-only")
    assert record["probes"]["sweep"]["read_only"] is True
    result.stdout.fnmatch_lines(["cutover probe sweep (grace 120 s): could not sweep: *"])


def test_collect_only_touches_nothing(tree: pytest.Pytester) -> None:
    result, record, _ = run(tree, "--collect-only")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED and "probe sweep" not in result.stdout.str()
    assert record.get("probes", {}).get("sweep") is None


def test_side_effects_of_every_check_are_summed_into_one_summary() -> None:
    def record(name: str, facts: dict[str, Any]) -> CheckRecord:
        return CheckRecord(f"t.py::{name}", "API-06", "API-06", "blocker", facts=facts)

    def rows(count: int) -> dict[str, Any]:
        return {"probe_side_effects": [{"class": "Profile", "count": count, "link": NEW_CLASS, "action": LEFT}]}

    records = [record("a", rows(1)), record("b", rows(2)), record("c", {"status": 200}), record("d", {})]
    phase = ProbePhase("CutoverProbe")
    phase.sweep = Sweep(60, {"objects": 1})
    assert probing.side_effect_rows(records) == [{"class": "Profile", "count": 3, "link": NEW_CLASS, "action": LEFT}]
    lines = probing.summary_lines(phase, records)
    assert lines[0] == "probe sweep (grace 60 s): removed 1 objects; 0 fresh probes of other runs left alone"
    assert lines[1].endswith(f"3 Profile ({NEW_CLASS}): {LEFT}")
    assert probing.probe_record(phase, records)["sweep"]["removed"] == {"objects": 1}


def test_close_reports_what_it_could_not_remove(tmp_path: Path) -> None:
    """A probe run whose server went away: close() says so and forgets it (the next run's sweep removes it)."""
    class Gone(ParseClient):
        def _raw(self, method: str, url: str, **kwargs: Any) -> Any:
            raise TargetUnreachable("Parse Server http://127.0.0.1:1 unreachable")

    from cutover.model import ParseServer

    phase = ProbePhase("CutoverProbe")
    run = phase.open(Gone(ParseServer(server_url="http://127.0.0.1:1/parse", app_id="a")))
    run.objects.append("abc")
    outcome = phase.close()
    assert outcome.left == (f"probes of run {phase.run_id}: Parse Server http://127.0.0.1:1 unreachable",)
    assert phase.outstanding() == [] and phase.close().left == ()
