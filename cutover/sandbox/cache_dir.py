"""Things built once into the cache directory and reused: a stamp written last, a lock for builders.

A stamp file inside the built directory records what it was built from; it is written only after a
complete build, so a present, matching stamp means "reuse without looking further". Concurrent builders
(pytest-xdist workers, two suites) serialise on a lock file next to it; the loser finds the stamp and reuses.
"""
from __future__ import annotations

import fcntl
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from cutover.errors import SandboxError

STAMP_NAME = ".cutover-stamp"
_INSTALL_TIMEOUT = 900.0


def ensure_built(cache_dir: Path, name: str, current: Callable[[Path], bool],
                 build: Callable[[Path, Path], None]) -> Path:
    """``cache_dir/name``, built by ``build(target, log_path)`` under the lock unless ``current`` already."""
    target = cache_dir / name
    if current(target):
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    with locked(cache_dir / f"{name}.lock"):
        if not current(target):
            build(target, cache_dir / f"{name}-install.log")
    return target


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """An exclusive lock on ``path`` (created if absent) for the duration of the block."""
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def read_stamp(directory: Path) -> str | None:
    """The stamp recorded in ``directory``, or None when there is none (never built, or interrupted)."""
    try:
        return (directory / STAMP_NAME).read_text().strip()
    except OSError:
        return None


def write_stamp(directory: Path, value: str) -> None:
    (directory / STAMP_NAME).write_text(value + "\n")


def clear_stamp(directory: Path) -> None:
    (directory / STAMP_NAME).unlink(missing_ok=True)


def run_logged(argv: list[str], log_path: Path, what: str, cwd: Path | None = None) -> None:
    """Run an install step with its output appended to ``log_path``; SandboxError naming ``what`` on failure."""
    with open(log_path, "ab") as log:
        try:
            done = subprocess.run(argv, cwd=cwd, stdout=log, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, timeout=_INSTALL_TIMEOUT, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SandboxError(f"{what} failed ({exc}); see {log_path}") from exc
    if done.returncode != 0:
        raise SandboxError(f"{what} failed (exit {done.returncode}); see {log_path}")
