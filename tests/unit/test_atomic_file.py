"""cutover.atomic_file: a file other processes read is replaced whole, and a failed write leaves nothing."""
from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from cutover import atomic_file
from cutover.atomic_file import write_atomically


def test_text_and_bytes_replace_the_file_whole_and_leave_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    assert write_atomically(path, "{}\n") == path and path.read_text(encoding="utf-8") == "{}\n"
    write_atomically(path, b"\x80binary")
    assert path.read_bytes() == b"\x80binary"
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]


def test_a_reader_never_sees_part_of_a_file_being_rewritten(tmp_path: Path) -> None:
    path, sizes = tmp_path / "window.json", (1, 200_000)
    write_atomically(path, "a" * sizes[0])
    seen: set[int] = set()
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            seen.add(len(path.read_bytes()))

    reader = threading.Thread(target=read)
    reader.start()
    for i in range(200):
        write_atomically(path, "a" * sizes[i % 2])
    done.set()
    reader.join()
    assert seen <= set(sizes)


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "shard.json"
    write_atomically(path, "old")

    def refuse(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(atomic_file.os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        write_atomically(path, "new")
    assert path.read_text(encoding="utf-8") == "old" and os.listdir(tmp_path) == ["shard.json"]
