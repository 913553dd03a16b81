"""The run directory: its name and the run's identity, the JSON record, redaction of every written file, and a
sha256 manifest to prove it intact."""
from __future__ import annotations

import dataclasses
import getpass
import hashlib
import html
import json
import os
import platform
import subprocess
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cutover.errors import ConfigError
from cutover.redact import redact_text
from cutover.run.target_rules import target_name

MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"    # a signed run's signature of manifest.json (cutover.run.signing): listed nowhere
_UNLISTED = (MANIFEST, SIGNATURE)


def now() -> str:
    """The time of day in UTC as the record writes it (seconds, ``Z``)."""
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def new_run_dir(reports_dir: Path, target: str) -> Path:
    """A new directory ``<reports_dir>/<target>/<UTC stamp>`` (``-2``, ``-3`` ... when the second is taken); a
    ConfigError for a target name that would lead anywhere else (``../../x``)."""
    unsafe = target_name(target)
    if unsafe:
        raise ConfigError(unsafe)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    run_dir, n = reports_dir / target / stamp, 1
    while run_dir.exists():
        n += 1
        run_dir = reports_dir / target / f"{stamp}-{n}"
    run_dir.mkdir(parents=True)
    return run_dir


def git_commit(directory: Path) -> str:
    """The commit checked out in ``directory`` ('' when it is not a git checkout)."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=directory, capture_output=True, text=True,
                             timeout=5, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def config_digest(target: Any) -> str:
    """sha256 of the target's configuration with every secret masked: proves which config ran, reveals none."""
    forms = [form for secret in target.secrets for form in escaped_forms(secret)]  # as json.dumps writes it
    text = redact_text(json.dumps(dataclasses.asdict(target), sort_keys=True, default=str), forms)
    return hashlib.sha256(text.encode()).hexdigest()


def run_by() -> dict[str, str]:
    """Who and where: user, host, platform and CI provider when known."""
    ci = next((name for var, name in _CI_VARS if os.environ.get(var)), "")
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # a uid without a passwd entry (some CI containers)
        user = str(os.getuid())
    return {"user": user, "host": platform.node(), "platform": platform.platform(), "ci": ci}


_CI_VARS = (("GITHUB_ACTIONS", "github-actions"), ("GITLAB_CI", "gitlab-ci"), ("JENKINS_URL", "jenkins"),
            ("CI", "ci"))


def write_json(path: Path, data: Any) -> Path:
    """Indented JSON; in a top-level object, a long list of objects (record.json's ``tests``) has one entry a line:
    json's fast C encoder only writes unindented JSON, and indenting the facts of 6,000 checks took 1.6 s."""
    path.write_text(_dumps(data) + "\n", encoding="utf-8")
    return path


def _dumps(data: Any) -> str:
    if not isinstance(data, dict) or not any(_entries(v) for v in data.values()):
        return json.dumps(data, indent=2, default=str)
    items = [f"  {json.dumps(key)}: " + (
        "[\n" + ",\n".join(f"    {json.dumps(entry, default=str)}" for entry in value) + "\n  ]" if _entries(value)
        else json.dumps(value, indent=2, default=str).replace("\n", "\n  ")) for key, value in data.items()]
    return "{\n" + ",\n".join(items) + "\n}"


def _entries(value: Any) -> bool:
    return isinstance(value, list) and len(value) > ENTRY_LINES and all(isinstance(v, dict) for v in value)


ENTRY_LINES = 20   # lists of more objects than this are written one object a line


def redact_tree(run_dir: Path, secrets: Iterable[str]) -> int:
    """Mask secrets in every text file under ``run_dir``; returns how many files changed."""
    variants = tuple(v for s in secrets for v in escaped_forms(s))
    changed = 0
    for path in sorted(p for p in run_dir.rglob("*") if p.is_file()):
        try:
            text = path.read_bytes().decode("utf-8")  # bytes: keep the file's own line endings
        except (UnicodeDecodeError, OSError):
            continue
        clean = redact_text(text, variants)
        if clean != text:
            path.write_bytes(clean.encode("utf-8"))
            changed += 1
    return changed


def escaped_forms(secret: str, depth: int = 3) -> set[str]:
    """The ways a value can appear in the written reports: raw, and escaped for JSON, HTML and XML, nested up
    to ``depth`` times (pytest-html escapes a captured log, puts it in JSON, and escapes that JSON again)."""
    forms = {secret}
    for _ in range(depth):
        forms |= {escape(form) for form in forms for escape in _ESCAPES}
    return forms


_ESCAPES: tuple[Callable[[str], str], ...] = (
    lambda text: json.dumps(text)[1:-1],
    html.escape,
    lambda text: html.escape(text, quote=False),
    lambda text: html.escape(text).replace("&quot;", "&#34;").replace("&#x27;", "&#39;"),  # markupsafe's forms
)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_manifest(run_dir: Path, meta: dict[str, Any]) -> Path:
    """``manifest.json``: the sha256 and size of every file in the run directory, plus ``meta``."""
    files = {
        str(p.relative_to(run_dir)): {"sha256": sha256_of(p), "bytes": p.stat().st_size}
        for p in sorted(run_dir.rglob("*")) if p.is_file() and str(p.relative_to(run_dir)) not in _UNLISTED
    }
    return write_json(run_dir / MANIFEST, {**meta, "files": files})


def verify_manifest(run_dir: Path) -> list[str]:
    """Problems found re-hashing an archived run (empty: intact)."""
    try:
        manifest = json.loads((run_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return [f"{run_dir / MANIFEST}: unreadable ({exc})"]
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict):
        return [f"{run_dir / MANIFEST}: no 'files' table"]
    problems = []
    for rel, entry in files.items():
        path = run_dir / rel
        if not isinstance(entry, dict):
            problems.append(f"{rel}: malformed manifest entry")
        elif not path.is_file():
            problems.append(f"{rel}: missing")
        elif sha256_of(path) != entry.get("sha256"):
            problems.append(f"{rel}: changed (sha256 differs from the manifest)")
    listed = set(files)
    for path in run_dir.rglob("*"):
        rel = str(path.relative_to(run_dir))
        if path.is_file() and rel not in _UNLISTED and rel not in listed:
            problems.append(f"{rel}: not in the manifest")
    return problems
