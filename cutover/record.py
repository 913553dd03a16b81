"""The archived run: JSON record, redaction of every written file, and a sha256 manifest to prove it intact."""
from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from cutover.redact import redact_text

MANIFEST = "manifest.json"


def git_commit(directory: Path) -> str:
    """The commit checked out in ``directory`` ('' when it is not a git checkout)."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=directory, capture_output=True, text=True,
                             timeout=5, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n", encoding="utf-8")
    return path


def redact_tree(run_dir: Path, secrets: Iterable[str]) -> int:
    """Mask secrets in every text file under ``run_dir``; returns how many files changed."""
    secrets = tuple(secrets)
    changed = 0
    for path in sorted(p for p in run_dir.rglob("*") if p.is_file()):
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        clean = redact_text(text, secrets)
        if clean != text:
            path.write_text(clean, encoding="utf-8")
            changed += 1
    return changed


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
        for p in sorted(run_dir.rglob("*")) if p.is_file() and p.name != MANIFEST
    }
    return write_json(run_dir / MANIFEST, {**meta, "files": files})


def verify_manifest(run_dir: Path) -> list[str]:
    """Problems found re-hashing an archived run (empty: intact)."""
    try:
        manifest = json.loads((run_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return [f"{run_dir / MANIFEST}: unreadable ({exc})"]
    problems = []
    for rel, entry in manifest.get("files", {}).items():
        path = run_dir / rel
        if not path.is_file():
            problems.append(f"{rel}: missing")
        elif sha256_of(path) != entry.get("sha256"):
            problems.append(f"{rel}: changed (sha256 differs from the manifest)")
    listed = set(manifest.get("files", {}))
    for path in run_dir.rglob("*"):
        rel = str(path.relative_to(run_dir))
        if path.is_file() and rel != MANIFEST and rel not in listed:
            problems.append(f"{rel}: not in the manifest")
    return problems
