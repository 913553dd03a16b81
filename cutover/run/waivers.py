"""Waivers: a justified, dated, attributed exception for a failing criterion (InSpec-style).

``waivers.toml`` holds ``[[waivers]]`` entries: criterion (required), test (optional pattern on the label,
e.g. ``FILE-01[GameScore.*]``: ``*`` and ``?`` are wildcards, brackets are literal), target (optional:
every target when absent), justification and expires (both required), author. A blocker cannot be
waived (docs/CHECKS.md: a blocker fails the gate). An expired waiver is ignored and said so; a malformed file
is a ConfigError at start, and so is a ``test`` pattern that can match no check of its criterion (every label
reads ``CRITERION`` or ``CRITERION[...]``): both are found before any component is reached. A waiver accepts a
failure, never an error ("could not verify"): the record and the report say so where one matched an error.
"""
from __future__ import annotations

import datetime as dt
import fnmatch
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cutover.errors import ConfigError
from cutover.run.criteria import CRITERIA, severity_of

_KEYS = {"criterion", "test", "target", "justification", "expires", "author"}
NOT_FOR_ERRORS = "waiver not applied: a waiver accepts a failure, never 'could not verify'"


@dataclass(frozen=True)
class Waiver:
    criterion: str
    justification: str
    expires: dt.date
    test: str = "*"
    target: str = ""
    author: str = ""

    def expired(self, today: dt.date) -> bool:
        return self.expires < today

    def applies_to(self, target: str) -> bool:
        return not self.target or self.target == target

    def matches(self, criterion: str, label: str) -> bool:
        # labels hold brackets (FILE-01[GameScore.avatar]): in fnmatch "[...]" is a character class
        return criterion == self.criterion and fnmatch.fnmatchcase(label, self.test.replace("[", "[[]"))

    def describe(self) -> str:
        who = f" by {self.author}" if self.author else ""
        text = f"{self.criterion} {self.test} (until {self.expires}{who}): {self.justification}"
        return " ".join(text.split())  # one line: a TOML multi-line justification must not break messages


def load_waivers(path: Path, target: str, severities: dict[str, str] | None = None) -> tuple[Waiver, ...]:
    """The waivers of ``path`` that apply to ``target``; ConfigError (one line) on any problem."""
    try:
        data = tomllib.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: waivers file not found") from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: malformed waivers file: {str(exc).splitlines()[0]}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the waivers file ({exc.strerror or exc})") from None
    extra = set(data) - {"waivers"}
    if extra:
        raise ConfigError(f"{path}: unknown top-level key '{sorted(extra)[0]}'; expected [[waivers]] entries")
    entries = data.get("waivers", [])
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: waivers: expected [[waivers]] entries")
    waivers = [_waiver(path, i, raw) for i, raw in enumerate(entries)]
    # only this target's severity overrides are known: another target's waivers are judged when it runs
    for i, w in enumerate(waivers):
        if w.applies_to(target) and severity_of(w.criterion, severities) == "blocker":
            raise ConfigError(f"{path}: waivers[{i}].criterion: {w.criterion} is a blocker for target "
                              f"{target}; blockers cannot be waived")
        if w.applies_to(target) and not can_match(w.test, w.criterion):
            raise ConfigError(f"{path}: waivers[{i}].test: {w.test[:80]!r} matches no check of {w.criterion}: "
                              f"check labels read {w.criterion} or {w.criterion}[...] "
                              f"(e.g. test = \"{w.criterion}[GameScore*]\")")
    return tuple(w for w in waivers if w.applies_to(target))


def can_match(pattern: str, criterion: str) -> bool:
    """Whether ``pattern`` can match some label of ``criterion`` (``DB-01`` or ``DB-01[...]``), judged from the
    literal text before its first wildcard and after its last."""
    if not any(ch in pattern for ch in "*?"):
        return pattern == criterion or (pattern.startswith(criterion + "[") and pattern.endswith("]"))
    head = pattern[:min(i for i in (pattern.find("*"), pattern.find("?")) if i >= 0)]
    tail = pattern[max(pattern.rfind("*"), pattern.rfind("?")) + 1:]
    opening = criterion + "["
    return (opening.startswith(head) or head.startswith(opening)) and (not tail or tail.endswith("]")
                                                                         or criterion.endswith(tail))


def _waiver(path: Path, i: int, raw: Any) -> Waiver:
    where = f"{path}: waivers[{i}]"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a table")
    unknown = set(raw) - _KEYS
    if unknown:
        raise ConfigError(f"{where}.{sorted(unknown)[0]}: unknown key; known keys: {', '.join(sorted(_KEYS))}")
    for key in ("criterion", "justification", "expires"):
        if key not in raw:
            raise ConfigError(f"{where}.{key}: required (a waiver needs criterion, justification and expires)")
    for key in ("criterion", "justification", "test", "target", "author"):
        if key in raw and not isinstance(raw[key], str):
            raise ConfigError(f"{where}.{key}: expected a string")
    if raw["criterion"] not in CRITERIA:
        raise ConfigError(f"{where}.criterion: unknown criterion '{raw['criterion']}' (`cutover criteria` lists them)")
    if not raw["justification"].strip():
        raise ConfigError(f"{where}.justification: must say why the failure is acceptable")
    expires = raw["expires"]
    if isinstance(expires, dt.datetime):
        expires = expires.date()
    if not isinstance(expires, dt.date):
        raise ConfigError(f"{where}.expires: expected a date (expires = 2026-12-31)")
    return Waiver(criterion=raw["criterion"], justification=raw["justification"].strip(), expires=expires,
                  test=raw.get("test", "*"), target=raw.get("target", ""), author=raw.get("author", ""))


def split_expired(waivers: Iterable[Waiver], today: dt.date) -> tuple[tuple[Waiver, ...], tuple[Waiver, ...]]:
    """(active, expired)."""
    waivers = tuple(waivers)
    return tuple(w for w in waivers if not w.expired(today)), tuple(w for w in waivers if w.expired(today))


def unmatched(waivers: Iterable[Waiver], tests: Iterable[tuple[str, str]]) -> list[Waiver]:
    """Waivers that match none of the (criterion, label) pairs collected."""
    tests = list(tests)
    return [w for w in waivers if not any(w.matches(c, label) for c, label in tests)]


def waiver_for(waivers: Iterable[Waiver], criterion: str, label: str) -> Waiver | None:
    return next((w for w in waivers if w.matches(criterion, label)), None)
