"""The run directory, written last: record.json, JUnit errors, redaction, the manifest and the target's index.

Every run is archived, its verdict NOT RUN included; a run stopped while its sandbox was starting gets a record
and a page of its own (:func:`archive_interrupted_start`).
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from cutover import __version__
from cutover.run import remediation
from cutover.run.check_record import CheckRecord
from cutover.run.history import write_index
from cutover.run.run_directory import config_digest, now, redact_tree, run_by, write_json, write_manifest
from cutover.run.signing import FIELD, Signer
from cutover_pytest.pytest_output import mark_junit_errors
from cutover_pytest.signals import VERDICT


def identity(run_id: str, target: Any, git_commit: str, partial: bool, signer: Signer | None) -> dict[str, Any]:
    """What record.json, the manifest and the index share: which run, which suite, which configuration, and
    the fingerprint of the key that signs it (only when signed)."""
    return {"run_id": run_id, "target": target.name, "suite_version": __version__, "git_commit": git_commit,
            "config_digest": config_digest(target), "ran_by": run_by(), "partial": partial, **signed(signer)}


def signed(signer: Signer | None) -> dict[str, Any]:
    """``signing_key`` (the key's fingerprint) for manifest.json and record.json when signed, else nothing."""
    return {FIELD: signer.facts()} if signer is not None else {}


def write_run(run_dir: Path, meta: dict[str, Any], body: dict[str, Any], records: Iterable[CheckRecord],
              secrets: Iterable[str], signer: Signer | None) -> None:
    """record.json (meta, the body's sections, every test), then the JUnit errors, redaction, the manifest
    (signed with a key), the index."""
    tests = [r.to_json() for r in sorted(records, key=lambda r: r.id)]
    fixes = remediation.from_entries(tests)
    remediation.write(run_dir, fixes)
    write_json(run_dir / "record.json", {**meta, **body, "remediation": [f.name for f in fixes],
                                         "tests": tests})
    mark_junit_errors(run_dir / "junit.xml", [t["id"] for t in tests if t.get("outcome") == "error"])
    _seal(run_dir, meta, secrets, signer)


def archive_interrupted_start(run_dir: Path, target_name: str, by: str, secrets: Iterable[str] = (),
                              signer: Signer | None = None) -> None:
    """The run directory of a run stopped while its sandbox was starting: record, page, manifest, index."""
    meta = {"run_id": run_dir.name, "target": target_name, "suite_version": __version__, **signed(signer)}
    write_json(run_dir / "record.json", {
        **meta, "finished_utc": now(), "verdict": VERDICT, "exit_code": int(pytest.ExitCode.INTERRUPTED),
        "interrupted_by": by, "interrupted_during": "the sandbox start", "counts": {}, "tests": []})
    (run_dir / "report.html").write_text(
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>cutover: {target_name} {run_dir.name}</title>"
        f"</head><body><h1>{VERDICT}</h1><p>{by} stopped the run while the sandbox was starting; no check "
        f"ran. The component logs are in logs/.</p></body></html>\n", encoding="utf-8")
    _seal(run_dir, meta, secrets, signer)


def _seal(run_dir: Path, meta: dict[str, Any], secrets: Iterable[str], signer: Signer | None) -> None:
    """Redact every file, write the manifest, sign it (with a key), list the run in the target's index."""
    redact_tree(run_dir, secrets)
    write_manifest(run_dir, meta)
    if signer is not None:
        signer.sign(run_dir)
    write_index(run_dir.parent)
