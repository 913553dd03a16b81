"""The merged run's directory: record.json, junit.xml, report.html, manifest (signed with a key), the index.

The record has the shape of a gate run's (so history, the index and ``verify-report`` read it as one) plus
``merged_from``: each shard's run id, shard, verdict and the sha256 of its manifest.json (which pins every
file of that shard's archive). report.html is rendered from the merged record (:func:`render_report`).
"""
from __future__ import annotations

import dataclasses
import html
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from cutover.run.history import write_index
from cutover.run.merge import Merged
from cutover.run.record import (
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
            "merged_from": [_origin(s.run_dir, s.record) for s in merged.shards],
            "tests": [r.to_json() for r in sorted(merged.records.values(), key=lambda r: r.id)]}
    return meta, {**meta, **body}


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
    write_json(run_dir / "record.json", record)
    merge_junit([s.run_dir / "junit.xml" for s in merged.shards], run_dir / "junit.xml")
    (run_dir / "report.html").write_text(render_report(record), encoding="utf-8")
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


def render_report(record: dict[str, Any]) -> str:
    """A self-contained page of the merged run: verdict, coverage across shards, criteria, failing checks."""
    esc = html.escape
    title = f"cutover: {esc(record['target'])} {esc(record['run_id'])} (merged)"
    shards = "".join(f"<tr><td>{esc(str(o['shard']))}</td><td>{esc(str(o['run_id']))}</td>"
                     f"<td>{esc(str(o['verdict']))}</td></tr>" for o in record["merged_from"])
    problems = "".join(f"<li>{esc(p)}</li>" for p in record["coverage_problems"])
    criteria = "".join(f"<tr><td>{esc(cid)}</td><td>{esc(c['verdict'])}</td><td>{esc(c['reason'])}</td></tr>"
                       for cid, c in record["criteria"].items())
    failing = "".join(f"<tr><td>{esc(t['label'])}</td><td>{esc(t['verdict'])}</td><td>{esc(t.get('message', ''))}"
                      "</td></tr>" for t in record["tests"] if t["verdict"] in ("fail", "error", "waived"))
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head><body>"
            f"<h1>{esc(record['verdict'])}</h1><p>{title}</p>"
            f"{'<h2>Coverage across shards</h2><ul>' + problems + '</ul>' if problems else ''}"
            f"<h2>Shards</h2><table border='1'><tr><th>Shard</th><th>Run</th><th>Verdict</th></tr>{shards}</table>"
            f"<h2>Criteria</h2><table border='1'><tr><th>Criterion</th><th>Verdict</th><th>Why</th></tr>{criteria}"
            f"</table><h2>Failing checks</h2><table border='1'><tr><th>Check</th><th>Verdict</th><th>Message</th>"
            f"</tr>{failing}</table></body></html>\n")
