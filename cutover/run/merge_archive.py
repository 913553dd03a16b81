"""The merged run's directory: record.json, junit.xml, report.html, manifest (signed with a key), the index.

The record has the shape of a gate run's (so history, the index and ``verify-report`` read it as one) plus
``merged_from``: each shard's run id, shard, verdict and the sha256 of its manifest.json (which pins every
file of that shard's archive); ``reachability``, ``probes`` and ``mongo_commands`` say what each shard did
(:func:`shard_facts`). report.html (:mod:`cutover.run.merge_report`) reads like a gate run's; the
remediation files are written from the merged tests, as a gate run writes its own.
"""
from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from cutover.data import merge_facts
from cutover.run import remediation
from cutover.run.history import write_index
from cutover.run.merge import Merged
from cutover.run.merge_report import render_report
from cutover.run.run_directory import (
    MANIFEST,
    new_run_dir,
    now,
    redact_tree,
    run_by,
    sha256_of,
    write_json,
    write_manifest,
)
from cutover.run.signing import FIELD, Signer


def merged_record(merged: Merged, run_id: str, signer: Signer | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(meta shared with the manifest, the whole record)."""
    first = merged.shards[0].record
    meta = {"run_id": run_id, "target": first["target"], "suite_version": first["suite_version"],
            "git_commit": first.get("git_commit", ""), "config_digest": first["config_digest"], "ran_by": run_by(),
            "partial": merged.gate.partial, **({FIELD: signer.facts()} if signer is not None else {})}
    gate = merged.gate
    body = {"started_utc": min(s.record.get("started_utc") or "" for s in merged.shards), "finished_utc": now(),
            "verdict": gate.line, "exit_code": gate.exit_code, "counts": gate.counts,
            "not_verified": list(gate.not_verified), "coverage_problems": merged.coverage,
            "criteria": {cid: _criterion(r) for cid, r in merged.criteria.items()},
            "merged_from": [_origin(s.run_dir, s.record) for s in merged.shards], **shard_facts(merged),
            "tests": [r.to_json() for r in sorted(merged.records.values(), key=lambda r: r.id)]}
    return meta, {**meta, **body}


def shard_facts(merged: Merged) -> dict[str, Any]:
    """What each shard did, for an auditor: its reachability and probe phase as it recorded them, by shard
    (``by_shard``: "K/N" -> the shard's section, None when it recorded none); the MongoDB commands every shard
    sent added up in a gate run's shape (the blocking-command audit reads it unchanged), and each shard's."""
    records = [s.record for s in merged.shards]
    label = [f"{r['shard']['index']}/{r['shard']['count']}" for r in records]
    commands = [r.get("mongo_commands") or {} for r in records]
    return {"reachability": {"by_shard": {k: r.get("reachability") for k, r in zip(label, records, strict=True)}},
            "probes": {"by_shard": {k: r.get("probes") for k, r in zip(label, records, strict=True)}},
            "mongo_commands": {"allow_blocking_commands": any(c.get("allow_blocking_commands") for c in commands),
                               **merge_facts(commands),
                               "by_shard": {k: c or None for k, c in zip(label, commands, strict=True)}}}


def _criterion(result: Any) -> dict[str, Any]:
    data = dataclasses.asdict(result)
    data.pop("id")
    return data


def _origin(run_dir: Path, record: dict[str, Any]) -> dict[str, Any]:
    shard = record["shard"]
    return {"run_id": record.get("run_id"), "shard": f"{shard['index']}/{shard['count']}",
            "verdict": record.get("verdict"), "manifest_sha256": sha256_of(run_dir / MANIFEST),
            "signing_key": (record.get(FIELD) or {}).get("sha256")}


def write_merged(merged: Merged, reports_dir: Path, signer: Signer | None) -> Path:
    run_dir = new_run_dir(reports_dir, merged.shards[0].record["target"])
    meta, record = merged_record(merged, run_dir.name, signer)
    fixes = remediation.from_entries(record["tests"])
    remediation.write(run_dir, fixes)
    write_json(run_dir / "record.json", {**record, "remediation": [f.name for f in fixes]})
    merge_junit([s.run_dir / "junit.xml" for s in merged.shards], run_dir / "junit.xml")
    (run_dir / "report.html").write_text(render_report(merged, run_dir.name, fixes), encoding="utf-8")
    redact_tree(run_dir, ())   # the shards were redacted already; nothing new holds a secret
    write_manifest(run_dir, meta)
    if signer is not None:
        signer.sign(run_dir)
    write_index(run_dir.parent)
    return run_dir


def merge_junit(sources: list[Path], dest: Path) -> None:
    """One <testsuites> holding every shard's <testsuite> (missing files are skipped: the record says why)."""
    root = ET.Element("testsuites")
    for path in sources:
        if path.is_file():
            tree = ET.parse(path).getroot()
            root.extend(tree.findall("testsuite") if tree.tag == "testsuites" else [tree])
    ET.ElementTree(root).write(dest, encoding="utf-8", xml_declaration=True)
