"""The GCS side of the built-in target ``demo-gcs``: the target Parse Server stores files in GCS.

Two fake-gcs-server processes, because a location is one setting of a whole server: the source bucket in
``US`` (what the app used before) and the target bucket in ``EUROPE-WEST1`` (declared by the target). Once
the sandbox's S3 source files are seeded, they are copied into the GCS source bucket (bytes and type) and
from there into the target bucket, as a migration would; the target Parse Server runs
``@parse/gcs-files-adapter`` on the target bucket and serves files through itself (no direct access), so
FILE-01 and API-04 go through the real adapter.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cutover.model import Files
from cutover.sandbox.gcs_client import GCSClient, copy_bucket
from cutover.sandbox.gcs_server import gcs_endpoint, gcs_service
from cutover.sandbox.parse_server import GCSFiles
from cutover.sandbox.process import Service, free_port

GCS_SOURCE_BUCKET = "parse-legacy-files-gcs"
GCS_TARGET_BUCKET = "parse-app-files-gcs"
GCS_SOURCE_LOCATION = "US"
GCS_TARGET_LOCATION = "EUROPE-WEST1"


@dataclass(frozen=True)
class GcsEndpoints:
    source: str
    target: str


def gcs_services(logs: Path) -> tuple[list[Service], GcsEndpoints]:
    ports = free_port(), free_port()
    services = [gcs_service(ports[0], logs / "gcs-source.log", GCS_SOURCE_LOCATION),
                gcs_service(ports[1], logs / "gcs-target.log", GCS_TARGET_LOCATION)]
    return services, GcsEndpoints(gcs_endpoint(ports[0]), gcs_endpoint(ports[1]))


def seed_gcs(s3: Any, s3_bucket: str, ep: GcsEndpoints, check_stopping: Callable[[], None]) -> int:
    """Copy the S3 source bucket into the GCS source bucket, then that into the target bucket; the count."""
    source, target = GCSClient(ep.source), GCSClient(ep.target)
    try:
        source.create_bucket(GCS_SOURCE_BUCKET, GCS_SOURCE_LOCATION)
        target.create_bucket(GCS_TARGET_BUCKET, GCS_TARGET_LOCATION)
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=s3_bucket):
            check_stopping()
            for item in page.get("Contents", []):
                obj = s3.get_object(Bucket=s3_bucket, Key=item["Key"])
                source.upload(GCS_SOURCE_BUCKET, item["Key"], obj["Body"].read(), obj["ContentType"])
        return len(copy_bucket(source, GCS_SOURCE_BUCKET, target, GCS_TARGET_BUCKET))
    finally:
        source.close()
        target.close()


def parse_files(ep: GcsEndpoints) -> GCSFiles:
    """The target Parse Server's files adapter."""
    return GCSFiles(bucket=GCS_TARGET_BUCKET, api_endpoint=ep.target)


def target_files(ep: GcsEndpoints) -> Files:
    """The ``[files]`` section of ``demo-gcs``."""
    return Files(adapter="gcs", bucket=GCS_TARGET_BUCKET, region=GCS_TARGET_LOCATION, endpoint_url=ep.target,
                 source_adapter="gcs", source_bucket=GCS_SOURCE_BUCKET, source_endpoint_url=ep.source)
