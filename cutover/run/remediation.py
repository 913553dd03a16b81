"""Remediation files: where a fix is mechanical, what to run or copy, written from the facts checks recorded.

A pure function of the findings (criterion, label, outcome, facts), so the HTML can link the files before they
are written, a merged report can call it again, and the same data always gives the same bytes: findings are
sorted, listings keep the order the checks recorded (`_id` order), nothing holds a time or a run id.
"""
from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from cutover.notation import shell

DIRECTORY = "remediation"
ID_CAP = 10_000   # DB-02: `_id`s listed per class and kind (totals stay exact)


@dataclass(frozen=True)
class Finding:
    """What remediation needs of one check's result."""

    criterion: str
    label: str
    outcome: str                      # passed | failed | error | skipped
    facts: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any]) -> Finding:
        """From a record.json test entry (or the plugin's entry while the run is on)."""
        return cls(str(entry.get("criterion", "")), str(entry.get("label", "")), str(entry.get("outcome", "")),
                   entry.get("facts") or {})


@dataclass(frozen=True)
class RemediationFile:
    name: str        # relative to the run directory: remediation/<file>
    criterion: str
    title: str       # one line for the report's link
    text: str


def plan(findings: Iterable[Finding]) -> tuple[RemediationFile, ...]:
    """The remediation files the failed checks call for, in criterion order."""
    failed = sorted((f for f in findings if f.outcome == "failed"), key=lambda f: natural(f.label))
    out = []
    for criterion, build in sorted(_BUILDERS.items()):
        mine = [f for f in failed if f.criterion == criterion]
        made = build(mine) if mine else None
        if made is not None:
            out.append(made)
    return tuple(out)


def from_entries(entries: Iterable[Mapping[str, Any]]) -> tuple[RemediationFile, ...]:
    """:func:`plan` of a run's result entries (record.json's ``tests``, or the plugin's while the run is on)."""
    return plan(Finding.from_entry(e) for e in entries)


def write(run_dir: Path, files: Sequence[RemediationFile]) -> list[Path]:
    written = []
    for item in files:
        path = run_dir / item.name
        path.parent.mkdir(exist_ok=True)
        path.write_text(item.text, encoding="utf-8", newline="")
        written.append(path)
    return written


def natural(text: str) -> tuple[Any, ...]:
    """Sort key that puts p2of12 before p10of12."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text))


# -- DB-03: createIndex commands ------------------------------------------------------------------------
def _index_script(findings: list[Finding]) -> RemediationFile | None:
    lines = ["// DB-03: indexes the target lacks, as mongosh commands (cutover remediation; review, then run:",
             "//   mongosh \"<the target's URI>\" DB-03-create-indexes.js)"]
    databases = sorted({str(f.facts.get("database")) for f in findings if f.facts.get("database")})
    if len(databases) == 1:
        lines.append(f"db = db.getSiblingDB({json.dumps(databases[0])});")
    body = [line for f in findings for line in _index_lines(f)]
    if not body:
        return None
    return RemediationFile(f"{DIRECTORY}/DB-03-create-indexes.js", "DB-03",
                           "DB-03: createIndex commands for the target", "\n".join(lines + body) + "\n")


def _index_lines(finding: Finding) -> list[str]:
    facts = finding.facts
    cls = str(facts.get("collection") or finding.label)
    specs = facts.get("specs") or {}
    out = [f"\n// {cls}"] if specs.get("missing") or specs.get("different") or facts.get(
        "parse_required_missing") else []
    out += [create_index(cls, spec) for spec in specs.get("missing", ())]
    for pair in specs.get("different", ()):
        out += [f"// differs: source {_describe(pair['source'])} vs target {_describe(pair['target'])}",
                "// to align the target (drops an index: plan it), uncomment:",
                f"// db.getCollection({json.dumps(cls)}).dropIndex({json.dumps(pair['target']['name'])});",
                "// " + create_index(cls, pair["source"])]
    required = facts.get("parse_required_missing") or []
    if required:
        out.append(f"// Parse Server's own indexes missing ({', '.join(map(str, required))}): Parse Server "
                   "creates them when it starts against the target database")
    return out


def create_index(cls: str, spec: Mapping[str, Any]) -> str:
    """``db.getCollection("C").createIndex({key}, {name, options})`` with the key's order kept."""
    key = "{" + ", ".join(f"{json.dumps(k)}: {shell(v)}" for k, v in spec["key"]) + "}"
    options = {"name": spec["name"], **dict(sorted(spec.get("options", {}).items()))}
    return f"db.getCollection({json.dumps(cls)}).createIndex({key}, {shell(options)});"


def _describe(spec: Mapping[str, Any]) -> str:
    keys = ", ".join(f"{k}: {shell(v)}" for k, v in spec["key"])
    opts = "".join(f", {k}={shell(v)}" for k, v in sorted(spec.get("options", {}).items()))
    return f"{spec['name']} {{{keys}}}{opts}"


# -- DB-02: _id lists per class -------------------------------------------------------------------------
def _id_lists(findings: list[Finding]) -> RemediationFile | None:
    classes: dict[str, dict[str, Any]] = {}
    for f in (f for f in findings if f.facts.get("totals")):   # a check that recorded no listing: nothing to list
        cls = str(f.facts.get("cls") or str(f.facts.get("partition", f.label)).split(":")[0])
        entry = classes.setdefault(cls, {"partitions": [], "totals": {"missing": 0, "extra": 0, "different": 0},
                                         "missing": [], "extra": [], "different": []})
        entry["partitions"].append(f.facts.get("partition", f.label))
        totals = f.facts.get("totals") or {}
        for kind, listed, total in (("missing", "missingOnTarget", "missing"), ("extra", "extraOnTarget", "extra"),
                                    ("different", "content", "content")):
            entry["totals"][kind] += int(totals.get(total, 0))
            room = ID_CAP - len(entry[kind])
            entry[kind].extend([_id_only(i) for i in list(f.facts.get(listed) or [])[:max(room, 0)]])
    for entry in classes.values():
        entry["listed"] = {kind: len(entry[kind]) for kind in ("missing", "extra", "different")}
        entry["capped"] = entry["listed"] != entry["totals"]
    if not classes:
        return None
    doc = {"criterion": "DB-02", "about": "per class: the _ids missing on the target, extra on the target, and "
           "present on both with different content (field paths); listings capped, totals exact",
           "classes": dict(sorted(classes.items()))}
    return RemediationFile(f"{DIRECTORY}/DB-02-ids.json", "DB-02", "DB-02: _id lists per class (JSON)",
                           json.dumps(doc, indent=2, default=str) + "\n")


def _id_only(item: Any) -> Any:
    """An `_id` and its differing field paths, never the values (they may be credentials or personal data)."""
    return {k: v for k, v in item.items() if k in ("_id", "fields")} if isinstance(item, Mapping) else item


# -- FILE-01 / FILE-02: copy lists ------------------------------------------------------------------------
FILE_COLUMNS = ("class", "field", "objectId", "path", "name", "url", "status", "reason", "outcome")


def _unresolved_files(findings: list[Finding]) -> RemediationFile | None:
    rows = [_file_row(item) for f in findings for item in f.facts.get("failures") or ()]
    if not rows:
        return None
    extra = sorted({k for row in rows for k in row} - set(FILE_COLUMNS))   # e.g. digests, when recorded
    return RemediationFile(f"{DIRECTORY}/FILE-01-unresolved-files.csv", "FILE-01",
                           "FILE-01: files that do not resolve (CSV, for a copy job)",
                           _csv((*FILE_COLUMNS, *extra), rows))


def _file_row(item: Mapping[str, Any]) -> dict[str, Any]:
    row = {("class" if k == "cls" else "objectId" if k == "object_id" else k): v for k, v in item.items()}
    if not row.get("name") and row.get("url"):
        row["name"] = unquote(urlsplit(str(row["url"])).path.rsplit("/", 1)[-1])
    return row


def _legacy_files(findings: list[Finding]) -> RemediationFile | None:
    rows = [_file_row({"cls": f.facts.get("cls", f.label), **item}) for f in findings
            for item in f.facts.get("listed") or ()]
    if not rows:
        return None
    return RemediationFile(f"{DIRECTORY}/FILE-02-legacy-files.csv", "FILE-02",
                           "FILE-02: Parse-hosted files to copy into the new store (CSV)",
                           _csv(("class", "objectId", "field", "path", "name", "url"), rows))


def _csv(columns: Sequence[str], rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows({c: "" if row.get(c) is None else row.get(c) for c in columns} for row in rows)
    return buf.getvalue()


# -- TLS-02: what to renew, and when ----------------------------------------------------------------------
def _renewals(findings: list[Finding]) -> RemediationFile | None:
    lines = ["TLS-02: certificates and endpoints to fix (cutover remediation)", ""]
    known = [f for f in findings if f.facts.get("host")]
    if not known:
        return None
    for f in known:
        lines += [*_renewal(f), ""]
    return RemediationFile(f"{DIRECTORY}/TLS-02-renewals.txt", "TLS-02", "TLS-02: what to renew, and when",
                           "\n".join(lines))


def _renewal(f: Finding) -> list[str]:
    facts = f.facts
    out = [f"{facts.get('host', f.label)} ({facts.get('link', 'endpoint')})",
           f"  subject: {facts.get('subject') or 'unknown'}", f"  issuer:  {facts.get('issuer') or 'unknown'}"]
    expiry, left, need = facts.get("not_after"), facts.get("days_left"), facts.get("min_days")
    if expiry:
        out.append(f"  expires: {expiry} ({left} days left)")
        if need is not None and left is not None:
            by = date.fromisoformat(str(expiry)[:10]) - timedelta(days=int(need))
            when = f"now (it needed renewing by {by})" if int(left) < int(need) else f"by {by}"
            out.append(f"  renew:   {when}: the gate needs {need} days of validity left")
    out += [f"  fix:     {problem}" for problem in facts.get("problems") or ()]
    return out


_BUILDERS: dict[str, Callable[[list[Finding]], RemediationFile | None]] = {
    "DB-02": _id_lists, "DB-03": _index_script, "FILE-01": _unresolved_files, "FILE-02": _legacy_files,
    "TLS-02": _renewals,
}
