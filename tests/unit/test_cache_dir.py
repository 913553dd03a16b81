"""The per-user cache directory: where it is, its lock, and the progress lines its installs print."""
from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from cutover.errors import SandboxError
from cutover.sandbox.cache_dir import default_cache_dir, ensure_built, read_stamp, run_logged, write_stamp


@pytest.mark.parametrize(("env", "expected"), [
    ({"CUTOVER_CACHE_DIR": "/srv/cache", "XDG_CACHE_HOME": "/xdg"}, "/srv/cache"),
    ({"XDG_CACHE_HOME": "/xdg"}, "/xdg/cutover"),
    ({"XDG_CACHE_HOME": "relative/xdg"}, "/home/ana/.cache/cutover"),  # the XDG spec ignores a relative path
    ({}, "/home/ana/.cache/cutover"),
])
def test_the_cache_is_per_user_never_the_current_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                           env: dict[str, str], expected: str) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", "/home/ana")
    for name in ("CUTOVER_CACHE_DIR", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert default_cache_dir() == Path(expected)


def test_a_relative_cache_dir_asked_for_is_made_absolute(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CUTOVER_CACHE_DIR", "here")
    assert default_cache_dir() == tmp_path / "here"


def _build_into(calls: list[Path], exist_ok: bool = False) -> Callable[[Path, Path], None]:
    def build(target: Path, log_path: Path) -> None:
        calls.append(target)
        target.mkdir(exist_ok=exist_ok)
        write_stamp(target, "v1")

    return build


def _current(target: Path) -> bool:
    return read_stamp(target) == "v1"


def test_a_build_says_what_it_installs_where_and_how_long_then_is_reused_silently(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    calls: list[Path] = []
    built = ensure_built(tmp_path / "cache", "thing", _current, _build_into(calls), label="thing 1.0")
    lines = capsys.readouterr().err.splitlines()
    assert built == tmp_path / "cache" / "thing" and calls == [built]
    assert lines[0] == (f"cutover: installing thing 1.0 into {built} (once; log: "
                        f"{tmp_path / 'cache' / 'thing-install.log'})")
    assert len(lines) == 2 and lines[1].startswith("cutover: installed thing 1.0 in ")
    assert lines[1].endswith(" s")
    assert ensure_built(tmp_path / "cache", "thing", _current, _build_into(calls), label="thing 1.0") == built
    assert calls == [built] and capsys.readouterr().err == ""


def test_a_failed_build_leaves_no_stamp_and_the_next_run_builds_again(tmp_path: Path) -> None:
    def failing(target: Path, log_path: Path) -> None:
        target.mkdir()
        raise SandboxError("npm ci failed")

    with pytest.raises(SandboxError, match="npm ci failed"):
        ensure_built(tmp_path, "thing", _current, failing, label="thing")
    calls: list[Path] = []
    ensure_built(tmp_path, "thing", _current, _build_into(calls, exist_ok=True), label="thing")
    assert calls == [tmp_path / "thing"]


_HOLDER = """
import fcntl, sys, time
from pathlib import Path
cache = Path(sys.argv[1])
with open(cache / "thing.lock", "a") as lock:
    fcntl.flock(lock, fcntl.LOCK_EX)
    print("locked", flush=True)
    sys.stdin.readline()
    (cache / "thing").mkdir()
    (cache / "thing" / ".cutover-stamp").write_text("v1\\n")
"""


def test_a_second_installer_says_it_waits_for_the_first_then_reuses_its_build(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, str(tmp_path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        calls: list[Path] = []
        waiter = threading.Thread(target=ensure_built,
                                  args=(tmp_path, "thing", _current, _build_into(calls), "thing 1.0"))
        waiter.start()
        deadline = time.monotonic() + 30
        while "cutover: waiting for another install of thing 1.0" not in capsys.readouterr().err:
            waiter.join(0.05)  # until it has said it waits: only then let the holder finish
            assert waiter.is_alive() and time.monotonic() < deadline
        holder.communicate("done\n", timeout=30)
        waiter.join(30)
    finally:
        holder.kill()
    assert not waiter.is_alive() and calls == []  # the first installer's build is reused


def test_an_install_step_is_said_and_logged_and_its_failure_names_it_and_the_log(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "install.log"
    run_logged([sys.executable, "-c", "import os; print(os.environ['STEP_ENV'])"], log, "step one",
               env={"STEP_ENV": "passed through"})
    with pytest.raises(SandboxError, match=rf"step two failed \(exit 3\); see {log}"):
        run_logged([sys.executable, "-c", "raise SystemExit(3)"], log, "step two")
    assert capsys.readouterr().err == "cutover:   step one\ncutover:   step two\n"
    assert log.read_text() == "passed through\n"
