"""Fail fast, end to end: every check of the catalogue against a target whose every component is black-holed,
and a target whose database refuses the password; ``pytest --target`` on the repository's checks in a
subprocess, the outcomes read from the archived record.

A black hole accepts TCP connections and never answers. Each component gets its own (the two databases, the
Parse Server and its public https URL, the source Parse Server, the S3 endpoint over https), so the record
shows every component found dead by the preflight, and each check names the cause of its own component.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.inner_runs import UNUSED_PLUGINS
from tests.stubs import BlackHole, MongoRefusingAuth

REPO = Path(__file__).resolve().parents[2]
TIMEOUT_S = 10.0                       # the figure: 217-349 s with timeout_s = 10 before
BOUND_S = 3 * TIMEOUT_S + 30
NETWORK_FREE = {"TLS-03"}              # judged from the configuration alone (production URL is https)
NOTHING_DECLARED = ("not applicable: ", "no app_source_dir declared")   # nothing of that kind declared


@pytest.fixture
def holes() -> Iterator[list[BlackHole]]:
    started = [BlackHole() for _ in range(6)]
    yield started
    for hole in started:
        hole.close()


def black_holed(ports: list[int]) -> str:
    src, dst, parse, public, old, s3 = ports
    return f"""
[targets.hole]
production = true
source = {{ kind = "mongodb", uri = "mongodb://127.0.0.1:{src}/app" }}
database = {{ uri = "mongodb://app:${{DB_PASSWORD}}@127.0.0.1:{dst}/app?tls=true" }}
thresholds = {{ timeout_s = {TIMEOUT_S} }}
queries = [{{ class = "GameScore", where = {{ playerName = "x" }} }}]

[targets.hole.parse]
server_url = "http://127.0.0.1:{parse}/parse"
public_url = "https://127.0.0.1:{public}/parse"
app_id = "app"
master_key = "${{MASTER_KEY}}"

[targets.hole.source_parse]
server_url = "http://127.0.0.1:{old}/parse"
app_id = "app"
master_key = "${{MASTER_KEY}}"

[targets.hole.files]
adapter = "s3"
bucket = "files"
region = "eu-west-1"
endpoint_url = "https://127.0.0.1:{s3}"
access_key_id = "AKIAHOLE"
secret_access_key = "${{S3_SECRET}}"

[targets.hole.regions]
app_server = "aws:eu-west-1"
database = "aws:eu-west-1"
file_store = "aws:eu-west-1"
clients = "internet"
"""


SECRETS = {"DB_PASSWORD": "db-pa55word-value", "MASTER_KEY": "master-key-value", "S3_SECRET": "s3-secret-value"}


def run_checks(tmp_path: Path, targets: str, name: str, timeout: float) -> tuple[subprocess.CompletedProcess[str],
                                                                                  float]:
    (tmp_path / "targets.toml").write_text(targets, encoding="utf-8")
    cmd = [sys.executable, "-m", "pytest", "--target", name,
           f"--targets-file={tmp_path / 'targets.toml'}", f"--reports-dir={tmp_path / 'reports'}", "-q",
           "-p", "no:randomly", *UNUSED_PLUGINS]
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=REPO, env={**os.environ, **SECRETS}, capture_output=True, text=True,
                          timeout=timeout, check=False)
    return proc, time.monotonic() - started


def the_record(tmp_path: Path, name: str) -> dict[str, Any]:
    (run_dir,) = (p for p in (tmp_path / "reports" / name).iterdir() if p.is_dir())
    return dict(json.loads((run_dir / "record.json").read_text(encoding="utf-8")))


def test_a_black_holed_target_finishes_within_the_bound_every_check_naming_its_cause(
        tmp_path: Path, holes: list[BlackHole]) -> None:
    proc, took = run_checks(tmp_path, black_holed([h.port for h in holes]), "hole", timeout=BOUND_S * 3)
    output = proc.stdout + proc.stderr
    assert took < BOUND_S, f"{took:.0f} s, bound {BOUND_S:.0f} s (3 x timeout_s + 30 s)\n{output[-3000:]}"
    assert proc.returncode == 1 and "GATE: FAIL" in output, output[-3000:]
    record = the_record(tmp_path, "hole")
    preflight = record["reachability"]["preflight"]["components"]
    assert len(preflight) == 9 and not any(c["reachable"] for c in preflight.values()), preflight
    causes = {c["cause"] for c in preflight.values()}
    assert all("did not answer in time" in c or "no TLS answer" in c for c in causes), causes
    for test in record["tests"]:
        label, outcome, message = test["label"], test["outcome"], test.get("message", "")
        if label in NETWORK_FREE or (outcome == "skipped" and message.startswith(NOTHING_DECLARED)):
            continue
        assert outcome == "error", (label, outcome, message)
        assert message.startswith("could not verify: ") and "\n" not in message, (label, message)
        named = [c for c in causes if c in message]
        assert len(named) == 1 and message.count(named[0]) == 1, (label, message)
    assert sum(1 for t in record["tests"] if t["outcome"] == "error") >= 30
    assert not any(value in output + json.dumps(record) for value in SECRETS.values())
    assert max(h.accepted for h in holes) <= 6, [h.accepted for h in holes]   # no check asked again


def test_a_database_refusing_the_password_is_one_line_and_exit_4(tmp_path: Path) -> None:
    stub = MongoRefusingAuth()
    try:
        targets = f"""
[targets.auth]
source = {{ kind = "export", export_dir = "{tmp_path}" }}
database = {{ uri = "mongodb://migrator:${{DB_PASSWORD}}@127.0.0.1:{stub.port}/app?authSource=admin" }}
thresholds = {{ timeout_s = 5 }}
"""
        proc, took = run_checks(tmp_path, targets, "auth", timeout=120)
    finally:
        stub.close()
    errors = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
    assert proc.returncode == 4, errors
    assert errors == [f"ERROR: target database mongodb://127.0.0.1:{stub.port}: authentication failed for user "
                      "'migrator' (auth source 'admin'); check the user name and password of its URI in the "
                      "targets file"], errors
    assert took < 60
