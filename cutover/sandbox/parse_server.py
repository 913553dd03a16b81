"""The sandbox's Parse Server (the real npm ``parse-server``) as a :class:`Service`.

Options are a frozen dataclass turned into the JSON document ``parse/server.js`` reads from the
``CUTOVER_PARSE_CONFIG`` environment variable; modules come from the cache that
:func:`cutover.sandbox.node_env.ensure_parse_modules` fills. The same script runs every pinned version
(``node_env.PARSE_SERVERS``): only NODE_PATH, the installed tree, differs.
"""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from cutover.sandbox.node_env import (
    PACKAGE_DIR,
    PARSE_9,
    NodeRuntime,
    PinnedPackages,
    ensure_parse_modules,
    node_runtime,
)
from cutover.sandbox.process import Service

HOST = "127.0.0.1"
SERVER_JS = PACKAGE_DIR / "server.js"
DEFAULT_CLOUD = PACKAGE_DIR / "cloud" / "main.js"
_HEALTH_TIMEOUT = 1.0


@dataclass(frozen=True)
class S3Files:
    """Files in S3 (or an S3 stand-in at ``endpoint``) through ``@parse/s3-files-adapter``."""

    endpoint: str
    bucket: str
    region: str = "us-east-1"
    access_key_id: str = "testing"
    secret_access_key: str = "testing"
    direct_access: bool = False
    bucket_prefix: str = ""
    base_url: str | None = None

    def to_config(self) -> dict[str, object]:
        return {
            "kind": "s3", "endpoint": self.endpoint, "bucket": self.bucket, "region": self.region,
            "accessKeyId": self.access_key_id, "secretAccessKey": self.secret_access_key,
            "directAccess": self.direct_access, "bucketPrefix": self.bucket_prefix, "baseUrl": self.base_url,
        }


@dataclass(frozen=True)
class GCSFiles:
    """Files in Google Cloud Storage (or the emulator at ``api_endpoint``) through ``@parse/gcs-files-adapter``.

    ``base_url`` is a sandbox-only rewrite (server.js): the adapter itself always gives direct-access URLs
    as ``https://storage.googleapis.com/<bucket>/<bucket_prefix><name>``; with ``base_url`` set (for the
    emulator: ``<endpoint>/<bucket>``) they read ``<base_url>/<bucket_prefix><name>`` instead.
    """

    bucket: str
    api_endpoint: str | None = None  # e.g. http://127.0.0.1:<port>; None: the real GCS
    project_id: str = "cutover-sandbox"
    direct_access: bool = False
    bucket_prefix: str = ""
    base_url: str | None = None
    key_filename: str | None = None  # a service-account key file, for a real bucket only

    def to_config(self) -> dict[str, object]:
        return {
            "kind": "gcs", "bucket": self.bucket, "bucketPrefix": self.bucket_prefix,
            "directAccess": self.direct_access, "baseUrl": self.base_url, "apiEndpoint": self.api_endpoint,
            "projectId": self.project_id, "keyFilename": self.key_filename,
        }


@dataclass(frozen=True)
class GridFSFiles:
    """Files in GridFS on the Parse database (Parse Server's default adapter)."""

    def to_config(self) -> dict[str, object]:
        return {"kind": "gridfs"}


@dataclass(frozen=True)
class ParseOptions:
    """One sandbox Parse Server; the keys are sandbox-only values, never real secrets."""

    port: int
    database_uri: str
    app_id: str = "cutover-sandbox"
    master_key: str = "sandbox-master-key"
    rest_key: str = "sandbox-rest-key"
    javascript_key: str = "sandbox-js-key"
    file_key: str = "sandbox-file-key"
    mount_path: str = "/parse"
    public_server_url: str | None = None
    cloud: Path | None = DEFAULT_CLOUD
    files: S3Files | GCSFiles | GridFSFiles = field(default_factory=GridFSFiles)
    log_level: str = "warn"

    @property
    def url(self) -> str:
        """The server URL clients use: ``http://127.0.0.1:<port><mount_path>``."""
        return f"http://{HOST}:{self.port}{self.mount_path}"

    def to_config(self) -> dict[str, object]:
        """The JSON document ``parse/server.js`` reads."""
        return {
            "port": self.port, "host": HOST, "mountPath": self.mount_path, "appId": self.app_id,
            "masterKey": self.master_key, "restKey": self.rest_key, "javascriptKey": self.javascript_key,
            "fileKey": self.file_key, "databaseURI": self.database_uri, "serverURL": self.url,
            "publicServerURL": self.public_server_url or self.url,
            "cloud": str(self.cloud) if self.cloud else None, "files": self.files.to_config(),
            "logLevel": self.log_level,
        }


def parse_service(opts: ParseOptions, log_path: Path, cache_dir: Path, node: NodeRuntime | None = None,
                  packages: PinnedPackages = PARSE_9) -> Service:
    """Parse Server (``packages``: 9.10.0 by default) on 127.0.0.1:``opts.port``, run by ``node`` (default:
    :func:`node_runtime`). Its npm packages are installed into ``cache_dir`` first if needed.
    """
    node = node or node_runtime()
    installed = ensure_parse_modules(cache_dir, node, packages)
    return Service(
        name=f"parse-server on port {opts.port}",
        argv=[str(node.node), str(SERVER_JS)],
        log_path=log_path,
        ready=lambda: health_ok(opts.url),
        env={**node.env(), "CUTOVER_PARSE_CONFIG": json.dumps(opts.to_config()),
             "NODE_PATH": str(installed / "node_modules")},
        cwd=installed,  # not the repository: nothing a library writes relative to cwd lands in the tree
        timeout=90.0,
    )


def health_ok(url: str) -> bool:
    """True when ``<url>/health`` answers 200 with ``{"status": "ok"}``."""
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=_HEALTH_TIMEOUT) as answer:
            return bool(answer.status == 200 and json.loads(answer.read()) == {"status": "ok"})
    except (urllib.error.URLError, OSError, ValueError):
        return False
