"""Stream the objects of a Parse JSON export file, one at a time, in bounded memory.

Supported shapes (what real exports look like):
- ``{"results": [ {...}, ... ]}``: Parse.com's "Export data" zip (one ``<Class>.json`` per class, relation
  tables as ``_Join:<field>:<Class>.json``) and tools that mimic it;
- ``[ {...}, ... ]``: Parse Dashboard's "Export" of a class as JSON (an array of objects).

A zip member (:mod:`cutover.data.export_files`) streams the same way, decompressed as it is read; a damaged
member (bad CRC, truncated archive) is the same one error naming the file.

Why a small reader of our own instead of ijson: ``json.JSONDecoder.raw_decode`` (the standard library's C
decoder) decodes one array element at a time from a sliding buffer, with exactly ``json.loads``'s types
(int stays int, a float stays float; ijson yields Decimal for every non-integer by default); no new
dependency. Memory: the buffer (``CHUNK`` plus one object). A file that ends before its array closes, or
holds anything but JSON objects, raises :class:`~cutover.errors.UnexpectedAnswer` naming the file and byte.
"""
from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from cutover.data.export_files import TEXT_ENCODING, ExportFile
from cutover.errors import UnexpectedAnswer

CHUNK = 1 << 20
_DECODER = json.JSONDecoder()
_SPACE = " \t\r\n"


class _Buffer:
    def __init__(self, stream: IO[str], name: str) -> None:
        self.stream, self.name, self.text, self.pos, self.consumed, self.eof = stream, name, "", 0, 0, False

    def fill(self) -> bool:
        """Read one more chunk (dropping what was consumed); False at the end of the file."""
        if self.eof:
            return False
        more = self.stream.read(CHUNK)
        self.consumed += self.pos
        self.text, self.pos = self.text[self.pos:] + more, 0
        self.eof = not more
        return bool(more)

    def skip_space(self) -> str:
        """The next character that is not white space ('' at the end of the file)."""
        while True:
            while self.pos < len(self.text) and self.text[self.pos] in _SPACE:
                self.pos += 1
            if self.pos < len(self.text):
                return self.text[self.pos]
            if not self.fill():
                return ""

    def expect(self, chars: str, what: str) -> str:
        found = self.skip_space()
        if not found or found not in chars:
            raise self.error(f"expected {what}, found {found or 'the end of the file'!r}")
        self.pos += 1
        return found

    def value(self) -> Any:
        self.skip_space()       # raw_decode does not skip leading white space
        while True:
            try:
                value, end = _DECODER.raw_decode(self.text, self.pos)
            except json.JSONDecodeError as exc:
                if self.fill():
                    continue
                raise self.error(f"malformed or truncated JSON ({exc.msg})") from None
            if end == len(self.text) and not self.eof and self.fill():
                continue      # a number may go on in the next chunk
            self.pos = end
            return value

    def error(self, message: str) -> UnexpectedAnswer:
        return UnexpectedAnswer(f"export file {self.name}: {message} at byte {self.consumed + self.pos}")


def objects(source: Path | ExportFile) -> Iterator[dict[str, Any]]:
    """The objects of ``source`` (a file, or a file of an export directory or zip) in file order;
    UnexpectedAnswer on a truncated, malformed or unreadable file."""
    name = source.name
    try:
        with (source.open(encoding=TEXT_ENCODING) if isinstance(source, Path) else source.open_text()) as stream:
            yield from _objects(_Buffer(stream, name))
    except (OSError, UnicodeDecodeError, zipfile.BadZipFile) as exc:
        raise UnexpectedAnswer(f"export file {name} is unreadable: {exc}") from exc


def _objects(buf: _Buffer) -> Iterator[dict[str, Any]]:
    if buf.expect("{[", "an object with a results list, or a list") == "{":
        _to_results(buf)
    if buf.skip_space() == "]":
        buf.pos += 1
    else:
        while True:
            item = buf.value()
            if not isinstance(item, dict):
                raise buf.error(f"an element of the results list is {type(item).__name__}, not an object")
            yield item
            if buf.expect(",]", "',' or ']' (the results list never closes: truncated?)") == "]":
                break
    if buf.skip_space() not in ("", "}", ","):
        raise buf.error("unexpected content after the results list")


def _to_results(buf: _Buffer) -> None:
    """Move to the opening bracket of the top-level object's ``results`` list (other keys are skipped)."""
    while True:
        key = buf.value()
        buf.expect(":", "':'")
        if key == "results":
            buf.expect("[", "the results list")
            return
        buf.value()
        buf.expect(",", "'results' (the object has no results list)")
