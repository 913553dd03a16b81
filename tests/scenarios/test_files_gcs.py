"""FILE-01..04 on Google Cloud Storage, end to end against the fake-gcs-server emulator.

The source bucket (location US) and the target buckets (EUROPE-WEST1) live on two emulator servers (a
location is one setting of a whole server). The source holds the sandbox's source files; each test copies
them into its own target bucket (objects made public, as the adapter does under directAccess), forks the
database and reaches the files by direct access (``base_url`` points the adapter's storage.googleapis.com
origin at the emulator). Digests come from the listings (md5Hash/crc32c); public read from the ACLs.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from cutover.model import Files, Target
from cutover.sandbox.gcs_client import GCSClient, copy_bucket
from cutover.sandbox.gcs_server import gcs_endpoint, gcs_service
from cutover.sandbox.process import free_port, start_all, stop_all
from cutover.sandbox.stack import SOURCE_BUCKET, Sandbox
from tests.inner_runs import UNUSED_PLUGINS

SOURCE_GCS_BUCKET = "parse-legacy-gcs"
TARGET_LOCATION = "EUROPE-WEST1"
FILE_TESTS = ("-k", "test_referenced_files_resolve or test_no_parse_hosted_files or test_store_configuration "
                    "or test_no_orphaned_files")


@dataclass(frozen=True)
class Gcs:
    source: GCSClient
    target: GCSClient


@pytest.fixture(scope="module")
def gcs(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gcs]:
    logs = tmp_path_factory.mktemp("gcs-logs")
    ports = free_port(), free_port()
    services = [gcs_service(ports[0], logs / "gcs-source.log", "US"),
                gcs_service(ports[1], logs / "gcs-target.log", TARGET_LOCATION)]
    start_all(services)
    pair = Gcs(GCSClient(gcs_endpoint(ports[0])), GCSClient(gcs_endpoint(ports[1])))
    try:
        pair.source.create_bucket(SOURCE_GCS_BUCKET, "US")
        _copy_from_s3(sandbox, pair.source)
        yield pair
    finally:
        pair.source.close()
        pair.target.close()
        stop_all(services)


def _copy_from_s3(sandbox: Sandbox, gcs: GCSClient) -> None:
    for page in sandbox.s3.get_paginator("list_objects_v2").paginate(Bucket=SOURCE_BUCKET):
        for item in page.get("Contents", []):
            obj = sandbox.s3.get_object(Bucket=SOURCE_BUCKET, Key=item["Key"])
            gcs.upload(SOURCE_GCS_BUCKET, item["Key"], obj["Body"].read(), obj["ContentType"])


def gcs_target(sandbox: Sandbox, gcs: Gcs, label: str, region: str = TARGET_LOCATION) -> tuple[Target, str, Any]:
    """A fork of the database whose files are in a fresh public GCS bucket; (target, bucket, target db)."""
    base = sandbox.fork_target(label)
    bucket = f"gcs-{label}-{sandbox._suffix}"
    gcs.target.create_bucket(bucket, TARGET_LOCATION)
    copy_bucket(gcs.source, SOURCE_GCS_BUCKET, gcs.target, bucket, public=True)
    files = Files(adapter="gcs", bucket=bucket, region=region, endpoint_url=gcs.target.endpoint, direct_access=True,
                  base_url=f"{gcs.target.endpoint}/{bucket}", source_adapter="gcs", source_bucket=SOURCE_GCS_BUCKET,
                  source_endpoint_url=gcs.source.endpoint)
    return dataclasses.replace(base, files=files), bucket, sandbox.db(base.database.uri)


def failing(result: Any) -> dict[str, str]:
    return {k: v for k, v in result.failing().items() if k.startswith("FILE-")}


def _avatar(db: Any, position: int) -> dict[str, Any]:
    return dict(db["GameScore"].find({"avatar": {"$exists": True}}).sort("_id", 1).skip(position).limit(1)[0])


def test_clean_gcs_target_passes_file_01_to_04(sandbox: Sandbox, gcs: Gcs, run_checks: Callable[..., Any]) -> None:
    target, bucket, _ = gcs_target(sandbox, gcs, "clean")
    result = run_checks(target, *FILE_TESTS)
    outcomes = {k: v for k, v in result.outcomes.items() if k.startswith("FILE-")}
    assert {k.split("[")[0] for k in outcomes} == {"FILE-01", "FILE-02", "FILE-03", "FILE-04"}, result.output
    assert f"FILE-03[gcs:{bucket}]" in outcomes and not failing(result), failing(result) or result.output[-3000:]
    facts = {t["label"]: t.get("facts", {}) for t in result.record["tests"]}
    avatar = facts["FILE-01[GameScore.avatar]"]
    assert avatar["content_methods"] == {"md5": avatar["resolved"]}, avatar
    assert avatar["store_requests"][f"listings gcs:{SOURCE_GCS_BUCKET}"] == 1, avatar["store_requests"]
    store = facts[f"FILE-03[gcs:{bucket}]"]
    assert store["location"] == TARGET_LOCATION and store["public_read"] is True, store


def test_missing_and_corrupted_gcs_objects_fail_file_01(sandbox: Sandbox, gcs: Gcs,
                                                        run_checks: Callable[..., Any]) -> None:
    """One avatar deleted, another with a byte flipped (same size), in the same bucket: each named."""
    target, bucket, db = gcs_target(sandbox, gcs, "damaged")
    missing, corrupt = _avatar(db, 0), _avatar(db, 1)
    assert gcs.target.delete(bucket, missing["avatar"])
    body = bytearray(gcs.target.read(bucket, corrupt["avatar"]))
    body[len(body) // 2] ^= 0xFF
    gcs.target.upload(bucket, corrupt["avatar"], bytes(body), "image/png")
    gcs.target.make_public(bucket, corrupt["avatar"])
    bad = failing(run_checks(target, "-k", "test_referenced_files_resolve"))
    assert set(bad) == {"FILE-01[GameScore.avatar]"}, bad
    message = bad["FILE-01[GameScore.avatar]"]
    assert missing["_id"] in message and "HTTP 404" in message, message
    assert corrupt["_id"] in message and "MD5" in message, message


def test_gcs_bucket_in_another_location_fails_file_03(sandbox: Sandbox, gcs: Gcs,
                                                      run_checks: Callable[..., Any]) -> None:
    target, bucket, _ = gcs_target(sandbox, gcs, "region", region="US-EAST1")
    bad = failing(run_checks(target, "-k", "test_store_configuration"))
    assert set(bad) == {f"FILE-03[gcs:{bucket}]"}, bad
    assert f"is in {TARGET_LOCATION}, declared US-EAST1" in bad[f"FILE-03[gcs:{bucket}]"]


def test_private_gcs_object_with_direct_access_fails_file_03(sandbox: Sandbox, gcs: Gcs,
                                                             run_checks: Callable[..., Any]) -> None:
    target, bucket, _ = gcs_target(sandbox, gcs, "private")
    first = next(gcs.target.list_objects(bucket)).name     # the listing's first object is among those sampled
    gcs.target.upload(bucket, first, gcs.target.read(bucket, first), "image/png")   # re-uploaded: no public ACL
    bad = failing(run_checks(target, "-k", "test_store_configuration"))
    assert set(bad) == {f"FILE-03[gcs:{bucket}]"}, bad
    assert "not publicly readable" in bad[f"FILE-03[gcs:{bucket}]"] and first in bad[f"FILE-03[gcs:{bucket}]"]


def test_name_with_space_and_at_resolves_by_direct_access(sandbox: Sandbox, gcs: Gcs,
                                                          run_checks: Callable[..., Any]) -> None:
    """The adapter puts names into direct-access URLs unencoded: FILE-01 must reach them as a browser does."""
    target, bucket, db = gcs_target(sandbox, gcs, "names")
    doc = _avatar(db, 2)
    name = f"{doc['_id']} me@home avatar.png"
    body = gcs.target.read(bucket, doc["avatar"])
    for client, where in ((gcs.source, SOURCE_GCS_BUCKET), (gcs.target, bucket)):
        client.upload(where, name, body, "image/png")
    gcs.target.make_public(bucket, name)
    gcs.target.delete(bucket, doc["avatar"])
    db["GameScore"].update_one({"_id": doc["_id"]}, {"$set": {"avatar": name}})
    try:
        result = run_checks(target, "-k", "test_referenced_files_resolve")
    finally:
        gcs.source.delete(SOURCE_GCS_BUCKET, name)    # the shared source stays as the other tests copy it
    assert not failing(result), failing(result)
    facts = {t["label"]: t.get("facts", {}) for t in result.record["tests"]}
    assert facts["FILE-01[GameScore.avatar]"]["content_methods"].get("md5"), facts["FILE-01[GameScore.avatar]"]


def test_builtin_demo_gcs_passes_files_and_api_04(tmp_path: Any) -> None:
    """``--target demo-gcs``: the real Parse Server on @parse/gcs-files-adapter; FILE-01..04 and API-04 pass,
    with digests compared against the GCS source bucket and the bucket's location checked."""
    import json
    import subprocess
    import sys
    tests = ("test_referenced_files_resolve or test_no_parse_hosted_files or test_store_configuration or "
             "test_no_orphaned_files or test_file_round_trip")
    cmd = [sys.executable, "-m", "pytest", "--target", "demo-gcs", "--partial", "-k", tests, "-q", "-p",
           "no:randomly", *UNUSED_PLUGINS, f"--reports-dir={tmp_path / 'reports'}"]
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=900, check=False)
    record = json.loads(next((tmp_path / "reports" / "demo-gcs").glob("*/record.json")).read_text())
    outcomes = {t["label"]: t["outcome"] for t in record["tests"]}
    assert proc.returncode == 0 and outcomes and set(outcomes.values()) == {"passed"}, proc.stdout[-3000:]
    assert {"API-04", "FILE-03[gcs:parse-app-files-gcs]", "FILE-01[GameScore.avatar]"} <= set(outcomes)
    avatar = next(t["facts"] for t in record["tests"] if t["label"] == "FILE-01[GameScore.avatar]")
    assert avatar["content_methods"] == {"md5": avatar["resolved"]} and avatar["resolved"] > 0, avatar
    assert avatar["store_requests"]["listings gcs:parse-legacy-files-gcs"] == 1, avatar
