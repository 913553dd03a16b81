"""The real parse-server with @parse/gcs-files-adapter on the sandbox GCS (fake-gcs-server), over real HTTP.

Two servers share one database server and one bucket: ``through`` serves files through Parse Server
(``directAccess`` off), ``direct`` gives direct-access URLs into the bucket (with ``bucketPrefix`` and the
sandbox's ``baseUrl`` rewrite) and inherits a ``STORAGE_EMULATOR_HOST`` pointing at nothing.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from cutover.sandbox.cache_dir import default_cache_dir
from cutover.sandbox.gcs_client import GCSClient
from cutover.sandbox.gcs_server import gcs_endpoint, gcs_service
from cutover.sandbox.mongo_server import mongo_service, mongo_uri
from cutover.sandbox.parse_server import GCSFiles, ParseOptions, parse_service
from cutover.sandbox.process import Service, free_port, port_open, start_all, stop_all

pytestmark = pytest.mark.sandbox
REPO = Path(__file__).resolve().parents[2]
CACHE = default_cache_dir()
BUCKET = "parse-files"
PREFIX = "app/"
LOCATION = "EUROPE-WEST1"
TIMEOUT = 15
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8


@dataclass(frozen=True)
class Server:
    opts: ParseOptions

    def call(self, method: str, path: str, master: bool = True, **kwargs: Any) -> requests.Response:
        key = {"X-Parse-Master-Key": self.opts.master_key} if master else {
            "X-Parse-REST-API-Key": self.opts.rest_key}
        headers = {"X-Parse-Application-Id": self.opts.app_id, **key, **kwargs.pop("headers", {})}
        return requests.request(method, self.opts.url + path, headers=headers, timeout=TIMEOUT, **kwargs)

    def upload(self, name: str, body: bytes, content_type: str) -> tuple[str, str]:
        """POST /files/<name> with the master key; the stored name and the URL Parse answers."""
        answer = self.call("POST", f"/files/{name}", data=body, headers={"Content-Type": content_type})
        assert answer.status_code == 201, answer.text
        return answer.json()["name"], answer.json()["url"]


@dataclass(frozen=True)
class Apps:
    through: Server
    direct: Server
    gcs: GCSClient


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Apps]:
    logs = tmp_path_factory.mktemp("parse-gcs-logs")
    ports = [free_port() for _ in range(4)]
    gcs_port, mongo_port, through_port, direct_port = ports
    endpoint = gcs_endpoint(gcs_port)
    stores = [gcs_service(gcs_port, logs / "gcs.log", LOCATION), mongo_service(mongo_port, logs / "mongo.log", CACHE)]
    start_all(stores)
    gcs = GCSClient(endpoint)
    gcs.create_bucket(BUCKET, LOCATION)
    through = ParseOptions(port=through_port, database_uri=mongo_uri(mongo_port, "through"), cloud=None,
                           files=GCSFiles(bucket=BUCKET, api_endpoint=endpoint))
    direct = ParseOptions(port=direct_port, database_uri=mongo_uri(mongo_port, "direct"), cloud=None,
                          files=GCSFiles(bucket=BUCKET, api_endpoint=endpoint, direct_access=True,
                                         bucket_prefix=PREFIX, base_url=f"{endpoint}/{BUCKET}"))
    servers = [parse_service(opts, logs / f"parse-{opts.port}.log", CACHE) for opts in (through, direct)]
    # an emulator host inherited from the environment must not divert the adapter from its apiEndpoint
    servers[1].env = {**(servers[1].env or {}), "STORAGE_EMULATOR_HOST": f"http://127.0.0.1:{free_port()}"}
    services: list[Service] = [*stores, *servers]
    try:
        start_all(services[2:])
        yield Apps(through=Server(through), direct=Server(direct), gcs=gcs)
    finally:
        gcs.close()
        stop_all(services)
    assert not any(port_open("127.0.0.1", port) for port in ports)


def test_upload_lands_in_the_bucket_with_its_bytes_and_type(apps: Apps) -> None:
    body = b"hello from parse on gcs\n"
    name, url = apps.through.upload("hello.txt", body, "text/plain")
    opts = apps.through.opts
    assert url == f"{opts.url}/files/{opts.app_id}/{name}"
    stored = apps.gcs.stat(BUCKET, name)
    assert stored is not None, f"{name} is not in bucket {BUCKET}"
    expected = (len(body), hashlib.md5(body).hexdigest(), "text/plain")
    assert (stored.size, stored.md5_hex, stored.content_type) == expected
    assert apps.gcs.read(BUCKET, name) == body
    assert not apps.gcs.is_public(BUCKET, name)  # directAccess off: the adapter grants nothing


def test_get_through_the_server_answers_the_same_bytes(apps: Apps) -> None:
    name, url = apps.through.upload("pixel.png", PNG, "image/png")
    answer = requests.get(url, timeout=TIMEOUT)
    assert (answer.status_code, answer.content, answer.headers["Content-Type"]) == (200, PNG, "image/png")
    stored = apps.gcs.stat(BUCKET, name)
    assert stored is not None and stored.content_type == "image/png"


def test_delete_through_the_server_removes_the_object(apps: Apps) -> None:
    name, url = apps.through.upload("doomed.txt", b"short-lived", "text/plain")
    refused = apps.through.call("DELETE", f"/files/{name}", master=False)
    assert refused.status_code == 403 and apps.gcs.stat(BUCKET, name) is not None
    deleted = apps.through.call("DELETE", f"/files/{name}")
    assert deleted.status_code == 200, deleted.text
    assert apps.gcs.stat(BUCKET, name) is None
    assert requests.get(url, timeout=TIMEOUT).status_code == 404


def test_object_missing_from_the_bucket_is_404_through_the_server(apps: Apps) -> None:
    name, url = apps.through.upload("vanishing.txt", b"here, then gone", "text/plain")
    assert apps.gcs.delete(BUCKET, name)
    assert requests.get(url, timeout=TIMEOUT).status_code == 404


def test_direct_access_url_points_into_the_bucket(apps: Apps) -> None:
    name, url = apps.direct.upload("my pic.png", PNG, "image/png")
    assert url == f"{apps.gcs.endpoint}/{BUCKET}/{PREFIX}{name}"  # the adapter does not encode the name
    assert " " in name
    stored = apps.gcs.stat(BUCKET, PREFIX + name)
    assert stored is not None and (stored.size, stored.content_type) == (len(PNG), "image/png")
    assert apps.gcs.is_public(BUCKET, PREFIX + name)  # directAccess: the adapter calls makePublic
    anonymous = requests.get(url, timeout=TIMEOUT)
    assert (anonymous.status_code, anonymous.content, anonymous.headers["Content-Type"]) == (200, PNG, "image/png")
    assert url == apps.gcs.public_url(BUCKET, PREFIX + name).replace("%20", " ")


def test_direct_access_delete_removes_the_prefixed_object(apps: Apps) -> None:
    name, _ = apps.direct.upload("gone.txt", b"bye", "text/plain")
    assert apps.gcs.stat(BUCKET, PREFIX + name) is not None
    assert apps.direct.call("DELETE", f"/files/{name}").status_code == 200
    assert apps.gcs.stat(BUCKET, PREFIX + name) is None
