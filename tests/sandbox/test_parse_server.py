"""The real parse-server (npm) on the mongoeco stand-in, files in moto's S3 or in GridFS, over real HTTP."""
from __future__ import annotations

import importlib.metadata
import json
import os
import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pymongo
import pytest
import requests
from pymongo.database import Database

from cutover.errors import SandboxError
from cutover.sandbox import node_env
from cutover.sandbox.cache_dir import default_cache_dir
from cutover.sandbox.mongo_server import mongo_service, mongo_uri
from cutover.sandbox.parse_server import GridFSFiles, ParseOptions, S3Files, health_ok, parse_service
from cutover.sandbox.process import Service, free_port, port_open, start_all, stop_all
from cutover.sandbox.s3_server import DUMMY_ACCESS_KEY, DUMMY_SECRET_KEY, create_bucket, s3_client, s3_service

pytestmark = pytest.mark.sandbox
REPO = Path(__file__).resolve().parents[2]
CACHE = default_cache_dir()  # $CUTOVER_CACHE_DIR, else the per-user cache
BUCKET = "parse-files"
TIMEOUT = 15


@dataclass(frozen=True)
class App:
    opts: ParseOptions
    db: Database[dict[str, Any]]
    s3: Any

    def headers(self, master: bool = True) -> dict[str, str]:
        key = {"X-Parse-Master-Key": self.opts.master_key} if master else {
            "X-Parse-REST-API-Key": self.opts.rest_key}
        return {"X-Parse-Application-Id": self.opts.app_id, **key}

    def call(self, method: str, path: str, master: bool = True, **kwargs: Any) -> requests.Response:
        headers = {**self.headers(master), **kwargs.pop("headers", {})}
        return requests.request(method, self.opts.url + path, headers=headers, timeout=TIMEOUT, **kwargs)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    logs = tmp_path_factory.mktemp("parse-logs")
    mongo_port, s3_port, parse_port = free_port(), free_port(), free_port()
    stores = [mongo_service(mongo_port, logs / "mongoeco.log", CACHE), s3_service(s3_port, logs / "moto.log")]
    start_all(stores)
    s3 = s3_client(f"http://127.0.0.1:{s3_port}")
    create_bucket(s3, BUCKET, "us-east-1")
    files = S3Files(endpoint=f"http://127.0.0.1:{s3_port}", bucket=BUCKET,
                    access_key_id=DUMMY_ACCESS_KEY, secret_access_key=DUMMY_SECRET_KEY)
    opts = ParseOptions(port=parse_port, database_uri=mongo_uri(mongo_port, "app"), files=files)
    services: list[Service] = [*stores, parse_service(opts, logs / "parse.log", CACHE)]
    client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(mongo_uri(mongo_port),
                                                                     serverSelectionTimeoutMS=2000)
    try:
        start_all(services[2:])
        yield App(opts=opts, db=client.app, s3=s3)
    finally:
        client.close()
        stop_all(services)
    assert not any(port_open("127.0.0.1", p) for p in (mongo_port, s3_port, parse_port))


def test_health_answers_ok(app: App) -> None:
    answer = requests.get(app.opts.url + "/health", timeout=TIMEOUT)
    assert (answer.status_code, answer.json()) == (200, {"status": "ok"})


def test_object_created_over_rest_is_in_the_database(app: App) -> None:
    created = app.call("POST", "/classes/GameScore", json={"score": 1337, "playerName": "Sean"})
    assert created.status_code == 201, created.text
    stored = app.db.GameScore.find_one({"_id": created.json()["objectId"]})
    assert stored is not None and (stored["score"], stored["playerName"]) == (1337, "Sean")
    assert "_created_at" in stored and "_updated_at" in stored


def test_query_update_and_delete(app: App) -> None:
    object_id = app.call("POST", "/classes/Item", json={"n": 1, "tag": "q"}).json()["objectId"]
    app.call("POST", "/classes/Item", json={"n": 2, "tag": "other"})
    found = app.call("GET", "/classes/Item", params={"where": '{"tag": "q"}'}).json()["results"]
    assert [r["objectId"] for r in found] == [object_id]
    assert app.call("PUT", f"/classes/Item/{object_id}", json={"n": {"__op": "Increment", "amount": 4}}).ok
    assert app.call("GET", f"/classes/Item/{object_id}").json()["n"] == 5
    assert app.call("DELETE", f"/classes/Item/{object_id}").ok
    assert app.db.Item.count_documents({"_id": object_id}) == 0


def test_query_with_count_and_more_than_one_batch(app: App) -> None:
    schema = app.call("POST", "/schemas/Bulk", json={"className": "Bulk", "fields": {"n": {"type": "Number"}}})
    assert schema.ok, schema.text  # Parse counts nothing in a class that _SCHEMA does not know
    app.db.Bulk.insert_many([{"_id": f"b{i:04d}", "n": i} for i in range(250)])
    answer = app.call("GET", "/classes/Bulk", params={"limit": 1000, "count": 1}).json()
    assert (answer["count"], len(answer["results"])) == (250, 250)


def test_batch_creates_every_object(app: App) -> None:
    ops = [{"method": "POST", "path": f"{app.opts.mount_path}/classes/Batched", "body": {"i": i}} for i in range(3)]
    answer = app.call("POST", "/batch", json={"requests": ops})
    assert answer.status_code == 200, answer.text
    assert all("success" in item for item in answer.json())
    assert app.db.Batched.count_documents({}) == 3


def test_client_cannot_create_a_class(app: App) -> None:
    answer = app.call("POST", "/classes/NoSuchClass", master=False, json={"x": 1})
    assert answer.json().get("code") == 119


def test_user_sign_up_and_log_in(app: App) -> None:
    signed = app.call("POST", "/users", master=False, json={"username": "Probe", "password": "s3cret!"})
    assert signed.status_code == 201, signed.text
    login = app.call("POST", "/login", master=False, json={"username": "Probe", "password": "s3cret!"})
    assert login.status_code == 200, login.text
    me = app.call("GET", "/users/me", master=False, headers={"X-Parse-Session-Token": login.json()["sessionToken"]})
    assert me.json()["username"] == "Probe" and "password" not in me.json()
    taken = app.call("POST", "/users", master=False, json={"username": "probe", "password": "x"})
    assert taken.json().get("code") == 202  # the case-insensitive username index at work


def test_parse_created_its_user_indexes(app: App) -> None:
    indexes = app.db["_User"].index_information()
    assert {"username_1", "case_insensitive_username", "email_1", "case_insensitive_email"} <= set(indexes)
    assert indexes["case_insensitive_username"]["collation"]["locale"] == "en_US"


def test_cloud_functions(app: App) -> None:
    assert app.call("POST", "/functions/hello", json={}).json() == {"result": "Hello world!"}
    app.call("POST", "/classes/GameScore", json={"score": 10, "playerName": "Avg"})
    app.call("POST", "/classes/GameScore", json={"score": 20, "playerName": "Avg"})
    average = app.call("POST", "/functions/averageScore", json={"playerName": "Avg"}).json()
    assert average == {"result": {"count": 2, "average": 15}}
    failed = app.call("POST", "/functions/greet", json={})
    assert (failed.status_code, failed.json()["code"]) == (400, 141)


def test_file_upload_lands_in_s3_and_comes_back(app: App) -> None:
    body = b"hello from the sandbox\n"
    uploaded = app.call("POST", "/files/hello.txt", data=body, headers={"Content-Type": "text/plain"})
    assert uploaded.status_code == 201, uploaded.text
    name, url = uploaded.json()["name"], uploaded.json()["url"]
    assert url == f"{app.opts.url}/files/{app.opts.app_id}/{name}"
    assert app.s3.get_object(Bucket=BUCKET, Key=name)["Body"].read() == body
    assert requests.get(url, timeout=TIMEOUT).content == body


def test_gridfs_files_then_stop_leaves_nothing_listening(app: App, tmp_path: Path) -> None:
    port = free_port()
    db_uri = app.opts.database_uri.replace("/app?", "/gridfs_app?")
    opts = ParseOptions(port=port, database_uri=db_uri, files=GridFSFiles(), cloud=None)
    service = parse_service(opts, tmp_path / "parse.log", CACHE)
    started = time.perf_counter()
    start_all([service])
    try:
        assert time.perf_counter() - started < 60
        headers = {"X-Parse-Application-Id": opts.app_id, "X-Parse-Master-Key": opts.master_key}
        uploaded = requests.post(f"{opts.url}/files/g.txt", data=b"grid", timeout=TIMEOUT,
                                 headers={**headers, "Content-Type": "text/plain"})
        assert uploaded.status_code == 201, uploaded.text
        assert requests.get(uploaded.json()["url"], timeout=TIMEOUT).content == b"grid"
        assert app.db.client.gridfs_app["fs.files"].count_documents({"filename": uploaded.json()["name"]}) == 1
    finally:
        stop_all([service])
    assert not port_open("127.0.0.1", port) and not health_ok(opts.url)


def test_node_version_is_read_and_checked() -> None:
    assert node_env.parse_node_version("v20.20.2\n") == (20, 20, 2)
    with pytest.raises(SandboxError, match=r"cannot read the Node\.js version"):
        node_env.parse_node_version("node: not found")


def test_supported_versions_are_parse_servers_engines_range() -> None:
    installed = node_env.ensure_parse_modules(CACHE)
    engines = json.loads((installed / "node_modules" / "parse-server" / "package.json").read_text())["engines"]
    ranges = " || ".join(f">={major}.{minor}.0 <{major + 1}.0.0" for major, minor in node_env.SUPPORTED)
    assert engines["node"] == ranges
    assert [node_env.is_supported(v) for v in ((20, 19, 0), (22, 12, 9), (22, 13, 0), (23, 0, 0), (24, 11, 1),
                                               (25, 0, 0), (18, 20, 0))] == [True, False, True, False, True,
                                                                             False, False]


def test_the_wheels_node_runs_by_default_even_with_a_broken_node_on_path(monkeypatch: pytest.MonkeyPatch,
                                                                          tmp_path: Path) -> None:
    broken = tmp_path / "node"
    broken.write_text("#!/bin/sh\nexit 1\n")
    broken.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv(node_env.NODE_ENV, raising=False)
    runtime = node_env.node_runtime()
    assert runtime.origin == f"{node_env.WHEEL} {importlib.metadata.version(node_env.WHEEL)}"
    assert node_env.is_supported(runtime.version) and runtime.node.name == "node" and runtime.node != broken
    assert runtime.env()["PATH"].startswith(f"{runtime.node.parent}{os.pathsep}")
    npm = subprocess.run([*runtime.npm_argv(), "--version"], capture_output=True, text=True, timeout=60,
                         env={**os.environ, **runtime.env()}, check=True)
    assert re.fullmatch(r"\d+\.\d+\.\d+", npm.stdout.strip())


def test_a_too_old_node_asked_for_is_refused_in_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = tmp_path / "node"
    fake.write_text("#!/bin/sh\necho v18.20.0\n")
    fake.chmod(0o755)
    monkeypatch.setenv(node_env.NODE_ENV, str(fake))
    with pytest.raises(SandboxError) as caught:
        node_env.ensure_parse_modules(tmp_path / "cache")
    message = str(caught.value)
    assert "\n" not in message and not (tmp_path / "cache").exists()
    assert message.startswith(f"CUTOVER_NODE={fake}: Node.js 18.20.0 is not supported by parse-server 9.10.0")
    assert "20.19+ (20.x), 22.13+ (22.x) or 24.11+ (24.x)" in message


@pytest.mark.parametrize(("script", "expected"), [
    (None, r"CUTOVER_NODE=.*: no such executable"),
    ("#!/bin/sh\necho boom >&2\nexit 3\n", r"--version` failed \(exit 3: boom\)"),
    ("#!/bin/sh\necho v26.0.0\n", r"Node\.js 26\.0\.0 is not supported"),
])
def test_an_unfit_node_asked_for_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, script: str | None,
                                            expected: str) -> None:
    fake = tmp_path / "node"
    if script is not None:
        fake.write_text(script)
        fake.chmod(0o755)
    monkeypatch.setenv(node_env.NODE_ENV, str(fake))
    with pytest.raises(SandboxError, match=expected):
        node_env.node_runtime()


def test_a_supported_node_asked_for_is_used_with_its_own_npm(monkeypatch: pytest.MonkeyPatch) -> None:
    wheel = node_env.node_runtime()
    monkeypatch.setenv(node_env.NODE_ENV, str(wheel.node))  # any supported node; the wheel's is at hand
    asked = node_env.node_runtime()
    assert asked.origin == f"CUTOVER_NODE={wheel.node}" and asked.version == wheel.version
    assert asked.npm_argv() == wheel.npm_argv()


@pytest.mark.parametrize("version", sorted(node_env.PARSE_SERVERS))
def test_installed_modules_are_reused_while_the_lock_is_unchanged(version: str) -> None:
    packages = node_env.PARSE_SERVERS[version]
    installed = node_env.ensure_parse_modules(CACHE, packages=packages)
    assert installed == CACHE.resolve() / packages.cache_name
    started = time.perf_counter()
    assert node_env.ensure_parse_modules(CACHE, packages=packages) == installed
    assert time.perf_counter() - started < 1.0
    stamp = (installed / node_env.STAMP_NAME).read_text().strip()
    assert stamp == node_env.manifest_digest(packages)
    assert (installed / "node_modules" / "router" / "package.json").read_text().count('"version": "2.2.0"') == 1
    manifest = json.loads((installed / "node_modules" / "parse-server" / "package.json").read_text())
    assert manifest["version"] == version


def test_the_older_pinned_parse_server_admits_every_node_the_sandbox_accepts() -> None:
    """The sandbox checks Node.js against 9.10.0's engines only: the older pin must admit at least those."""
    installed = node_env.ensure_parse_modules(CACHE, packages=node_env.PARSE_8)
    engines = json.loads((installed / "node_modules" / "parse-server" / "package.json").read_text())["engines"]
    lower = {int(m.group(1)): int(m.group(2)) for m in re.finditer(r">=(\d+)\.(\d+)\.\d+ <\d+", engines["node"])}
    assert all(major in lower and lower[major] <= minor for major, minor in node_env.SUPPORTED), engines


def test_a_node_asked_for_without_npm_beside_it_is_refused_when_npm_is_needed(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    wrapper = tmp_path / "bin" / "node"
    wrapper.parent.mkdir()
    wrapper.write_text(f'#!/bin/sh\nexec "{node_env.node_runtime().node}" "$@"\n')  # a supported node, no npm
    wrapper.chmod(0o755)
    monkeypatch.setenv(node_env.NODE_ENV, str(wrapper))
    with pytest.raises(SandboxError, match=r"CUTOVER_NODE=.*: no npm found beside .*bin/node"):
        node_env.ensure_parse_modules(tmp_path / "cache")
