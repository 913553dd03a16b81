"""Shards against the sandbox's real servers: the bundled catalogue as 2 shards, merged, gives the serial run's
tests with their outcomes and a passing gate; DB-02's partitions and the per-class checks are spread over both
shards; without one shard the merged gate is INCOMPLETE."""
from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cutover.sandbox.stack import Sandbox

pytestmark = pytest.mark.sandbox
RunResult = Any   # tests/scenarios/conftest.py's RunResult


def merge(*run_dirs: Path, reports: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cutover.run.cli", "merge", *map(str, run_dirs),
                           "--reports-dir", str(reports)], capture_output=True, text=True, timeout=120, check=False)


def outcomes(record: dict[str, Any]) -> dict[str, str]:
    return {t["id"]: t.get("outcome", "") for t in record["tests"]}


def test_two_merged_shards_give_the_serial_run(sandbox: Sandbox, run_checks: Callable[..., RunResult],
                                                tmp_path: Path) -> None:
    target = sandbox.target("shards")
    serial = run_checks(target)
    shards = [run_checks(target, "--shard", f"{k}/2") for k in (1, 2)]
    assert serial.exit_code == 0, serial.failing()
    per_shard = [{t["label"].split("[")[0] for t in s.record["tests"]} for s in shards]
    assert "DB-02" in per_shard[0] and "DB-02" in per_shard[1], per_shard   # partitions on both machines
    out = merge(*(s.run_dir for s in shards), reports=tmp_path / "merged")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "GATE: PASS" in out.stdout
    merged = json.loads((Path(out.stdout.splitlines()[-1]) / "record.json").read_text())
    assert outcomes(merged) == outcomes(serial.record)
    incomplete = merge(shards[0].run_dir, reports=tmp_path / "gap")
    assert incomplete.returncode == 6 and "GATE: INCOMPLETE" in incomplete.stdout, incomplete.stdout
