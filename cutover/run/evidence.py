"""Evidence for a check's row in the HTML report: what differs, rendered from the facts the check recorded.

A registry of renderers per criterion, each ``(facts) -> HTML``, with a generic renderer for every other
criterion and as a fallback when a renderer meets facts of a shape it does not know (facts grow while areas
evolve; the report must still show them). Renderers read facts only, never assertion messages. Values at
field paths that hold credentials in a Parse app are masked here; the run's declared secrets are masked by
the caller (``RunState.redact``) and again in every written file.
"""
from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

Renderer = Callable[[Mapping[str, Any]], str]
LIST_CAP = 50        # items shown per listing; the facts (record.json) and remediation files hold more
_RENDERERS: dict[str, Renderer] = {}
SENSITIVE = re.compile(r"(^|\.)(_hashed_password|password|sessionToken|_session_token|_perishable_token|"
                       r"_email_verify_token|_auth_data\w*|authData)(\.|$)", re.I)
MASKED = "*** (masked)"


def renderer(*criteria: str) -> Callable[[Renderer], Renderer]:
    def register(fn: Renderer) -> Renderer:
        for cid in criteria:
            _RENDERERS[cid] = fn
        return fn
    return register


def render(criterion: str, facts: Mapping[str, Any]) -> str:
    """The evidence block for one check ('' without facts)."""
    if not facts:
        return ""
    fn = _RENDERERS.get(criterion, generic)
    try:
        body = fn(facts)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError):
        body = generic(facts)   # facts of a shape this renderer does not know: still show them
    return (f'<div class="cutover-evidence" data-criterion="{html.escape(criterion)}">'
            f'<p class="cutover-evidence-title"><b>Evidence</b></p>{stand_in(facts)}{body}</div>')


def stand_in(facts: Mapping[str, Any]) -> str:
    """First in the evidence: the verdict rests on what the sandbox's stand-in could not answer."""
    limit = facts.get("stand_in")
    if not isinstance(limit, Mapping) or not limit:
        return ""
    return (f'<p class="cutover-stand-in"><b>Rests on the stand-in\'s limits:</b> {esc(limit.get("server", ""))} '
            f'{esc(limit.get("cannot", ""))}; {esc(limit.get("verdict", ""))}. {esc(limit.get("note", ""))}</p>')


# -- building blocks ----------------------------------------------------------------------------------------
def esc(value: Any) -> str:
    """Escaped, on one line (pytest-html's log marks lines that start with 'E' up to their end)."""
    text = value if isinstance(value, str) else json.dumps(value, default=str, sort_keys=isinstance(value, dict))
    return html.escape(text).replace("\n", "<br>")


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], title: str = "") -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    caption = f"<p>{html.escape(title)}</p>" if title else ""
    return f'{caption}<table class="cutover-evidence-table" border="1"><tr>{head}</tr>{body}</table>'


def listing(items: Sequence[Any], total: int | None = None) -> str:
    shown = [esc(i) for i in items[:LIST_CAP]]
    total = len(items) if total is None else total
    more = f" &hellip; ({total - len(shown)} more; all in record.json)" if total > len(shown) else ""
    return ", ".join(shown) + more if shown else "none"


def masked(path: str, value: Any) -> str:
    return MASKED if SENSITIVE.search(path) else esc(value)


def generic(facts: Mapping[str, Any]) -> str:
    """Every fact as a row: lists of records as a nested table, other lists as a capped listing."""
    return table(["Fact", "Value"], [[html.escape(str(k)), _value(str(k), v)] for k, v in facts.items()])


def _value(key: str, value: Any) -> str:
    if SENSITIVE.search(key):
        return MASKED
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        headers = list(dict.fromkeys(k for v in value[:LIST_CAP] for k in v))
        rows = [[_value(h, v.get(h, "")) for h in headers] for v in value[:LIST_CAP]]
        more = f"<p>&hellip; {len(value) - LIST_CAP} more (record.json)</p>" if len(value) > LIST_CAP else ""
        return table(headers, rows) + more
    if isinstance(value, list):
        return listing(value)
    if isinstance(value, dict):
        return "<br>".join(f"{html.escape(str(k))}: {_value(str(k), v)}" for k, v in value.items()) or "{}"
    return esc(value)


# -- per criterion ------------------------------------------------------------------------------------------
@renderer("DB-02")
def content(facts: Mapping[str, Any]) -> str:
    totals = facts["totals"]
    parts = [table(["Partition", "Method", "Source documents", "Target documents"],
                   [[esc(facts["partition"]), esc(facts["method"]), esc(facts["source_docs"]),
                     esc(facts["target_docs"])]])]
    for kind, key in (("missing", "missingOnTarget"), ("extra", "extraOnTarget")):
        if totals.get(kind):
            parts.append(f"<p>_id {kind} on the target ({totals[kind]}): {listing(facts[key], totals[kind])}</p>")
    rows = [_content_row(item) for item in facts.get("content", [])[:LIST_CAP]]
    if rows:
        parts.append(table(["_id", "Field path", "Source", "Target"], rows,
                           f"Documents whose content differs ({totals.get('content', len(rows))})"))
    return "".join(parts)


def _content_row(item: Mapping[str, Any]) -> list[str]:
    path = str(item.get("fields") or item.get("path") or "")
    return [esc(item["_id"]), esc(path),
            masked(path, item["source"]) if "source" in item else "(not recorded)",
            masked(path, item["target"]) if "target" in item else "(not recorded)"]


@renderer("DB-03")
def index_specs(facts: Mapping[str, Any]) -> str:
    specs = facts["specs"]
    rows = [[esc(s["name"]), _spec(s), "<i>absent</i>"] for s in specs.get("missing", [])]
    rows += [[esc(p["source"]["name"]), _spec(p["source"]), _spec(p["target"])] for p in specs.get("different", [])]
    rows += [[esc(str(e).split(" ", 1)[0]), "<i>absent</i>", esc(e) + " (not failing)"]
             for e in facts.get("extra", [])]
    parts = [table(["Index", "Source", "Target"], rows, f"{facts.get('collection', '')}: index specs")] if rows else []
    if facts.get("parse_required_missing"):
        parts.append(f"<p>Parse Server's own indexes missing: {listing(facts['parse_required_missing'])}</p>")
    if facts.get("schema_metadata"):
        parts.append(f"<p>_SCHEMA._metadata.indexes: {listing(facts['schema_metadata'])}</p>")
    return "".join(parts) or generic(facts)


def _spec(spec: Mapping[str, Any]) -> str:
    keys = ", ".join(f"{k}: {v}" for k, v in spec["key"])
    opts = "".join(f"<br>{html.escape(str(k))}: {esc(v)}" for k, v in sorted(spec.get("options", {}).items()))
    return f"<code>{{{html.escape(keys)}}}</code>{opts}"


@renderer("FILE-01")
def unresolved_files(facts: Mapping[str, Any]) -> str:
    failures = facts["failures"]
    summary = (f"<p>{esc(facts['total'])} references: {esc(facts['resolved'])} resolve, "
               f"{esc(facts['missing'])} missing, {esc(facts['errors'])} could not be checked</p>")
    return summary + (_value("failures", failures) if failures else "")


@renderer("FILE-02")
def legacy_files(facts: Mapping[str, Any]) -> str:
    summary = (f"<p>{esc(facts['references'])} references, {esc(facts['legacy'])} on Parse-hosted files, "
               f"{esc(facts['absent'])} of them not in the new store</p>")
    return summary + (_value("listed", facts["listed"]) if facts.get("listed") else "")


@renderer("TLS-02")
def certificate(facts: Mapping[str, Any]) -> str:
    rows = [["Endpoint", esc(facts["host"])], ["Subject", esc(facts["subject"] or "unknown")],
            ["Issuer", esc(facts["issuer"] or "unknown")],
            ["Expires", f"{esc(facts['not_after'] or 'unknown')} ({esc(facts['days_left'])} days left; "
                        f"required {esc(facts.get('min_days', '?'))})"],
            ["Protocol", f"{esc(facts['version'] or 'none')} {esc(facts['cipher'] or '')}"],
            ["Chain verified", esc(facts["verified"]) + (f" ({esc(facts['verify_error'])})"
                                                           if facts.get("verify_error") else "")],
            ["Host name matches", esc(facts["hostname_matches"])]]
    if facts.get("weakening_options"):
        rows.append(["URI weakens TLS", listing(facts["weakening_options"])])
    if facts.get("problems"):
        rows.append(["Problems", "<br>".join(esc(p) for p in facts["problems"])])
    return table(["Certificate", ""], rows)
