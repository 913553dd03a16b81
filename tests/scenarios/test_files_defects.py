"""Files scenarios: the clean sandbox passes FILE-01..04; each planted defect fails naming object and field.

Forks get their own database and bucket, but the sandbox's target Parse Server keeps serving the original
bucket, so a fork's files are checked with S3 direct access on its own bucket (made publicly readable, the
way Parse's adapter publishes files with directAccess): the URLs then reach the fork's objects.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from cutover.model import Target
from cutover.sandbox.migrate import copy_bucket
from cutover.sandbox.s3_server import create_bucket
from cutover.sandbox.stack import REGION, SOURCE_BUCKET, Sandbox
from cutover_testing.defects import DEFECTS, Handles

FILE_TESTS = ("-k", "test_referenced_files_resolve or test_no_parse_hosted_files or test_store_configuration "
                    "or test_no_orphaned_files")


def _direct(target: Target, **changes: Any) -> Target:
    assert target.files is not None
    return dataclasses.replace(target, files=dataclasses.replace(target.files, direct_access=True, **changes))


def fork(sandbox: Sandbox, label: str) -> tuple[Target, Handles]:
    """A migrated copy with its own bucket served by direct access, and the handles to plant in it."""
    target = sandbox.fork_target(label, public_read=True)
    assert target.files is not None
    target_db = sandbox.db(target.database.uri)
    handles = Handles(source_db=sandbox.db(sandbox.ep.source_uri), target_db=target_db, s3=sandbox.s3,
                      source_bucket=SOURCE_BUCKET, target_bucket=target.files.bucket, gridfs_db=target_db)
    return _direct(target), handles


def _files_failing(result: Any) -> dict[str, str]:
    return {k: v for k, v in result.failing().items() if k.startswith("FILE-")}


def test_clean_sandbox_passes_every_files_check(sandbox: Sandbox, run_checks: Callable[..., Any]) -> None:
    result = run_checks(sandbox.target(), *FILE_TESTS)
    files = {k: v for k, v in result.outcomes.items() if k.startswith("FILE-")}
    assert {k.split("[")[0] for k in files} == {"FILE-01", "FILE-02", "FILE-03", "FILE-04"}, result.output
    assert "FILE-01[Document.scan]" in files and "FILE-03[gridfs]" in files
    assert all(v == "passed" for v in files.values()), _files_failing(result)


# Defects planted together on one fork (distinct objects): each must fail its label naming object, field and
# what is wrong; nothing beyond the group's labels (and FILE-04's orphans, which a damaged store makes) may fail.
GROUPS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "unresolved": (("deleted_s3_object", "FILE-01[GameScore.avatar]", "HTTP"),
                   ("truncated_s3_object", "FILE-01[GameScore.avatar]", "empty (0 bytes)"),
                   ("nested_file_missing", "FILE-01[GameScore.attachments]", "attachments.0")),
    "legacy": (("legacy_tfss_reference", "FILE-02[GameScore]", "tfss-"),),
    # a chunk lost from a GridFS file also makes the referencing object's file unresolvable
    "gridfs": (("deleted_gridfs_chunk", "FILE-03[gridfs]", "chunks"),
               ("deleted_gridfs_chunk", "FILE-01[Document.scan]", "scan")),
}


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_planted_defects_fail_naming_object_and_field(sandbox: Sandbox, run_checks: Callable[..., Any],
                                                      group: str) -> None:
    target, handles = fork(sandbox, f"files-{group}")
    planted = {defect: DEFECTS[defect].plant(handles) for defect in dict.fromkeys(d for d, _, _ in GROUPS[group])}
    result = run_checks(target, *FILE_TESTS)
    failing = _files_failing(result)
    for defect, label, extra in GROUPS[group]:
        assert label in failing, f"{defect}: {label} did not fail: {failing or result.output[-3000:]}"
        message, p = failing[label], planted[defect]
        assert p.field and p.field in message and extra in message, (defect, message)
        assert all(oid in message for oid in p.object_ids), (defect, message)
    allowed = {label for _, label, _ in GROUPS[group]} | {"FILE-04"}
    assert set(failing) <= allowed, f"unexpected failures: {set(failing) - allowed}"
    if "legacy_tfss_reference" in planted:   # the avatar it replaced stays in the bucket, referenced by nothing
        orphan = planted["legacy_tfss_reference"].detail.removeprefix("was ")
        assert orphan in failing.get("FILE-04", ""), f"FILE-04 did not name the orphan {orphan}: {failing}"


def _own_bucket(sandbox: Sandbox, base: Target, name: str, region: str) -> Target:
    create_bucket(sandbox.s3, name, region, public_read=True)
    copy_bucket(sandbox.s3, SOURCE_BUCKET, sandbox.s3, name)
    return _direct(base, bucket=name)


def test_bucket_in_the_wrong_region_fails_file_03(sandbox: Sandbox, run_checks: Callable[..., Any]) -> None:
    base, _ = fork(sandbox, "region")
    name = f"files-wrong-region-{sandbox._suffix}"
    result = run_checks(_own_bucket(sandbox, base, name, "us-west-2"), *FILE_TESTS)
    failing = _files_failing(result)
    assert set(failing) == {f"FILE-03[s3:{name}]"}, failing
    assert f"is in us-west-2, declared {REGION}" in failing[f"FILE-03[s3:{name}]"]


def test_dotted_bucket_with_direct_access_fails_file_03(sandbox: Sandbox, run_checks: Callable[..., Any]) -> None:
    base, _ = fork(sandbox, "dotted")
    name = f"files.dotted.{sandbox._suffix}"
    result = run_checks(_own_bucket(sandbox, base, name, REGION), *FILE_TESTS)
    failing = _files_failing(result)
    assert set(failing) == {f"FILE-03[s3:{name}]"}, failing
    assert "has a '.' in its name" in failing[f"FILE-03[s3:{name}]"]
