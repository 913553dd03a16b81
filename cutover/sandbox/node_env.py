"""Node.js and the npm packages of the sandbox's Parse Server, installed once into a cache directory.

``npm ci`` from the committed lock file (``parse/package-lock.json``) into ``<cache_dir>/parse-node``,
reused while the hash of package.json + lock is unchanged. Install scripts are not run: those of this
tree only print banners or check versions, and npm 11 skips them by default anyway. Concurrent callers
serialise on a lock file.
"""
from __future__ import annotations

import fcntl
import hashlib
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cutover.errors import SandboxError

PACKAGE_DIR = Path(__file__).with_name("parse")
MIN_NODE = (20, 19)
NODE_DIR_NAME = "parse-node"
STAMP_NAME = ".cutover-stamp"
_MANIFESTS = ("package.json", "package-lock.json")
_PROBE_TIMEOUT = 10.0
_INSTALL_TIMEOUT = 900.0


def ensure_parse_modules(cache_dir: Path) -> Path:
    """The directory whose ``node_modules`` holds parse-server and its adapters; installed if needed."""
    check_node()
    cache_dir = cache_dir.resolve()  # the path goes into NODE_PATH of a child with another cwd
    target = cache_dir / NODE_DIR_NAME
    digest = manifest_digest()
    if _is_current(target, digest):
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    with _locked(cache_dir / f"{NODE_DIR_NAME}.lock"):
        if not _is_current(target, digest):
            _install(target, digest, cache_dir / f"{NODE_DIR_NAME}-install.log")
    return target


def manifest_digest() -> str:
    """sha256 over package.json and package-lock.json: what the installed tree was built from."""
    sha = hashlib.sha256()
    for name in _MANIFESTS:
        sha.update((PACKAGE_DIR / name).read_bytes())
    return sha.hexdigest()


def _is_current(target: Path, digest: str) -> bool:
    try:
        stamp = (target / STAMP_NAME).read_text().strip()
    except OSError:
        return False
    return stamp == digest and (target / "node_modules" / "parse-server").is_dir()


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _install(target: Path, digest: str, log_path: Path) -> None:
    (target / STAMP_NAME).unlink(missing_ok=True)
    target.mkdir(parents=True, exist_ok=True)
    for name in _MANIFESTS:
        shutil.copyfile(PACKAGE_DIR / name, target / name)
    argv = [_require("npm"), "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=warn"]
    with open(log_path, "ab") as log:
        try:
            done = subprocess.run(argv, cwd=target, stdout=log, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, timeout=_INSTALL_TIMEOUT, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SandboxError(f"npm ci for Parse Server failed ({exc}); see {log_path}") from exc
    if done.returncode != 0:
        raise SandboxError(f"npm ci for Parse Server failed (exit {done.returncode}); see {log_path}")
    (target / STAMP_NAME).write_text(digest + "\n")


def check_node() -> tuple[int, int, int]:
    """The installed Node.js version; SandboxError unless it is >= 20.19 (what parse-server 9 needs)."""
    node = _require("node")
    try:
        out = subprocess.run([node, "--version"], capture_output=True, text=True,
                             timeout=_PROBE_TIMEOUT, check=False).stdout
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SandboxError(f"`node --version` failed ({exc}): install Node.js >= 20.19") from exc
    version = parse_node_version(out)
    if version[:2] < MIN_NODE:
        raise SandboxError(
            f"Node.js {'.'.join(map(str, version))} is too old: parse-server 9 needs >= 20.19 "
            "(install Node.js 20.19+, 22.13+ or 24.11+)"
        )
    return version


def parse_node_version(text: str) -> tuple[int, int, int]:
    """``v20.20.2`` -> (20, 20, 2); SandboxError on anything else."""
    match = re.fullmatch(r"v?(\d+)\.(\d+)\.(\d+)", text.strip())
    if not match:
        raise SandboxError(f"cannot read the Node.js version from {text.strip()!r}: install Node.js >= 20.19")
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


def _require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise SandboxError(f"`{tool}` is not on PATH: install Node.js >= 20.19 (with npm) for the sandbox")
    return path
