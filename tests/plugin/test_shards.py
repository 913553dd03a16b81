"""--shard K/N and `cutover merge`, run for real in subprocesses: the shards of a run together give the verdict
and the criteria of the unsharded run; a missing or doubled shard gives INCOMPLETE (exit 6), a failure in any
shard fails the merged gate; the merged run is intact for verify-report, signed when asked."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.plugin.test_plugin import FAST_UNREACHABLE, run, team_tree

TARGETS = FAST_UNREACHABLE

CHECKS = """
import os
import pytest

@pytest.mark.criterion("DB-02")
@pytest.mark.parametrize("part", range(6))
def test_partition(part, record_facts):
    bad = str(part) == os.environ.get("CUTOVER_BAD_PART")
    missing = [f"obj{part}x"] if bad else []
    record_facts(cls="GameScore", partition=f"GameScore:p{part}", method="documents", source_docs=10,
                 target_docs=10 - len(missing), missingOnTarget=missing, extraOnTarget=[], content=[],
                 totals={"missing": len(missing), "extra": 0, "content": 0})
    assert not bad, f"partition {part} differs"

@pytest.mark.criterion("DB-06")
def test_health():
    pass

@pytest.mark.criterion("DB-07")
def test_collections():
    pass
"""


@pytest.fixture
def tree(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    return team_tree(pytester, monkeypatch, CHECKS, TARGETS, unset=("CUTOVER_BAD_PART",))


def gate(tree: pytest.Pytester, *args: str, reports: str = "reports") -> Path:
    run(tree, "--target", "t", "--reports-dir", reports, *args, "team_checks.py")
    (run_dir,) = [p for p in (tree.path / reports / "t").iterdir() if p.is_dir()]
    return run_dir


def shards(tree: pytest.Pytester, n: int) -> list[Path]:
    return [gate(tree, "--shard", f"{k}/{n}", reports=f"shard{k}") for k in range(1, n + 1)]


def cutover(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cutover.run.cli", *map(str, args)], capture_output=True,
                          text=True, timeout=60, check=False)


def record(run_dir: Path) -> dict:
    return json.loads((run_dir / "record.json").read_text())


def test_each_shard_runs_its_part_and_records_its_shard(tree: pytest.Pytester) -> None:
    result = run(tree, "--target", "t", "--shard", "2/2", "--reports-dir", "shown", "team_checks.py")
    result.stdout.fnmatch_lines(["cutover shard 2/2: 4 of 8 checks (plan sha256:*)"])
    runs = shards(tree, 2)
    plans = [record(r)["shard"] for r in runs]
    assert [(p["index"], p["count"]) for p in plans] == [(1, 2), (2, 2)]
    assert plans[0]["plan_digest"] == plans[1]["plan_digest"] and plans[0]["plan_total"] == 8
    ran = [{t["id"] for t in record(r)["tests"]} for r in runs]
    assert ran == [set(p["assigned"]) for p in plans] and not ran[0] & ran[1] and len(ran[0] | ran[1]) == 8
    assert all("PARTIAL PASS" in record(r)["verdict"] for r in runs)   # a shard alone never passes the gate


def test_merged_shards_give_the_unsharded_verdict_and_criteria_and_an_intact_run(tree: pytest.Pytester) -> None:
    whole = record(gate(tree, reports="whole"))
    out = cutover("merge", *shards(tree, 3), "--reports-dir", tree.path / "merged")
    merged = Path(out.stdout.strip().splitlines()[-1])           # the last line is the merged run's path
    assert out.returncode == whole["exit_code"] == 6, out.stdout + out.stderr
    assert record(merged)["verdict"] == whole["verdict"]
    assert {c: v["verdict"] for c, v in record(merged)["criteria"].items()} == \
        {c: v["verdict"] for c, v in whole["criteria"].items()}
    assert {t["id"] for t in record(merged)["tests"]} == {t["id"] for t in whole["tests"]}
    assert {f.name for f in merged.iterdir()} >= {"record.json", "junit.xml", "report.html", "manifest.json"}
    reached = record(merged)["reachability"]["by_shard"]   # what each shard saw, for the auditor
    assert set(reached) == {"1/3", "2/3", "3/3"} and all(reached.values()), reached
    assert set(record(merged)["mongo_commands"]["by_shard"]) == {"1/3", "2/3", "3/3"}
    assert cutover("verify-report", merged).returncode == 0


def test_a_missing_shard_leaves_the_merged_gate_incomplete(tree: pytest.Pytester) -> None:
    runs = shards(tree, 3)
    out = cutover("merge", runs[0], runs[2], "--reports-dir", tree.path / "merged", "--partial")
    assert out.returncode == 6, out.stdout + out.stderr
    assert "coverage: shard 2/3 missing" in out.stdout and "GATE: INCOMPLETE" in out.stdout
    merged = record(Path(out.stdout.strip().splitlines()[-1]))
    assert merged["criteria"]["DB-02"]["verdict"] == "not run"
    assert "shard 2/3 missing" in merged["criteria"]["DB-02"]["reason"]


def test_a_shard_given_twice_leaves_the_merged_gate_incomplete(tree: pytest.Pytester) -> None:
    runs = shards(tree, 2)
    out = cutover("merge", runs[0], runs[1], runs[1], "--reports-dir", tree.path / "merged", "--partial")
    assert out.returncode == 6 and "coverage: shard 2/2 given 2 times" in out.stdout, out.stdout + out.stderr


def test_a_failure_in_one_shard_fails_the_merged_gate(tree: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUTOVER_BAD_PART", "4")
    out = cutover("merge", *shards(tree, 2), "--reports-dir", tree.path / "merged")
    assert out.returncode == 1 and "GATE: FAIL - 1 blocker" in out.stdout, out.stdout + out.stderr
    merged = Path(out.stdout.splitlines()[-1])
    failing = [t for t in record(merged)["tests"] if t["verdict"] == "fail"]
    assert [t["label"] for t in failing] == ["DB-02[4]"] and "partition 4 differs" in failing[0]["message"]
    # the merged page reads like a gate run's: banner, failing checks, evidence, remediation linked and written
    page = (merged / "report.html").read_text()
    assert 'id="cutover-verdict"' in page and "GATE: FAIL - 1 blocker" in page
    assert "Failing checks" in page and "Criteria (the catalogue" in page
    assert 'data-criterion="DB-02"' in page and "_id missing on the target (1): obj4x" in page
    assert record(merged)["remediation"] == ["remediation/DB-02-ids.json"]
    assert 'href="remediation/DB-02-ids.json"' in page
    ids = json.loads((merged / "remediation" / "DB-02-ids.json").read_text())
    assert ids["classes"]["GameScore"]["missing"] == ["obj4x"]
    assert cutover("verify-report", merged).returncode == 0


def test_a_tampered_shard_or_shards_of_another_gate_are_refused(tree: pytest.Pytester) -> None:
    runs = shards(tree, 2)
    other = gate(tree, "--shard", "1/3", reports="other")
    assert cutover("merge", runs[0], other, "--reports-dir", tree.path / "m").returncode == 4
    (runs[1] / "junit.xml").write_text("<testsuites/>")
    out = cutover("merge", *runs, "--reports-dir", tree.path / "m")
    assert out.returncode == 4 and "not intact" in out.stderr


def test_signed_shards_are_checked_and_the_merge_is_signed(tree: pytest.Pytester) -> None:
    assert cutover("keygen", tree.path / "keys").returncode == 0
    key = tree.path / "keys" / "cutover.key"
    runs = [gate(tree, "--shard", f"{k}/2", "--sign-key", str(key), reports=f"s{k}") for k in (1, 2)]
    out = cutover("merge", *runs, "--reports-dir", tree.path / "merged", "--sign-key", key)
    assert "signatures checked" in out.stdout, out.stdout + out.stderr
    merged = Path(out.stdout.splitlines()[-1])
    assert cutover("verify-report", merged, "--key", tree.path / "keys" / "cutover.pub").returncode == 0
    (runs[0] / "manifest.sig").write_bytes(b"0" * 64)
    assert cutover("merge", *runs, "--reports-dir", tree.path / "m2", "--sign-key", key).returncode == 4


def test_a_malformed_shard_is_a_usage_error(tree: pytest.Pytester) -> None:
    result = run(tree, "--target", "t", "--shard", "3/2", "team_checks.py")
    assert result.ret == 4
    assert not (tree.path / "reports").exists()


def test_a_shard_under_xdist_runs_the_same_checks_as_serially(tree: pytest.Pytester) -> None:
    serial = record(gate(tree, "--shard", "2/3", reports="serial"))
    parallel = record(gate(tree, "--shard", "2/3", "-n", "2", reports="parallel"))
    assert parallel["shard"] == serial["shard"]
    assert {t["id"]: t["outcome"] for t in parallel["tests"]} == {t["id"]: t["outcome"] for t in serial["tests"]}
