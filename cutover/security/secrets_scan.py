"""SEC-01: secrets in the deployed app's source tree.

Looks for the literal values the target config holds (master key, file key, AWS secret access key) and
for any MongoDB URI with an embedded password. Only text files are read: ``node_modules``, VCS folders,
files over ``MAX_BYTES`` and files with a NUL byte (binary) are skipped and counted. Findings carry the
file, the line and the line with the secret masked; the secret itself is never returned.
Values shorter than ``MIN_SECRET_LEN`` are not searched: they would match ordinary words.
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from cutover.errors import CouldNotVerify
from cutover.model import Target
from cutover.redact import MASK

SKIP_DIRS = frozenset({"node_modules", ".git", ".hg", ".svn", "bower_components", "__pycache__", ".venv"})
MAX_BYTES = 2 * 1024 * 1024
MIN_SECRET_LEN = 8
EXCERPT = 160
MONGO_URI = re.compile(r"mongodb(?:\+srv)?://(?P<user>[^:@/\s'\"`]+):(?P<pw>[^@/\s'\"`]+)@", re.I)
# ${VAR}, <password>, {{pw}}, %s, $PW, ***: a template or a placeholder, not a leaked password
PLACEHOLDER = re.compile(r"^(?:\$\{?\w+\}?|<[^>]*>|\{\{?[^}]*\}\}?|%\w|\*+|x+|password|pass|pwd|secret)$", re.I)


@dataclass(frozen=True)
class Finding:
    path: str          # relative to the scanned root
    line: int
    kind: str          # "master key", "file key", "AWS secret access key", "MongoDB URI with password"
    excerpt: str       # the line, secret masked, trimmed


@dataclass(frozen=True)
class ScanResult:
    root: str
    files_scanned: int
    skipped: dict[str, int] = field(default_factory=dict)    # reason -> count
    findings: tuple[Finding, ...] = ()


def secrets_of(target: Target) -> dict[str, str]:
    """kind -> literal value, for the target's secrets long enough to search for."""
    candidates = {"master key": target.parse.master_key if target.parse else "",
                  "file key": target.parse.file_key if target.parse else "",
                  "AWS secret access key": target.files.secret_access_key if target.files else ""}
    return {kind: value for kind, value in candidates.items() if len(value) >= MIN_SECRET_LEN}


def scan_target(target: Target) -> ScanResult:
    if not target.app_source_dir:
        raise CouldNotVerify("no app_source_dir declared for this target")
    return scan_tree(Path(target.app_source_dir), secrets_of(target))


def scan_tree(root: Path, secrets: dict[str, str]) -> ScanResult:
    """Every finding in the text files under ``root``."""
    if not root.is_dir():
        raise CouldNotVerify(f"app source directory {root} does not exist or is not a directory")
    skipped: dict[str, int] = {}
    findings: list[Finding] = []
    scanned = 0
    for path in _files(root, skipped):
        text = _read_text(path, skipped)
        if text is None:
            continue
        scanned += 1
        findings.extend(scan_text(text, str(path.relative_to(root)), secrets))
    return ScanResult(str(root), scanned, skipped, tuple(findings))


def scan_text(text: str, name: str, secrets: dict[str, str]) -> Iterator[Finding]:
    for number, line in enumerate(text.splitlines(), start=1):
        for kind, value in secrets.items():
            if value in line:
                yield Finding(name, number, kind, _excerpt(line, [value]))
        for match in MONGO_URI.finditer(line):
            if not PLACEHOLDER.match(match.group("pw")):
                yield Finding(name, number, "MongoDB URI with password", _excerpt(line, [match.group("pw")]))


def mask_line(line: str, values: list[str]) -> str:
    for value in sorted(values, key=len, reverse=True):
        line = line.replace(value, MASK)
    return line


def _excerpt(line: str, values: list[str]) -> str:
    masked = mask_line(line, values).strip()
    return masked if len(masked) <= EXCERPT else masked[: EXCERPT - 3] + "..."


def _files(root: Path, skipped: dict[str, int]) -> Iterator[Path]:
    for current, dirs, files in os.walk(root):
        pruned = [d for d in dirs if d in SKIP_DIRS]
        for name in pruned:
            skipped[name] = skipped.get(name, 0) + 1
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        for name in sorted(files):
            path = Path(current) / name
            if path.is_file() and not path.is_symlink():
                yield path


def _read_text(path: Path, skipped: dict[str, int]) -> str | None:
    try:
        if path.stat().st_size > MAX_BYTES:
            skipped["huge"] = skipped.get("huge", 0) + 1
            return None
        data = path.read_bytes()
    except OSError:
        skipped["unreadable"] = skipped.get("unreadable", 0) + 1
        return None
    if b"\0" in data[:8192]:
        skipped["binary"] = skipped.get("binary", 0) + 1
        return None
    return data.decode("utf-8", errors="replace")
