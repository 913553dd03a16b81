"""The sandbox S3: a real moto_server process spoken to over HTTP by boto3 and by unsigned requests."""
from __future__ import annotations

import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from cutover.sandbox.process import Service, free_port, port_open
from cutover.sandbox.s3_server import create_bucket, moto_server_path, s3_client, s3_service

pytestmark = pytest.mark.sandbox


def unsigned(method: str, url: str) -> int:
    """Status of an anonymous request (no AWS signature at all)."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=5) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as refused:
        return refused.code


def test_moto_server_script_is_next_to_the_interpreter() -> None:
    assert moto_server_path().is_file()


def test_bucket_location_outside_us_east_1(s3: Any) -> None:
    create_bucket(s3, "files-eu", "eu-west-1")
    assert s3.get_bucket_location(Bucket="files-eu")["LocationConstraint"] == "eu-west-1"


def test_bucket_location_in_us_east_1_is_none(s3: Any) -> None:
    create_bucket(s3, "files-us", "us-east-1")
    assert s3.get_bucket_location(Bucket="files-us")["LocationConstraint"] is None


def test_put_get_head_round_trip(s3: Any) -> None:
    create_bucket(s3, "round-trip", "eu-west-1")
    body = b"\x00\x01 parse file \xff" * 100
    s3.put_object(Bucket="round-trip", Key="abc_pic.png", Body=body, ContentType="image/png")
    got = s3.get_object(Bucket="round-trip", Key="abc_pic.png")
    assert got["Body"].read() == body
    head = s3.head_object(Bucket="round-trip", Key="abc_pic.png")
    assert (head["ContentLength"], head["ContentType"]) == (len(body), "image/png")
    with pytest.raises(ClientError) as missing:
        s3.head_object(Bucket="round-trip", Key="absent.png")
    assert missing.value.response["Error"]["Code"] == "404"


def test_unsigned_get_and_head_of_private_object_are_refused(s3: Any, moto: str) -> None:
    create_bucket(s3, "private-files", "eu-west-1")
    s3.put_object(Bucket="private-files", Key="secret.txt", Body=b"secret")
    assert unsigned("GET", f"{moto}/private-files/secret.txt") == 403
    assert unsigned("HEAD", f"{moto}/private-files/secret.txt") == 403


def test_unsigned_get_and_head_of_public_object_are_allowed(s3: Any, moto: str) -> None:
    create_bucket(s3, "public-files", "eu-west-1", public_read=True)
    s3.put_object(Bucket="public-files", Key="open.txt", Body=b"open")
    assert unsigned("GET", f"{moto}/public-files/open.txt") == 200
    assert unsigned("HEAD", f"{moto}/public-files/open.txt") == 200
    assert unsigned("GET", f"{moto}/public-files/absent.txt") == 404


def test_client_is_path_style_with_bounded_timeouts(moto: str) -> None:
    client = s3_client(moto, region="eu-west-1", timeout=3)
    config = client.meta.config
    assert (config.connect_timeout, config.read_timeout) == (3, 3)
    assert config.retries["total_max_attempts"] == 2
    url = client.generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "k"})
    assert url.startswith(f"{moto}/b/k?")
    assert client.meta.region_name == "eu-west-1"


def test_client_against_closed_port_fails_fast() -> None:
    client = s3_client(f"http://127.0.0.1:{free_port()}", timeout=1)
    started = time.monotonic()
    with pytest.raises(EndpointConnectionError):
        client.list_buckets()
    assert time.monotonic() - started < 3


def test_service_is_gone_after_stop(tmp_path: Path) -> None:
    port = free_port()
    service: Service = s3_service(port, tmp_path / "moto.log")
    service.start()
    try:
        service.wait_ready()
        assert port_open("127.0.0.1", port)
    finally:
        service.stop()
    assert service.proc is None
    assert not port_open("127.0.0.1", port)
    assert (tmp_path / "moto.log").exists()
