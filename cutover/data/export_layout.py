"""Which file of an export is what: a class (whole or in parts), a relation table, the schema, or a problem.

Names, whatever produced the export:

- ``<Class>.json``: the objects of one class (Parse.com's export, a host's, the Dashboard's);
- ``<Class> (1).json``, ``<Class>(1).json``, ``<Class>-1.json``: more parts of the same class. Parse Dashboard
  (``src/dashboard/Data/Browser/Browser.react.js``, ``confirmExportSelectedRows``, read in 9.2.0) exports all rows
  of a class in batches and downloads each as ``<className>.json``; the browser names the second and later
  downloads of a same name ``Name (1).json`` (Chrome, Edge), ``Name(1).json`` (Firefox) or ``Name-1.json``.
  A class name holds only letters, digits and ``_`` (Parse's ``classAndFieldRegex``), so these suffixes never
  belong to a name; the parts are read in order, the bare name first;
- ``_Join<sep><field><sep><Class>.json``: the rows of a relation. ``<sep>`` stands for ``:``, which many file
  systems refuse: the colon itself, a lookalike (:data:`COLON_LOOKALIKES`; Back4App writes U+A789), any other
  character that cannot be part of a name (``-``, a space), or percent-encoding (``%3A``; the whole name is
  percent-decoded first). Both separators must be the same character;
- ``_SCHEMA.json``: the ``/schemas`` entries (optional).

A name that starts with ``_Join`` but does not read as a relation, or that is not a Parse class name at all, is
a problem of the export: :meth:`Layout.check` raises it, naming the file, before anything is compared.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from urllib.parse import unquote

from cutover.data.export_files import ExportFile
from cutover.data.internal_classes import INTERNAL_CLASSES
from cutover.errors import UnexpectedAnswer

# What archivers, hosts and file systems write for ':' (each cannot be part of a Parse name).
COLON_LOOKALIKES = {
    ":": "the colon itself",
    "\ua789": "U+A789 MODIFIER LETTER COLON (Back4App's exports)",
    "\uff1a": "U+FF1A FULLWIDTH COLON",
    "\u2236": "U+2236 RATIO",
    "\u02d0": "U+02D0 MODIFIER LETTER TRIANGULAR COLON",
    "\u02f8": "U+02F8 MODIFIER LETTER RAISED COLON",
    "\ufe13": "U+FE13 PRESENTATION FORM FOR VERTICAL COLON",
    "\ufe55": "U+FE55 SMALL COLON",
    "\u05c3": "U+05C3 HEBREW PUNCTUATION SOF PASUQ",
    "\u0589": "U+0589 ARMENIAN FULL STOP",
}
SYSTEM_CLASSES = frozenset({"_User", "_Installation", "_Role", "_Session", "_Product"}) | INTERNAL_CLASSES
_NAME = r"[A-Za-z][A-Za-z0-9_]*"
_CLASS = re.compile(rf"^(?P<cls>_?{_NAME})(?:\s?\((?P<paren>\d+)\)|-(?P<dash>\d+))?$")
_RELATION = re.compile(rf"^_Join(?P<sep>[^A-Za-z0-9_])(?P<field>{_NAME})(?P=sep)(?P<cls>_?{_NAME})$")


@dataclass(frozen=True)
class Layout:
    """An export's files, by what they hold."""

    classes: dict[str, tuple[ExportFile, ...]] = field(default_factory=dict)
    relations: dict[tuple[str, str], tuple[ExportFile, ...]] = field(default_factory=dict)   # (class, field)
    schema: ExportFile | None = None
    separators: dict[str, str] = field(default_factory=dict)     # relation file -> what stood for ':'
    problems: tuple[str, ...] = ()

    def check(self) -> Layout:
        """This layout, or UnexpectedAnswer naming every file that cannot be read as part of an export."""
        if self.problems:
            raise UnexpectedAnswer(f"export: {'; '.join(self.problems)}")
        return self

    def class_files(self, cls: str) -> tuple[ExportFile, ...]:
        return self.classes.get(cls, ())

    def relation_files(self, cls: str, name: str) -> tuple[ExportFile, ...]:
        return self.relations.get((cls, name), ())


def layout(files: list[ExportFile]) -> Layout:
    """Classify ``files`` (one folder of an export)."""
    parts: dict[str, list[tuple[int, ExportFile]]] = {}
    relations: dict[tuple[str, str], list[ExportFile]] = {}
    separators: dict[str, str] = {}
    problems: list[str] = []
    schema: ExportFile | None = None
    for file in files:
        stem = unquote(file.name[: -len(".json")])
        if stem == "_SCHEMA":
            schema = file
        elif stem.startswith("_Join"):
            _relation(file, stem, relations, separators, problems)
        else:
            _class_part(file, stem, parts, problems)
    classes = {cls: tuple(f for _, f in sorted(found, key=lambda p: p[0])) for cls, found in parts.items()}
    return Layout(classes, {k: tuple(v) for k, v in relations.items()}, schema, separators, tuple(problems))


def _relation(file: ExportFile, stem: str, relations: dict[tuple[str, str], list[ExportFile]],
              separators: dict[str, str], problems: list[str]) -> None:
    found = _RELATION.match(stem)
    if found is None:
        problems.append(f"{file.name} looks like a relation file but its name does not read as "
                        "_Join:<field>:<Class>.json (':' written as the same character twice, one that cannot "
                        "be part of a name)")
        return
    relations.setdefault((found["cls"], found["field"]), []).append(file)
    separators[file.name] = describe_separator(file.name, found["sep"])


def _class_part(file: ExportFile, stem: str, parts: dict[str, list[tuple[int, ExportFile]]],
                problems: list[str]) -> None:
    found = _CLASS.match(stem)
    if found is None or (found["cls"].startswith("_") and found["cls"] not in SYSTEM_CLASSES):
        problems.append(f"{file.name} is not named for a Parse class (<Class>.json, a part <Class> (1).json, "
                        "or _Join:<field>:<Class>.json)")
        return
    number = int(found["paren"] or found["dash"] or -1)      # the bare name is the first part
    parts.setdefault(found["cls"], []).append((number, file))


def describe_separator(name: str, sep: str) -> str:
    if "%" in name:
        return "percent-encoding (%3A)"
    return COLON_LOOKALIKES.get(sep, f"U+{ord(sep):04X} {unicodedata.name(sep, 'UNNAMED CHARACTER')}")
