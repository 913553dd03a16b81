"""FILE-01 content integrity end to end: digests from store listings, sampled bytes, Content-Type families.

Each planted defect keeps the file resolvable with its size (so the old size-only FILE-01 passed it) and must
fail FILE-01 naming the object and field; a correct multipart object must pass; the source bucket is listed
once per run whatever the number of file fields and of xdist workers (counted by FILE-01's request counter
and by moto's log), and not listed to its end when it is much larger than the references (looked up instead).
Forks are checked with S3 direct access on their own bucket (see test_files_defects.py).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from cutover.sandbox.migrate import copy_bucket
from cutover.sandbox.s3_server import create_bucket
from cutover.sandbox.stack import SOURCE_BUCKET, Sandbox
from cutover_testing.defects import DEFECTS, Handles
from tests.scenarios.test_files_defects import fork

FILE_01 = ("-k", "test_referenced_files_resolve")
PART = 5 * 1024 * 1024          # S3's smallest part


def file01(record: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """FILE-01 label -> facts."""
    return {t["label"]: t.get("facts", {}) for t in record["tests"] if t["criterion"] == "FILE-01"}


def failing(result: Any) -> dict[str, str]:
    return {k: v for k, v in result.failing().items() if k.startswith("FILE-")}


@pytest.mark.parametrize(("defect", "label", "words"), [
    ("same_size_corruption", "FILE-01[GameScore.avatar]", ("MD5", "source has", "differ from the source")),
    ("swapped_s3_objects", "FILE-01[GameScore.avatar]", ("source has",)),
    ("content_type_changed", "FILE-01[GameScore.avatar]", ("served as application/octet-stream", "image/png")),
    ("corrupted_gridfs_chunk", "FILE-01[Document.scan]", ("differ",)),
])
def test_content_defect_fails_file_01_naming_the_object(sandbox: Sandbox, run_checks: Callable[..., Any],
                                                        defect: str, label: str, words: tuple[str, ...]) -> None:
    target, handles = fork(sandbox, defect.replace("_", "-")[:20])
    planted = DEFECTS[defect].plant(handles)
    result = run_checks(target, *FILE_01)
    bad = failing(result)
    assert set(bad) == {label}, bad or result.output[-3000:]
    message = bad[label]
    assert planted.field and planted.field in message, message
    assert planted.object_ids and all(str(oid) in message for oid in planted.object_ids), message
    assert all(word in message for word in words), message


def test_clean_run_compares_digests_and_lists_the_source_once(sandbox: Sandbox,
                                                              run_checks: Callable[..., Any]) -> None:
    """Two xdist workers: whichever resolves a class first lists the bucket, the other reads its spill."""
    log = sandbox.run_dir / "logs" / "s3.log"
    before = _listings_in_log(log, SOURCE_BUCKET)
    result = run_checks(sandbox.target(), *FILE_01, "-n", "2")
    facts = file01(result.record)
    assert len(facts) >= 3 and not failing(result), failing(result) or result.output[-3000:]
    avatar = facts["FILE-01[GameScore.avatar]"]
    assert avatar["content_methods"] == {"md5": avatar["resolved"]}, avatar
    scan = facts["FILE-01[Document.scan]"]
    assert set(scan["content_methods"]) <= {"gridfs-chunks", "sampled"} and scan["resolved"], scan
    for label, f in facts.items():   # each process listed it, or read the one listing of the run
        made, read = (f["store_requests"].get(f"{k}listings s3:{SOURCE_BUCKET}", 0) for k in ("", "shared "))
        assert made + read == 1, (label, f["store_requests"])
    assert _listings_in_log(log, SOURCE_BUCKET) - before == 1, "moto's log counts another number of listings"


def test_few_references_in_a_big_bucket_are_looked_up_not_listed(sandbox: Sandbox,
                                                                 run_checks: Callable[..., Any]) -> None:
    """One file reference left on the target and a source bucket of 1,100 objects (2 listing requests): the
    run's estimate (1 reference) makes a lookup cheaper than the listing, which stops after its budget of one
    request; the target's small bucket is listed. The planted corruption is still named, by the looked-up MD5."""
    target, handles = fork(sandbox, "few-refs")
    planted = DEFECTS["same_size_corruption"].plant(handles)
    handles.target_db["GameScore"].delete_many({"_id": {"$nin": list(planted.object_ids)}})
    handles.target_db["GameScore"].update_many({}, {"$unset": {"attachments": ""}})
    handles.target_db["Document"].delete_many({})
    source_bucket = f"src-big-{sandbox._suffix}"
    create_bucket(sandbox.s3, source_bucket, "us-east-1")
    copy_bucket(sandbox.s3, SOURCE_BUCKET, sandbox.s3, source_bucket)
    _pad(sandbox.s3, source_bucket, 1_100)
    assert target.files is not None
    target = dataclasses.replace(target, files=dataclasses.replace(target.files, source_bucket=source_bucket))
    result = run_checks(target, *FILE_01)
    assert set(failing(result)) == {"FILE-01[GameScore.avatar]"}, failing(result) or result.output[-3000:]
    message = failing(result)["FILE-01[GameScore.avatar]"]
    assert str(planted.object_ids[0]) in message and "MD5" in message, message
    facts = file01(result.record)["FILE-01[GameScore.avatar]"]
    source, target_plan = (facts["store_plans"][f"{side} s3:{b}"] for side, b in
                           (("source", source_bucket), ("target", f"{handles.target_bucket}/")))
    assert (source["strategy"], source["references"], source["list_requests"]) == ("lookups", 1, 1), source
    assert target_plan["strategy"] == "listing", target_plan
    requests = facts["store_requests"]
    assert requests[f"list s3:{source_bucket}"] == 1 and requests[f"lookup s3:{source_bucket}"] == 1, requests


def _pad(s3: Any, bucket: str, total: int) -> None:
    """Objects nothing references, up to ``total`` in the bucket (a few threads: moto answers each put alone)."""
    have = sum(p.get("KeyCount", 0) for p in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket))
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: s3.put_object(Bucket=bucket, Key=f"padding/{i:06d}", Body=b"x"),
                      range(total - have)))


def _listings_in_log(log: Any, bucket: str) -> int:
    """Full listings of ``bucket`` in moto's request log: first pages (no continuation token), leaving out the
    preflight's reachability probe (``max-keys=1``)."""
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    return sum(1 for line in lines if f"GET /{bucket}?list-type=2" in line
               and "continuation-token" not in line and "max-keys=1&" not in line)


def test_correct_multipart_objects_pass(sandbox: Sandbox, run_checks: Callable[..., Any]) -> None:
    """Two large avatars: one uploaded in parts on both sides (equal multipart ETags), one in parts on the
    source and whole on the target (ETags of different forms: the bytes are sampled)."""
    target, handles = fork(sandbox, "multipart")
    source_bucket = f"src-multipart-{sandbox._suffix}"
    create_bucket(sandbox.s3, source_bucket, "us-east-1")
    copy_bucket(sandbox.s3, SOURCE_BUCKET, sandbox.s3, source_bucket)
    names = _large_avatars(sandbox, handles, source_bucket)
    assert target.files is not None
    target = dataclasses.replace(target, files=dataclasses.replace(target.files, source_bucket=source_bucket))
    result = run_checks(target, *FILE_01)
    assert not failing(result), failing(result)
    methods = file01(result.record)["FILE-01[GameScore.avatar]"]["content_methods"]
    assert methods.get("multipart-etag") == 1 and methods.get("sampled") == 1, (methods, names)


def _large_avatars(sandbox: Sandbox, h: Handles, source_bucket: str) -> list[str]:
    names = []
    for position, whole_on_target in ((7, False), (8, True)):
        doc = h.target_db["GameScore"].find({"avatar": {"$exists": True}}).sort("_id", 1).skip(position).limit(1)[0]
        body = bytes(range(256)) * ((PART + 300_000) // 256) + doc["_id"].encode()
        _multipart_put(sandbox.s3, source_bucket, doc["avatar"], body)
        if whole_on_target:
            sandbox.s3.put_object(Bucket=h.target_bucket, Key=doc["avatar"], Body=body, ContentType="image/png")
        else:
            _multipart_put(sandbox.s3, h.target_bucket, doc["avatar"], body)
        names.append(doc["avatar"])
    return names


def _multipart_put(s3: Any, bucket: str, key: str, body: bytes) -> None:
    upload = s3.create_multipart_upload(Bucket=bucket, Key=key, ContentType="image/png")
    parts = []
    for n, start in enumerate(range(0, len(body), PART), start=1):
        answer = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload["UploadId"], PartNumber=n,
                                Body=body[start:start + PART])
        parts.append({"ETag": answer["ETag"], "PartNumber": n})
    s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload["UploadId"],
                                 MultipartUpload={"Parts": parts})
    assert "-" in s3.head_object(Bucket=bucket, Key=key)["ETag"]

