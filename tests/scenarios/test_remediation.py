"""Remediation files proven end to end on the sandbox: a planted defect's file names what is wrong, is linked
from report.html and listed in the manifest, and doing what it says (running the createIndex commands,
copying the listed objects) makes the criterion pass again on the next run."""
from __future__ import annotations

import csv
import dataclasses
import json
import re
from collections.abc import Callable
from typing import Any

from cutover.model import Target
from cutover.sandbox.stack import SOURCE_BUCKET, Sandbox
from cutover_testing.defects import DEFECTS, Handles
from tests.scenarios.test_transport_defects import front, parse_port, with_public_front  # noqa: F401 (fixture)

Checks = Callable[..., Any]
COMMAND = re.compile(r"^(?:// )?db\.getCollection\((\".*?\")\)\.(createIndex|dropIndex)\((.*)\);$")


def _fork(sandbox: Sandbox, label: str) -> tuple[Target, Handles]:
    target = dataclasses.replace(sandbox.fork_target(label), cloud_functions=())
    handles = Handles(source_db=sandbox.db(sandbox.ep.source_uri), target_db=sandbox.db(target.database.uri),
                      s3=sandbox.s3, source_bucket=SOURCE_BUCKET,
                      target_bucket=target.files.bucket if target.files else "")
    return target, handles


def run_index_script(script: str, db: Any) -> int:
    """What an operator does with the script: run its commands, the commented drop-and-create ones included."""
    ran = 0
    for line in script.splitlines():
        match = COMMAND.match(line)
        if not match:
            continue
        coll = db[json.loads(match[1])]
        if match[2] == "dropIndex":
            coll.drop_index(json.loads(match[3]))
        else:
            decoder = json.JSONDecoder()
            key, end = decoder.raw_decode(match[3])
            options, _ = decoder.raw_decode(match[3][end:].lstrip(", "))
            coll.create_index(list(key.items()), **options)
        ran += 1
    return ran


def _failing(result: Any, criterion: str) -> list[str]:
    return [t["label"] for t in result.record["tests"]
            if t["criterion"] == criterion and t["outcome"] in ("failed", "error")]


def _assert_archived(result: Any, name: str) -> str:
    """The file exists, the record and the manifest list it, report.html links it; returns its text."""
    run_dir = result.run_dir
    assert result.record["remediation"] == [name], result.record["remediation"]
    assert name in json.loads((run_dir / "manifest.json").read_text())["files"]
    page = (run_dir / "report.html").read_text()
    assert f'href="{name}"' in page, "report.html does not link the remediation file"
    assert "cutover-evidence" in page and "def test_" not in page, "evidence, not the check's source code"
    return (run_dir / name).read_text()


def test_db03_script_gives_the_target_the_source_indexes(sandbox: Sandbox, run_checks: Checks) -> None:
    """A dropped index (GameScore) and one recreated with another collation (Player: drop and create) together."""
    target, handles = _fork(sandbox, "fix_indexes")
    planted = [DEFECTS[d].plant(handles) for d in ("dropped_index", "index_other_collation")]
    before = run_checks(target, "-k", "DB-03", only=("test_indexes.py",))
    assert sorted(_failing(before, "DB-03")) == sorted(f"DB-03[{p.collection}]" for p in planted), \
        before.output[-3000:]
    script = _assert_archived(before, "remediation/DB-03-create-indexes.js")
    for p in planted:
        assert p.index and f'"name": "{p.index}"' in script, (p.defect, script)
    assert run_index_script(script, handles.target_db) >= len(planted)
    after = run_checks(target, "-k", "DB-03", only=("test_indexes.py",))
    assert not _failing(after, "DB-03"), after.failing()
    assert not (after.run_dir / "remediation").exists()


def _direct_access_fork(sandbox: Sandbox, label: str) -> tuple[Target, Handles]:
    """The sandbox's Parse Server serves the original bucket: a fork's files are reached by direct access on
    its own, publicly readable bucket (as in test_files_defects.py)."""
    target = sandbox.fork_target(label, public_read=True)
    assert target.files is not None
    handles = Handles(source_db=sandbox.db(sandbox.ep.source_uri), target_db=sandbox.db(target.database.uri),
                      s3=sandbox.s3, source_bucket=SOURCE_BUCKET, target_bucket=target.files.bucket)
    return dataclasses.replace(target, files=dataclasses.replace(target.files, direct_access=True)), handles


def test_file01_csv_lists_the_objects_a_copy_job_restores(sandbox: Sandbox, run_checks: Checks) -> None:
    target, handles = _direct_access_fork(sandbox, "fix-deleted-s3")
    planted = DEFECTS["deleted_s3_object"].plant(handles)
    before = run_checks(target, "-k", "FILE-01", only=("test_files.py",))
    assert _failing(before, "FILE-01") == ["FILE-01[GameScore.avatar]"], before.output[-3000:]
    rows = list(csv.DictReader(_assert_archived(before, "remediation/FILE-01-unresolved-files.csv").splitlines()))
    assert [(r["class"], r["objectId"], r["name"]) for r in rows] == [
        ("GameScore", str(planted.object_ids[0]), planted.file)]
    for row in rows:   # the copy job: from the source bucket, by name
        handles.s3.copy_object(Bucket=handles.target_bucket, Key=row["name"],
                               CopySource={"Bucket": SOURCE_BUCKET, "Key": row["name"]})
    after = run_checks(target, "-k", "FILE-01", only=("test_files.py",))
    assert not _failing(after, "FILE-01"), after.failing()


def test_tls02_says_which_certificate_to_renew_and_by_when(sandbox: Sandbox, front: Callable[..., int],  # noqa: F811
                                                           run_checks: Checks) -> None:
    port = front("expiring", parse_port(sandbox))
    result = run_checks(with_public_front(sandbox, "fix-tls-expiring", port), "-k", "TLS-02",
                        only=("test_transport.py",))
    assert _failing(result, "TLS-02") == [f"TLS-02[clients->app_server@localhost:{port}]"], result.output[-3000:]
    text = _assert_archived(result, "remediation/TLS-02-renewals.txt")
    (facts,) = [t["facts"] for t in result.record["tests"] if t["outcome"] == "failed"]
    assert f"localhost:{port} (clients->app_server)" in text
    assert f"subject: {facts['subject']}" in text and f"issuer:  {facts['issuer']}" in text
    assert f"expires: {facts['not_after']} ({facts['days_left']} days left)" in text
    assert "renew:   now (it needed renewing by" in text
