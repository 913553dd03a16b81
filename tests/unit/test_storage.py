"""Store facts against a real moto_server over HTTP (S3) and mongomock (GridFS layout)."""
from __future__ import annotations

import uuid
from typing import Any

import mongomock
import pytest
from bson import ObjectId

from cutover.errors import TargetUnreachable
from cutover.files.storage import (
    BucketFacts,
    bucket_facts,
    bucket_problems,
    find_orphans,
    gridfs_completeness,
    gridfs_names,
    normalize_region,
    s3_names,
    s3_object_size,
    source_sizes,
)
from cutover.sandbox.process import free_port
from cutover.sandbox.s3_server import create_bucket, s3_client


def _bucket(s3: Any, region: str = "us-east-1", public: bool = False, dotted: bool = False) -> str:
    name = f"b{'.x' if dotted else ''}-{uuid.uuid4().hex[:10]}"
    create_bucket(s3, name, region, public_read=public)
    return name


def test_region_none_means_us_east_1_and_other_regions_are_echoed(s3: Any) -> None:
    assert bucket_facts(s3, _bucket(s3)).region == "us-east-1"
    assert bucket_facts(s3, _bucket(s3, "eu-west-3")).region == "eu-west-3"
    assert normalize_region("EU") == "eu-west-1"


def test_missing_bucket(s3: Any) -> None:
    facts = bucket_facts(s3, "no-such-bucket-here")
    assert not facts.exists
    assert bucket_problems(facts, "us-east-1", False) == ["bucket no-such-bucket-here does not exist"]


def test_public_read_sampled_with_anonymous_requests(s3: Any) -> None:
    private, public = _bucket(s3), _bucket(s3, public=True)
    for name in (private, public):
        s3.put_object(Bucket=name, Key="p/a.png", Body=b"abc")
    assert bucket_facts(s3, private, "p/", check_public=True).public_read is False
    assert bucket_facts(s3, public, "p/", check_public=True).public_read is True
    assert bucket_facts(s3, _bucket(s3), "p/", check_public=True).public_read is None


def test_problems_wrong_region_dotted_and_private_with_direct_access(s3: Any) -> None:
    dotted = _bucket(s3, "eu-west-1", dotted=True)
    s3.put_object(Bucket=dotted, Key="a.png", Body=b"abc")
    facts = bucket_facts(s3, dotted, check_public=True)
    problems = bucket_problems(facts, "us-east-1", direct_access=True)
    assert [p.split(":")[0] for p in problems] == [
        f"bucket {dotted} is in eu-west-1, declared us-east-1", f"bucket {dotted} has a '.' in its name",
        f"bucket {dotted}"]
    assert bucket_problems(facts, "eu-west-1", direct_access=False) == []


def test_sizes_names_and_orphans(s3: Any) -> None:
    name = _bucket(s3)
    for key, body in (("p/a.png", b"abc"), ("p/b.png", b""), ("other.png", b"x")):
        s3.put_object(Bucket=name, Key=key, Body=body)
    assert (s3_object_size(s3, name, "p/a.png"), s3_object_size(s3, name, "p/zz")) == (3, None)
    assert sorted(s3_names(s3, name, "p/")) == ["a.png", "b.png"]
    sizes = source_sizes(s3, name, "p/")
    assert sizes is not None and sizes("a.png") == 3 and sizes("nope") is None
    assert source_sizes(s3, "no-such-bucket-here") is None
    orphans = find_orphans(s3_names(s3, name, "p/"), {"a.png"}, cap=10)
    assert (orphans.stored, orphans.orphans, orphans.listed) == (2, 1, ("b.png",))


def test_unreachable_endpoint_is_could_not_verify() -> None:
    dead = s3_client(f"http://127.0.0.1:{free_port()}", timeout=1)
    with pytest.raises(TargetUnreachable):
        bucket_facts(dead, "x")


def test_orphan_listing_is_capped() -> None:
    orphans = find_orphans((f"n{i}" for i in range(500)), {"n1"}, cap=5)
    assert (orphans.stored, orphans.orphans, len(orphans.listed)) == (500, 499, 5)


def _put(db: Any, body: bytes, filename: str, chunk_size: int = 261120) -> ObjectId:
    """The layout every GridFS driver writes: one fs.files document, chunks n = 0, 1, ..."""
    file_id = ObjectId()
    chunks = [body[i:i + chunk_size] for i in range(0, len(body), chunk_size)]
    if chunks:
        db["fs.chunks"].insert_many([{"files_id": file_id, "n": n, "data": c} for n, c in enumerate(chunks)])
    db["fs.files"].insert_one({"_id": file_id, "filename": filename, "length": len(body), "chunkSize": chunk_size})
    return file_id


def test_gridfs_completeness_finds_a_missing_chunk() -> None:
    db: Any = mongomock.MongoClient().db
    whole = _put(db, b"x" * 1000, "whole.bin", 256)
    broken = _put(db, b"y" * 1000, "broken.bin", 256)
    _put(db, b"", "empty.bin")
    db["fs.chunks"].delete_one({"files_id": broken, "n": 2})
    facts = gridfs_completeness(db)
    assert (facts.files, facts.incomplete_count) == (3, 1)
    [bad] = facts.incomplete
    assert (bad.name, bad.expected_chunks, bad.found_chunks) == ("broken.bin", 4, 3)
    assert str(whole) not in {f.file_id for f in facts.incomplete}
    assert sorted(gridfs_names(db)) == ["broken.bin", "empty.bin", "whole.bin"]


def test_gridfs_last_chunk_missing_is_found_even_if_count_is_right() -> None:
    db: Any = mongomock.MongoClient().db
    file_id = _put(db, b"z" * 600, "f.bin", 256)
    db["fs.chunks"].update_one({"files_id": file_id, "n": 2}, {"$set": {"n": 7}})
    assert gridfs_completeness(db).incomplete[0].name == "f.bin"


def test_bucket_facts_dotted_property() -> None:
    assert BucketFacts("a.b", True).dotted and not BucketFacts("ab", True).dotted
