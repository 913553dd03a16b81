"""The files of an export as the user holds it: a directory (``export_dir``) or the zip itself (``export_file``).

A zip is read in place, member by member (nothing is extracted, so nothing is left behind): each member is
opened when a reader streams it, from its own handle on the archive, so concurrent readers never share a
file position. What is taken from either form:

- the ``.json`` files of one folder: the top level, or the one folder that holds them (a zip made by
  compressing the folder ``MyApp/``, a directory the zip was unpacked into); JSON files in several folders
  are a configuration error naming them (which one is the export?);
- never the litter of archivers: ``__MACOSX/`` and dot files (``._User.json``, ``.DS_Store``);
- a member name that an archiver stored as UTF-8 without the zip's UTF-8 flag (so that Python's zipfile
  decodes it as CP437) is read back as the UTF-8 it was: ``_Join꞉tags꞉Article.json`` keeps its U+A789.
"""
from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from cutover.errors import ConfigError

UTF8_FLAG = 0x800         # general purpose bit 11: the member's name is UTF-8
DEPTH = 2                 # folders looked into below an export directory
TEXT_ENCODING = "utf-8-sig"   # UTF-8, with or without the byte-order mark Windows editors write


@dataclass(frozen=True)
class ExportFile:
    """One file of an export: its name as the user sees it, and how to open it (bytes)."""

    name: str
    opener: Callable[[], IO[bytes]]

    def open_text(self) -> IO[str]:
        return io.TextIOWrapper(self.opener(), encoding=TEXT_ENCODING)


def export_files(location: Path) -> list[ExportFile]:
    """The JSON files of the export at ``location`` (a directory or a zip file), by name."""
    if location.is_dir():
        found = _directory(location)
    elif location.is_file() and zipfile.is_zipfile(location):
        found = _zip(location)
    elif location.exists():
        raise ConfigError(f"source export {location} is neither a directory nor a zip file")
    else:
        raise ConfigError(f"source export {location} does not exist")
    return _one_folder(location, found)


def _directory(root: Path) -> dict[PurePosixPath, ExportFile]:
    found: dict[PurePosixPath, ExportFile] = {}
    for depth in range(DEPTH + 1):
        for path in root.glob("/".join(["*"] * (depth + 1))):
            rel = PurePosixPath(path.relative_to(root).as_posix())
            if path.is_file() and _wanted(rel):
                found[rel] = ExportFile(path.name, _file_opener(path))
    return found


def _file_opener(path: Path) -> Callable[[], IO[bytes]]:
    return lambda: path.open("rb")


def _zip(archive: Path) -> dict[PurePosixPath, ExportFile]:
    try:
        with zipfile.ZipFile(archive) as zf:
            members = [info for info in zf.infolist() if not info.is_dir()]
    except (zipfile.BadZipFile, OSError) as exc:
        raise ConfigError(f"source export_file {archive} cannot be read as a zip: {exc}") from exc
    found: dict[PurePosixPath, ExportFile] = {}
    for info in members:
        rel = PurePosixPath(member_name(info))
        if _wanted(rel):
            found[rel] = ExportFile(rel.name, _member_opener(archive, info.filename))
    return found


def _member_opener(archive: Path, member: str) -> Callable[[], IO[bytes]]:
    def open_member() -> IO[bytes]:
        with zipfile.ZipFile(archive) as zf:   # the member keeps the archive's file open until it is closed
            return zf.open(member)
    return open_member


def member_name(info: zipfile.ZipInfo) -> str:
    """The member's name, with UTF-8 stored without the UTF-8 flag read back as UTF-8 (not CP437)."""
    if info.flag_bits & UTF8_FLAG:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def _wanted(rel: PurePosixPath) -> bool:
    if rel.suffix.lower() != ".json" or "__MACOSX" in rel.parts:
        return False
    return not any(part.startswith(".") for part in rel.parts)


def _one_folder(location: Path, found: dict[PurePosixPath, ExportFile]) -> list[ExportFile]:
    folders = sorted({rel.parent for rel in found}, key=lambda p: (len(p.parts), str(p)))
    if not folders:
        raise ConfigError(f"source export {location} holds no .json file: is it a Parse export?")
    if len(folders) > 1:
        where = ", ".join(str(f) if str(f) != "." else "(top level)" for f in folders[:5])
        raise ConfigError(f"source export {location} holds JSON files in several folders ({where}): point "
                          "export_dir at the one folder that holds the export's class files")
    return sorted((f for rel, f in found.items() if rel.parent == folders[0]), key=lambda f: f.name)
