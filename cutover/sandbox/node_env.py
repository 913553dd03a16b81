"""Node.js and the npm packages of the sandbox's Parse Server, installed once into a cache directory.

``npm ci`` from the committed lock file (``parse/package-lock.json``) into ``<cache_dir>/parse-node``,
reused while the hash of package.json + lock is unchanged. Install scripts are not run: those of this
tree only print banners or check versions, and npm 11 skips them by default anyway. Stamp and lock:
:mod:`cutover.sandbox.cache_dir`.
"""
from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from pathlib import Path

from cutover.errors import SandboxError
from cutover.sandbox.cache_dir import STAMP_NAME as STAMP_NAME  # re-exported: the tests read the stamp
from cutover.sandbox.cache_dir import clear_stamp, ensure_built, read_stamp, run_logged, write_stamp

PACKAGE_DIR = Path(__file__).with_name("parse")
MIN_NODE = (20, 19)
NODE_DIR_NAME = "parse-node"
_MANIFESTS = ("package.json", "package-lock.json")
_PROBE_TIMEOUT = 10.0


def ensure_parse_modules(cache_dir: Path) -> Path:
    """The directory whose ``node_modules`` holds parse-server and its adapters; installed if needed."""
    check_node()
    cache_dir = cache_dir.resolve()  # the path goes into NODE_PATH of a child with another cwd
    digest = manifest_digest()
    return ensure_built(cache_dir, NODE_DIR_NAME, lambda target: _is_current(target, digest),
                        lambda target, log_path: _install(target, digest, log_path))


def manifest_digest() -> str:
    """sha256 over package.json and package-lock.json: what the installed tree was built from."""
    sha = hashlib.sha256()
    for name in _MANIFESTS:
        sha.update((PACKAGE_DIR / name).read_bytes())
    return sha.hexdigest()


def _is_current(target: Path, digest: str) -> bool:
    return read_stamp(target) == digest and (target / "node_modules" / "parse-server").is_dir()


def _install(target: Path, digest: str, log_path: Path) -> None:
    clear_stamp(target)
    target.mkdir(parents=True, exist_ok=True)
    for name in _MANIFESTS:
        shutil.copyfile(PACKAGE_DIR / name, target / name)
    argv = [_require("npm"), "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=warn"]
    run_logged(argv, log_path, "npm ci for Parse Server", cwd=target)
    write_stamp(target, digest)


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
