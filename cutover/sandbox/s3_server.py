"""The sandbox's S3: moto's server over real HTTP, a boto3 client for it, and bucket creation.

Facts about moto 5.2 that the suite relies on (each is covered by tests/sandbox/test_s3_server.py):

- ``GetBucketLocation`` answers ``LocationConstraint: None`` for a bucket in us-east-1 (as real S3 does);
  any other region is echoed back. A check that wants a region must read ``None`` as ``us-east-1``.
- An unsigned GET or HEAD of an object in a private bucket answers 403.
- A bucket policy allowing ``s3:GetObject`` to ``*`` (the way a real deployment publishes files) makes
  unsigned GETs answer 200, but moto still refuses unsigned HEADs under it; a public-read bucket ACL makes
  moto answer both. ``create_bucket(public_read=True)`` therefore sets both.
"""
from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from cutover.sandbox.process import Service

DUMMY_ACCESS_KEY = "sandbox-access-key"
DUMMY_SECRET_KEY = "sandbox-secret-key"
DEFAULT_REGION = "us-east-1"


def moto_server_path() -> Path:
    """The ``moto_server`` console script installed next to the running interpreter."""
    return Path(sys.executable).parent / "moto_server"


def s3_service(port: int, log_path: Path) -> Service:
    """moto's server on 127.0.0.1:``port``, ready once it answers an HTTP GET (any status)."""
    return Service(
        name="s3 (moto_server)",
        argv=[str(moto_server_path()), "-H", "127.0.0.1", "-p", str(port)],
        log_path=log_path,
        ready=lambda: _answers_http(f"http://127.0.0.1:{port}/"),
    )


def _answers_http(url: str, timeout: float = 0.5) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def s3_client(endpoint_url: str, region: str = DEFAULT_REGION, timeout: float = 10) -> Any:
    """A boto3 S3 client for ``endpoint_url``: dummy static credentials, path-style, bounded waits."""
    config = Config(
        connect_timeout=timeout,
        read_timeout=timeout,
        retries={"total_max_attempts": 2, "mode": "standard"},  # one retry at most
        s3={"addressing_style": "path"},
    )
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=DUMMY_ACCESS_KEY,
        aws_secret_access_key=DUMMY_SECRET_KEY,
        config=config,
    )


def create_bucket(client: Any, name: str, region: str, public_read: bool = False) -> None:
    """Create bucket ``name`` in ``region``; with ``public_read`` anyone may GET and HEAD its objects."""
    if region == DEFAULT_REGION:
        client.create_bucket(Bucket=name)
    else:
        client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
    if public_read:
        client.put_bucket_policy(Bucket=name, Policy=json.dumps(public_read_policy(name)))
        client.put_bucket_acl(Bucket=name, ACL="public-read")


def public_read_policy(bucket: str) -> dict[str, Any]:
    """The bucket policy that lets anonymous clients read every object of ``bucket``."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PublicReadObjects",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
            }
        ],
    }
