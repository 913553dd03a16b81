"""Things built once into the per-user cache directory and reused: a stamp written last, a lock for builders.

The cache directory is ``$CUTOVER_CACHE_DIR`` when set, else ``$XDG_CACHE_HOME/cutover``, else
``~/.cache/cutover``; never the current directory, so a run from any checkout or app repository reuses it.
A stamp file inside the built directory records what it was built from; it is written only after a
complete build, so a present, matching stamp means "reuse without looking further". Concurrent builders
(pytest-xdist workers, two suites) serialise on a lock file next to it; the loser finds the stamp and reuses.
A build takes minutes on a fresh machine, so it says on stderr what it installs, where, and how long it took.
"""
from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from cutover.errors import SandboxError

CACHE_ENV = "CUTOVER_CACHE_DIR"
STAMP_NAME = ".cutover-stamp"
_INSTALL_TIMEOUT = 900.0


def default_cache_dir() -> Path:
    """``$CUTOVER_CACHE_DIR``, else ``$XDG_CACHE_HOME/cutover``, else ``~/.cache/cutover`` (absolute)."""
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return Path(explicit).expanduser().absolute()
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if os.path.isabs(xdg) else Path("~/.cache").expanduser()  # the XDG spec ignores relative
    return base / "cutover"


def say(message: str) -> None:
    """One progress line on stderr (pytest shows it: installs run at configure time, outside capture)."""
    print(f"cutover: {message}", file=sys.stderr, flush=True)


def ensure_built(cache_dir: Path, name: str, current: Callable[[Path], bool],
                 build: Callable[[Path, Path], None], label: str) -> Path:
    """``cache_dir/name``, built by ``build(target, log_path)`` under the lock unless ``current`` already.

    ``label`` names what is installed (``"mongoeco 4.11.0"``) in the progress lines.
    """
    target = cache_dir / name
    if current(target):
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    waiting = f"waiting for another install of {label} into {target} to finish"
    with locked(cache_dir / f"{name}.lock", waiting):
        if not current(target):
            _build_saying(target, build, cache_dir / f"{name}-install.log", label)
    return target


def _build_saying(target: Path, build: Callable[[Path, Path], None], log_path: Path, label: str) -> None:
    say(f"installing {label} into {target} (once; log: {log_path})")
    started = time.monotonic()
    build(target, log_path)
    say(f"installed {label} in {time.monotonic() - started:.1f} s")


@contextmanager
def locked(path: Path, waiting: str = "") -> Iterator[None]:
    """An exclusive lock on ``path`` (created if absent) for the block; says ``waiting`` if it must wait."""
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if waiting:
                say(waiting)
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


def run_logged(argv: list[str], log_path: Path, what: str, cwd: Path | None = None,
               env: dict[str, str] | None = None) -> None:
    """Run an install step (said on stderr, output appended to ``log_path``); SandboxError naming ``what``."""
    say(f"  {what}")
    with open(log_path, "ab") as log:
        try:
            done = subprocess.run(argv, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                  env={**os.environ, **(env or {})}, timeout=_INSTALL_TIMEOUT, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SandboxError(f"{what} failed ({exc}); see {log_path}") from exc
    if done.returncode != 0:
        raise SandboxError(f"{what} failed (exit {done.returncode}); see {log_path}")
