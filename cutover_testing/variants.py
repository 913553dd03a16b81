"""Planted REST defects: extra Parse Server variants started next to a running :class:`Sandbox`.

Each function takes a started sandbox, starts what the defect needs as a sandbox :class:`Service`
(registered in ``sandbox.services``, so ``sandbox.stop()`` stops it) and returns the Target that points at
it. The sandbox's own servers and databases are never changed; a CLP change goes to a fork.

Run as ``python -m cutover_testing.variants PORT UPSTREAM`` this module is the health stand-in: it answers
``<mount>/health`` with 503 ``{"status": "initialized"}`` and forwards every other request to UPSTREAM.
"""
from __future__ import annotations

import dataclasses
import json
import sys
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cutover.model import Target
from cutover.sandbox.parse_server import DEFAULT_CLOUD, ParseOptions, S3Files, parse_service
from cutover.sandbox.process import Service, free_port, port_open, start_all
from cutover.sandbox.proxy_cli import importable_env
from cutover.sandbox.s3_server import DUMMY_ACCESS_KEY, DUMMY_SECRET_KEY, create_bucket
from cutover.sandbox.seed import APP_ID
from cutover.sandbox.tls_proxy import tls_front_service
from cutover_testing.faults import start_fault_front

_PROXY_TIMEOUT = 10.0
TRIGGERS_CLOUD = Path(__file__).with_name("cloud") / "triggers.js"


def staging_database(sandbox: Any) -> Target:
    """Parse Server on the source (staging) database; the target config still names the target database."""
    return _on_server(sandbox, "staging-db", _start_parse(sandbox, "staging-db", sandbox.ep.source_uri,
                                                          _bucket_of(sandbox.target())))


def wrong_master_key(sandbox: Any) -> Target:
    """The target config carries a master key the server does not know."""
    base = sandbox.target("wrong-master-key")
    bad = "0" * 32
    return dataclasses.replace(base, parse=dataclasses.replace(base.parse, master_key=bad),
                               secrets=tuple(sorted({*base.secrets, bad})))


# Cloud Code a server with planted defects adds: every log-in refused (sign-up still opens a session)
REFUSE_LOG_IN = ("Parse.Cloud.beforeLogin(() => { throw new Parse.Error(Parse.Error.OPERATION_FORBIDDEN, "
                 "'log-in refused by a planted defect'); });\n")


def independent_defects(sandbox: Any, label: str = "independent-defects") -> Target:
    """Five independent defects on one fork with one Parse Server, each breaking another step: AuditLog's
    class-level permissions opened to the public in ``_SCHEMA``, Cloud Code without the function ``hello`` and
    refusing every log-in, a files adapter writing to another bucket than the target's, and a front before
    the server that refuses the method the Parse JavaScript SDK tunnels in its POST bodies (plain REST passes
    it: only a real client meets that one)."""
    fork = sandbox.fork_target(label)
    _open_to_the_public(sandbox.db(fork.database.uri), "AuditLog")
    bucket = f"{label}-other-files"
    create_bucket(sandbox.s3, bucket, fork.files.region)
    url = _start_parse(sandbox, label, fork.database.uri, bucket,
                       cloud=_cloud_without(sandbox, "hello", extra=REFUSE_LOG_IN))
    front = start_fault_front(f"{label} front", int(urlsplit(url).port or 0), sandbox.run_dir / "variants",
                              mode="no-tunnel")
    sandbox.services.append(front.service)
    url = f"http://127.0.0.1:{front.port}{urlsplit(url).path}"
    return dataclasses.replace(fork, parse=dataclasses.replace(fork.parse, server_url=url, public_url=""))


def forked_server(sandbox: Any, label: str, cloud: Path | None = DEFAULT_CLOUD) -> Target:
    """A fork (own database and bucket, a clean migration) with its own Parse Server behind its own TLS
    front, like the sandbox's target: a scenario may run every check, kill runs and leave things behind
    without touching the sandbox's target."""
    fork = sandbox.fork_target(label)
    url = _start_parse(sandbox, label, fork.database.uri, _bucket_of(fork), cloud=cloud)
    port, good = free_port(), sandbox.pki.good
    _launch(sandbox, tls_front_service(f"TLS front of {label}", port, int(urlsplit(url).port or 0),
                                       good.cert_file, good.key_file,
                                       sandbox.run_dir / "logs" / f"tls-variant-{label}.log"))
    assert fork.parse is not None
    return dataclasses.replace(fork, parse=dataclasses.replace(fork.parse, server_url=url,
                                                               public_url=f"https://localhost:{port}/parse"))


def app_triggers(sandbox: Any, required_field: str = "", label: str = "triggers") -> Target:
    """A forked server whose Cloud Code (``cloud/triggers.js`` after ``main.js``) writes elsewhere when
    objects are saved: a Profile per new user, a counter per save of a probe object; with
    ``required_field``, probe objects without that field are rejected (Parse error 142)."""
    cloud = sandbox.run_dir / "variants" / f"cloud-{label}.js"
    cloud.parent.mkdir(parents=True, exist_ok=True)
    cloud.write_text(triggers_cloud(sandbox.target().probe_class, required_field))
    return forked_server(sandbox, label, cloud)


def triggers_cloud(probe_class: str, required_field: str = "") -> str:
    """The Cloud Code of :func:`app_triggers`: the sandbox's functions, then the triggers."""
    options = json.dumps({"probeClass": probe_class, "requiredField": required_field})
    return (f"require({json.dumps(str(DEFAULT_CLOUD))});\n"
            f"require({json.dumps(str(TRIGGERS_CLOUD))})({options});\n")


def health_503(sandbox: Any) -> Target:
    """A stand-in in front of the target server: /health answers 503, everything else is forwarded."""
    port = free_port()
    upstream = sandbox.ep.parse_url.split("/parse")[0]
    service = Service(name="health-503 stand-in", argv=[sys.executable, "-m", __name__, str(port), upstream],
                      log_path=sandbox.run_dir / "logs" / "health-503.log", env=importable_env(),
                      ready=lambda: port_open("127.0.0.1", port), timeout=15.0)
    _launch(sandbox, service)
    return _on_server(sandbox, "health-503", f"http://127.0.0.1:{port}/parse")


# -- helpers ------------------------------------------------------------------------------------------------
def _start_parse(sandbox: Any, label: str, db_uri: str, bucket: str,
                 cloud: Path | None = DEFAULT_CLOUD) -> str:
    target = sandbox.target()
    files = S3Files(endpoint=sandbox.ep.s3_url, bucket=bucket, region=target.files.region,
                    access_key_id=DUMMY_ACCESS_KEY, secret_access_key=DUMMY_SECRET_KEY)
    keys = sandbox.keys
    opts = ParseOptions(port=free_port(), database_uri=db_uri, app_id=APP_ID, master_key=keys["master_key"],
                        rest_key=keys["rest_key"], javascript_key=keys["javascript_key"],
                        file_key=keys["file_key"], cloud=cloud, files=files)
    log = sandbox.run_dir / "logs" / f"parse-variant-{label}.log"
    _launch(sandbox, parse_service(opts, log, sandbox.cache_dir, sandbox.node))
    return opts.url


def _launch(sandbox: Any, service: Service) -> None:
    start_all([service])
    sandbox.services.append(service)


def _on_server(sandbox: Any, label: str, url: str) -> Target:
    base = sandbox.target(label)
    return dataclasses.replace(base, parse=dataclasses.replace(base.parse, server_url=url, public_url=""))


def _cloud_without(sandbox: Any, name: str, extra: str = "") -> Path:
    """The sandbox's Cloud Code without the function ``name``, with ``extra`` code after it."""
    cloud = sandbox.run_dir / "variants" / f"cloud-without-{name}.js"
    cloud.parent.mkdir(parents=True, exist_ok=True)
    cloud.write_text(_without_function(DEFAULT_CLOUD.read_text(), name) + extra)
    return cloud


def _open_to_the_public(db: Any, cls: str) -> None:
    public = {op: {"*": True} for op in ("find", "count", "get", "create", "update", "delete", "addField")}
    db["_SCHEMA"].update_one({"_id": cls}, {"$set": {"_metadata.class_permissions": {**public,
                                                                                      "protectedFields": {}}}})


def _bucket_of(target: Target) -> str:
    assert target.files is not None
    return target.files.bucket


def _without_function(code: str, name: str) -> str:
    marker = f"Parse.Cloud.define('{name}'"
    kept = [line for line in code.splitlines() if not line.startswith(marker)]
    if len(kept) == len(code.splitlines()):
        raise ValueError(f"the sandbox cloud code defines no one-line function '{name}'")
    return "\n".join(kept) + "\n"


# -- the health stand-in ------------------------------------------------------------------------------------
class _HealthProxy(BaseHTTPRequestHandler):
    upstream = ""

    def _handle(self) -> None:
        if self.path.split("?")[0].endswith("/health"):
            self._reply(503, {"Content-Type": "application/json"}, b'{"status":"initialized"}')
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
        request = urllib.request.Request(self.upstream + self.path, data=body, headers=headers,
                                         method=self.command)
        try:
            with urllib.request.urlopen(request, timeout=_PROXY_TIMEOUT) as answer:
                self._reply(answer.status, dict(answer.headers), answer.read())
        except urllib.error.HTTPError as err:
            self._reply(err.code, dict(err.headers), err.read())

    def _reply(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        for key, value in headers.items():
            if key.lower() not in ("content-length", "transfer-encoding", "connection", "date", "server"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = _handle

    def log_message(self, fmt: str, *args: Any) -> None:
        pass


def main(argv: list[str]) -> None:
    port, upstream = int(argv[0]), argv[1].rstrip("/")
    _HealthProxy.upstream = upstream
    ThreadingHTTPServer(("127.0.0.1", port), _HealthProxy).serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
