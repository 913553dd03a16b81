"""Facts about the file store: bucket location and public access, GridFS completeness, listings, orphans.

S3 facts: ``GetBucketLocation`` answers ``None`` (or ``""``) for us-east-1 and the legacy ``EU`` for
eu-west-1. A bucket whose name holds a ``.`` cannot be used for direct access over HTTPS in the
virtual-host form (``https://a.b.s3.amazonaws.com``): the wildcard certificate does not match it.
GridFS layout: ``fs.files`` holds ``length`` and ``chunkSize``; ``fs.chunks`` holds ``files_id`` and
``n`` = 0 .. ceil(length / chunkSize) - 1.
"""
from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ConnectTimeoutError, ReadTimeoutError
from pymongo.database import Database
from pymongo.errors import PyMongoError

from cutover.errors import CouldNotVerify, TargetTimeout, TargetUnreachable, UnexpectedAnswer
from cutover.listing import Capped

_MISSING_CODES = frozenset({"404", "NoSuchKey", "NotFound", "NoSuchBucket"})
_DENIED_CODES = frozenset({"403", "AccessDenied", "AllAccessDisabled"})
_THROTTLED_CODES = frozenset({"SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded",
                              "ServiceUnavailable", "InternalError", "503", "500"})
GRIDFS_BATCH = 1000


@dataclass(frozen=True)
class BucketFacts:
    name: str
    exists: bool
    region: str | None = None          # normalized: us-east-1 for None/"", eu-west-1 for "EU"
    public_read: bool | None = None    # None: no object to try
    sampled_keys: tuple[str, ...] = ()

    @property
    def dotted(self) -> bool:
        return "." in self.name


@dataclass(frozen=True)
class GridFSFile:
    file_id: str
    name: str
    length: int
    chunk_size: int
    expected_chunks: int
    found_chunks: int
    complete: bool


@dataclass(frozen=True)
class GridFSFacts:
    files: int
    incomplete_count: int
    incomplete: tuple[GridFSFile, ...]     # the first ``cap`` incomplete files


@dataclass(frozen=True)
class Orphans:
    stored: int
    orphans: int
    listed: tuple[str, ...]                    # the first ``cap`` orphan names


def s3_call(what: str, fn: Callable[[], Any]) -> Any:
    """Run one boto3 call, turning transport failures into CouldNotVerify errors."""
    try:
        return fn()
    except (ConnectTimeoutError, ReadTimeoutError) as exc:
        raise TargetTimeout(f"{what}: S3 did not answer in time ({exc})") from exc
    except BotoCoreError as exc:
        raise TargetUnreachable(f"{what}: S3 unreachable ({exc}); check endpoint_url and network") from exc
    except ClientError as exc:
        if not _server_side(exc):
            raise  # an answer about the request (missing, denied): the caller judges it
        raise UnexpectedAnswer(f"{what}: S3 answered {error_code(exc)} (HTTP {_status(exc)}) even after "
                               "retries; the store is throttling or failing, run again later") from exc


def _status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)


def _server_side(exc: ClientError) -> bool:
    """Throttling and 5xx answers: S3 could not serve the request, which says nothing about the bucket."""
    return _status(exc) >= 500 or error_code(exc) in _THROTTLED_CODES


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def normalize_region(constraint: str | None) -> str:
    if not constraint:
        return "us-east-1"
    return "eu-west-1" if constraint == "EU" else constraint


def bucket_region(s3: Any, bucket: str) -> str | None:
    """The bucket's region from GetBucketLocation, or None when the bucket does not exist."""
    try:
        answer = s3_call(f"GetBucketLocation {bucket}", lambda: s3.get_bucket_location(Bucket=bucket))
    except ClientError as exc:
        if error_code(exc) in _MISSING_CODES:
            return None
        raise UnexpectedAnswer(f"GetBucketLocation {bucket}: {error_code(exc)}; grant s3:GetBucketLocation") from exc
    return normalize_region(answer.get("LocationConstraint"))


def sample_keys(s3: Any, bucket: str, prefix: str, count: int = 3) -> tuple[str, ...]:
    answer = s3_call(f"ListObjectsV2 {bucket}",
                     lambda: s3.list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=count))
    return tuple(item["Key"] for item in answer.get("Contents", []))


def anonymous_client(s3: Any) -> Any:
    """A client for the same endpoint that signs nothing: what a browser or app gets."""
    import boto3

    path_style = s3.meta.config.s3 and s3.meta.config.s3.get("addressing_style") == "path"
    config = Config(signature_version=UNSIGNED, connect_timeout=s3.meta.config.connect_timeout,
                    read_timeout=s3.meta.config.read_timeout, retries={"total_max_attempts": 2},
                    s3={"addressing_style": "path" if path_style else "auto"})
    return boto3.client("s3", endpoint_url=s3.meta.endpoint_url, region_name=s3.meta.region_name, config=config)


def publicly_readable(anonymous: Any, bucket: str, key: str) -> bool:
    """True when an unsigned ranged GET of the object succeeds."""
    try:
        s3_call(f"anonymous GET {key}", lambda: anonymous.get_object(Bucket=bucket, Key=key, Range="bytes=0-0"))
    except ClientError as exc:
        if error_code(exc) in _DENIED_CODES | _MISSING_CODES:
            return False
        raise UnexpectedAnswer(f"anonymous GET {key}: {error_code(exc)}") from exc
    return True


def bucket_facts(s3: Any, bucket: str, prefix: str = "", check_public: bool = False) -> BucketFacts:
    """Existence, region and (on request) anonymous readability of a sample of objects."""
    region = bucket_region(s3, bucket)
    if region is None:
        return BucketFacts(bucket, exists=False)
    if not check_public:
        return BucketFacts(bucket, True, region)
    keys = sample_keys(s3, bucket, prefix)
    anonymous = anonymous_client(s3)
    public = all(publicly_readable(anonymous, bucket, key) for key in keys) if keys else None
    return BucketFacts(bucket, True, region, public, keys)


def bucket_problems(facts: BucketFacts, declared_region: str, direct_access: bool) -> list[str]:
    """What is wrong with a bucket for the declared configuration (empty: nothing)."""
    if not facts.exists:
        return [f"bucket {facts.name} does not exist"]
    problems = []
    if declared_region and facts.region != declared_region:
        problems.append(f"bucket {facts.name} is in {facts.region}, declared {declared_region}")
    if direct_access and facts.dotted:
        problems.append(f"bucket {facts.name} has a '.' in its name: direct access over HTTPS "
                        f"(https://{facts.name}.s3.amazonaws.com) fails certificate validation")
    if direct_access and facts.public_read is False:
        problems.append(f"bucket {facts.name}: objects are not publicly readable with direct access "
                        f"(anonymous GET refused for {', '.join(facts.sampled_keys)})")
    return problems


def head_object(s3: Any, bucket: str, key: str, **options: str) -> dict[str, Any] | None:
    """HeadObject's answer for one object (``options`` such as ChecksumMode), None when it does not exist."""
    try:
        return dict(s3_call(f"HeadObject {key}", lambda: s3.head_object(Bucket=bucket, Key=key, **options)))
    except ClientError as exc:
        if error_code(exc) in _MISSING_CODES:
            return None
        raise UnexpectedAnswer(f"HeadObject {bucket}/{key}: {error_code(exc)}") from exc


def s3_object_size(s3: Any, bucket: str, key: str) -> int | None:
    """Size of one object, None when it does not exist."""
    answer = head_object(s3, bucket, key)
    return None if answer is None else int(answer["ContentLength"])


def source_sizes(s3: Any, bucket: str, prefix: str = "") -> Callable[[str], int | None] | None:
    """A size lookup on the source store, or None when it is not declared or not reachable."""
    if s3 is None or not bucket:
        return None
    try:
        s3_call(f"HeadBucket {bucket}", lambda: s3.head_bucket(Bucket=bucket))
    except (CouldNotVerify, ClientError):
        return None

    def size(name: str) -> int | None:
        try:
            return s3_object_size(s3, bucket, prefix + name)
        except CouldNotVerify:
            return None
    return size


def s3_names(s3: Any, bucket: str, prefix: str = "") -> Iterator[str]:
    """Every file name in the bucket under ``prefix`` (prefix removed), page by page."""
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    iterator = iter(pages)
    while (page := s3_call(f"ListObjectsV2 {bucket}", lambda: next(iterator, None))) is not None:
        for item in page.get("Contents", []):
            yield item["Key"][len(prefix):]


def gridfs_names(db: Database[Any], bucket: str = "fs") -> Iterator[str]:
    try:
        for doc in db[f"{bucket}.files"].find({}, {"filename": 1}, batch_size=GRIDFS_BATCH):
            yield str(doc.get("filename"))
    except PyMongoError as exc:
        raise TargetUnreachable(f"listing GridFS {bucket}.files failed: {exc}") from exc


def gridfs_completeness(db: Database[Any], bucket: str = "fs", cap: int = 100,
                        budget_s: float = 600.0) -> GridFSFacts:
    """Files whose chunks are not exactly 0..ceil(length/chunkSize)-1, batch by batch."""
    total, bad = 0, Capped[GridFSFile](cap, key=lambda f: (f.name, f.file_id))
    try:
        cursor = db[f"{bucket}.files"].find({}, {"filename": 1, "length": 1, "chunkSize": 1},
                                            batch_size=GRIDFS_BATCH)
        while batch := list(itertools.islice(cursor, GRIDFS_BATCH)):
            total += len(batch)
            for incomplete in _incomplete_in(db, bucket, batch, budget_s):
                bad.add(incomplete)
    except PyMongoError as exc:
        raise TargetUnreachable(f"reading GridFS {bucket} failed: {exc}") from exc
    return GridFSFacts(total, bad.total, tuple(bad.listed()))


def _incomplete_in(db: Database[Any], bucket: str, files: list[dict[str, Any]],
                   budget_s: float = 600.0) -> Iterator[GridFSFile]:
    return (f for f in _file_states(db, bucket, files, budget_s) if not f.complete)


def _file_states(db: Database[Any], bucket: str, files: list[dict[str, Any]],
                 budget_s: float = 600.0) -> Iterator[GridFSFile]:
    pipeline: list[dict[str, Any]] = [{"$match": {"files_id": {"$in": [f["_id"] for f in files]}}},
                {"$group": {"_id": "$files_id", "count": {"$sum": 1}, "maxn": {"$max": "$n"}}}]
    groups = db[f"{bucket}.chunks"].aggregate(pipeline, maxTimeMS=int(budget_s * 1000))
    found = {str(g["_id"]): (g["count"], g["maxn"]) for g in groups}
    for doc in files:
        length, size = int(doc.get("length", 0)), int(doc.get("chunkSize") or 1)
        expected = -(-length // size)
        count, maxn = found.get(str(doc["_id"]), (0, None))
        complete = count == expected and (not expected or maxn == expected - 1)
        yield GridFSFile(str(doc["_id"]), str(doc.get("filename")), length, size, expected, count, complete)


def gridfs_file(db: Database[Any], name: str, bucket: str = "fs") -> GridFSFile | None:
    """The newest GridFS file of that name with its chunk census, None when there is none."""
    try:
        docs = list(db[f"{bucket}.files"].find({"filename": name}, {"filename": 1, "length": 1, "chunkSize": 1})
                    .sort("uploadDate", -1).limit(1))
        return next(_file_states(db, bucket, docs), None)
    except PyMongoError as exc:
        raise TargetUnreachable(f"reading GridFS {bucket} failed: {exc}") from exc


def gridfs_in_use(db: Database[Any] | None, bucket: str = "fs") -> bool:
    """Whether the database holds any GridFS file."""
    if db is None:
        return False
    try:
        return db[f"{bucket}.files"].find_one({}, {"_id": 1}) is not None
    except PyMongoError as exc:
        raise TargetUnreachable(f"reading GridFS {bucket} failed: {exc}") from exc


def gridfs_sizes(db: Database[Any] | None, bucket: str = "fs") -> Callable[[str], int | None] | None:
    """A size lookup on a GridFS (e.g. the source's), or None when it holds no files."""
    if db is None or not gridfs_in_use(db, bucket):
        return None

    def size(name: str) -> int | None:
        doc = db[f"{bucket}.files"].find_one({"filename": name}, {"length": 1})
        return int(doc["length"]) if doc else None
    return size


def first_size(*lookups: Callable[[str], int | None] | None) -> Callable[[str], int | None] | None:
    """One lookup asking each given lookup in turn; None when none is given."""
    present = [lookup for lookup in lookups if lookup is not None]
    if not present:
        return None

    def size(name: str) -> int | None:
        return next((s for s in (lookup(name) for lookup in present) if s is not None), None)
    return size


def find_orphans(stored: Iterable[str], referenced: set[str], cap: int = 100) -> Orphans:
    """Stored names nothing references; counts all, lists the first ``cap`` by name."""
    total, orphans = 0, Capped[str](cap, key=str)
    for name in stored:
        total += 1
        if name not in referenced:
            orphans.add(name)
    return Orphans(total, orphans.total, tuple(orphans.listed()))
