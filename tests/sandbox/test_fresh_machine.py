"""A fresh machine needs only Python: ``pytest --target demo`` in a subprocess, the way a user runs it.

The demo passes with broken ``node`` and ``npm`` first on PATH (the sandbox extra's Node.js runs Parse
Server and npm), installing into a fresh temporary cache while it says so on stderr; a system Node asked
for through CUTOVER_NODE is checked against the supported versions and refused in one line.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cutover.sandbox import mongoeco_env, node_env
from cutover.sandbox.stack import REAL_MONGO_ENV

pytestmark = pytest.mark.sandbox
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def broken_path(tmp_path: Path) -> tuple[str, Path]:
    """PATH with a ``node`` and an ``npm`` first that note their call in a file and exit with an error."""
    bin_dir, called = tmp_path / "broken-bin", tmp_path / "shim-called"
    bin_dir.mkdir()
    for tool in ("node", "npm"):
        shim = bin_dir / tool
        shim.write_text(f'#!/bin/sh\necho "{tool} $*" >> "{called}"\necho "{tool}: broken" >&2\nexit 1\n')
        shim.chmod(0o755)
    return f"{bin_dir}{os.pathsep}{os.environ['PATH']}", called


def demo(tmp_path: Path, cache: Path, path: str, timeout: float, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != node_env.NODE_ENV}
    env.update({"PATH": path, "CUTOVER_CACHE_DIR": str(cache), **extra})
    cmd = [sys.executable, "-m", "pytest", "--target", "demo", f"--reports-dir={tmp_path / 'reports'}",
           "-q", "-p", "no:randomly"]
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout, check=False)


@pytest.mark.slow
def test_the_demo_passes_on_the_wheels_node_into_a_fresh_cache_saying_what_it_installs(
        tmp_path: Path, broken_path: tuple[str, Path]) -> None:
    path, called = broken_path
    cache = tmp_path / "cache"
    done = demo(tmp_path, cache, path, timeout=1200)
    assert done.returncode == 0, f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert re.search(r"\d+ passed", done.stdout) and not re.search(r"\d+ (failed|errors?)\b", done.stdout)
    assert not called.exists(), f"the broken shims were run: {called.read_text()}"
    modules, wheel = cache / "parse-node", node_env.node_runtime()
    assert node_env.read_stamp(modules) == node_env.manifest_digest()
    expected = [
        f"cutover: installing the npm packages of parse-server 9.10.0 into {modules} (once; log: "
        f"{cache / 'parse-node-install.log'})",
        f"cutover:   npm ci from the lock file, with the npm of {wheel.label}",
        "cutover: installed the npm packages of parse-server 9.10.0 in ",
    ]
    if not (mongoeco_env.installed_here() or os.environ.get(REAL_MONGO_ENV)):
        expected[:0] = [f"cutover: installing mongoeco 4.11.0 into {cache / 'mongoeco-venv'} (once; log: ",
                        "cutover:   creating a venv with ", "cutover:   pip install mongoeco[wire]==4.11.0",
                        "cutover: installed mongoeco 4.11.0 in "]
    said = [line for line in done.stderr.splitlines() if line.startswith("cutover: ")]
    assert len(said) == len(expected) and all(line.startswith(e) for line, e in zip(said, expected, strict=True)), \
        done.stderr


def test_a_system_node_asked_for_is_checked_and_an_unsupported_one_refused_in_one_line(tmp_path: Path) -> None:
    old = tmp_path / "node18"
    old.write_text("#!/bin/sh\necho v18.0.0\n")
    old.chmod(0o755)
    cache = tmp_path / "cache"
    done = demo(tmp_path, cache, os.environ["PATH"], timeout=120, CUTOVER_NODE=str(old))
    output = done.stdout + done.stderr
    assert done.returncode == 4, output
    lines = [line for line in output.splitlines() if "Node.js 18.0.0" in line]
    assert lines == [f"ERROR: the sandbox could not start: CUTOVER_NODE={old}: Node.js 18.0.0 is not supported "
                     "by parse-server 9.10.0, which needs 20.19+ (20.x), 22.13+ (22.x) or 24.11+ (24.x): point "
                     "CUTOVER_NODE at a supported node, or unset it to use the sandbox extra's Node.js"], output
    assert "Traceback" not in output and not cache.exists()
