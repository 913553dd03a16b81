"""The Python >= 3.13 that runs mongoeco, the sandbox's MongoDB stand-in.

When the interpreter running cutover is >= 3.13, the ``sandbox`` extra installs mongoeco into the same
environment (an environment marker) and that interpreter runs it: no second venv. On an older Python a
venv is built once into ``<cache_dir>/mongoeco-venv`` from a Python 3.13 found on this machine, and reused
(see :mod:`cutover.sandbox.cache_dir`): the stamp records the requirement installed, so a complete venv is
recognised without running pip (well under 0.1 s).
"""
from __future__ import annotations

import glob
import importlib.metadata
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from cutover.errors import SandboxError
from cutover.sandbox.cache_dir import default_cache_dir, ensure_built, read_stamp, run_logged, write_stamp
from cutover.sandbox.mongo_shims import PINNED_VERSION

REQUIREMENT = f"mongoeco[wire]=={PINNED_VERSION}"  # the "wire" extra brings pymongo's bson, used on the wire
VENV_NAME = "mongoeco-venv"
_VERSION_TIMEOUT = 10.0
_HOW_TO_GET = (
    "the sandbox's MongoDB stand-in (mongoeco) needs Python >= 3.13 and none was found (tried python3.13 on "
    "PATH, `pyenv prefix 3.13*`, ~/.pyenv/versions/3.13*). Simplest: run cutover itself on Python 3.13+, "
    "where the sandbox extra installs mongoeco alongside. Or install one: Debian 13 / Ubuntu 25.04+: "
    "`apt-get install python3.13-venv`; older Debian/Ubuntu: `pyenv install 3.13` (Ubuntu also: the "
    "deadsnakes PPA's python3.13-venv); macOS: `brew install python@3.13`; GitHub Actions: "
    "`actions/setup-python` with `python-version: \"3.13\"`"
)


def ensure_mongoeco_python(cache_dir: Path) -> Path:
    """The python that runs mongoeco ``PINNED_VERSION``: this one if it has it, else a cached venv's."""
    if installed_here():
        return Path(sys.executable)
    cache_dir = cache_dir.resolve()  # the python path is run by children with another cwd
    venv = ensure_built(cache_dir, VENV_NAME, _is_complete, _build, label=f"mongoeco {PINNED_VERSION}")
    return _venv_python(venv)


def installed_here() -> bool:
    """True when this interpreter is >= 3.13 and holds mongoeco ``PINNED_VERSION`` (the sandbox extra)."""
    if sys.version_info < (3, 13):
        return False
    try:
        return importlib.metadata.version("mongoeco") == PINNED_VERSION
    except importlib.metadata.PackageNotFoundError:
        return False


def _venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def _is_complete(venv: Path) -> bool:
    return read_stamp(venv) == REQUIREMENT and _venv_python(venv).exists()


def _build(venv: Path, log_path: Path) -> None:
    python = find_python313()
    shutil.rmtree(venv, ignore_errors=True)  # a half-built venv from an interrupted run
    run_logged([str(python), "-m", "venv", str(venv)], log_path, f"creating a venv with {python}")
    pip = [str(_venv_python(venv)), "-m", "pip", "install", "--disable-pip-version-check", REQUIREMENT]
    run_logged(pip, log_path, f"pip install {REQUIREMENT}")
    write_stamp(venv, REQUIREMENT)


def find_python313() -> Path:
    """A working Python >= 3.13: this one, python3.13 on PATH, pyenv, ~/.pyenv; SandboxError if none."""
    for candidate in _candidates():
        if _is_python313(candidate):
            return candidate
    raise SandboxError(_HOW_TO_GET)


def _candidates() -> Iterator[Path]:
    this = this_python()
    if this:
        yield this
    on_path = shutil.which("python3.13")
    if on_path:
        yield Path(on_path)  # may be a pyenv shim that refuses to run: _is_python313 tells
    for prefix in _pyenv_prefixes():
        yield prefix / "bin" / "python3.13"
    home = os.path.expanduser("~/.pyenv/versions/3.13*/bin/python3.13")
    for path in sorted(glob.glob(home), reverse=True):
        yield Path(path)


def this_python() -> Path | None:
    """This interpreter when it is >= 3.13 (it may lack mongoeco: cutover installed without the extra)."""
    return Path(sys.executable) if sys.version_info >= (3, 13) else None


def _pyenv_prefixes() -> Iterator[Path]:
    if not shutil.which("pyenv"):
        return
    versions = _output(["pyenv", "versions", "--bare"]).split()
    for version in sorted((v for v in versions if v.startswith("3.13")), reverse=True):
        prefix = _output(["pyenv", "prefix", version]).strip()
        if prefix:
            yield Path(prefix)


def _output(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=_VERSION_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout if done.returncode == 0 else ""


def _is_python313(path: Path) -> bool:
    code = "import sys; print(sys.version_info[:2] >= (3, 13))"
    return _output([str(path), "-c", code]).strip() == "True"


if __name__ == "__main__":  # python -m cutover.sandbox.mongoeco_env [cache_dir]: prepare the venv ahead
    print(ensure_mongoeco_python(Path(sys.argv[1]) if len(sys.argv) > 1 else default_cache_dir()))
