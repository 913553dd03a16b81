"""The catalogue document, rendered from the criteria registry (:mod:`cutover.run.criteria`).

``docs/CHECKS.md`` in the repository is this text (a test keeps the two equal); ``cutover criteria`` prints it,
so an installed package carries the catalogue too. Regenerate the file with
``cutover criteria > docs/CHECKS.md`` after changing the registry.
"""
from __future__ import annotations

from cutover.data import INDEX_COMPARED, INDEX_NORMALISED
from cutover.run.criteria import AREAS, CRITERIA, SOURCE_KINDS, STORES, Criterion

_INTRO = """\
# The acceptance criteria (check catalogue)

Generated from the registry in `cutover/run/criteria.py` (print it with `cutover criteria`); do not edit by hand.

Each criterion has an ID, a severity and what it checks. Every check carries its ID (the `criterion` marker),
so reports, waivers and the gate name it. Severity: **blocker** fails the gate; **major** fails the gate
unless waived; **minor** is reported, never fails the gate. A target may override a severity
(`[targets.NAME.severity]`). Numbers in brackets are defaults; every threshold is configurable per target
(`docs/targets.md`).

"Source" is where the data came from: a MongoDB URI (`mongodb`), a Parse Server REST endpoint (`rest`, counts
through `GET /classes/C?count=1&limit=0`), or a Parse JSON export directory (`export`). "Target" is the migrated
deployment. "Applies to" names the source kinds and, for criteria that depend on the files store, the stores
(s3, gridfs, gcs). A criterion that does not apply to a target is reported as **not applicable** with its
reason and counts as covered; one that applies but could not be checked is an ERROR. `GATE: PASS` needs every
applicable criterion to reach a verdict. "Checks" names the module of `cutover_pytest/checks/` that holds the
criterion's checks.
"""

_HEADER = "| ID | Severity | Criterion | Applies to | Checks |\n|---|---|---|---|---|\n"
_HEADINGS = {"Data": "Data (MongoDB)", "Files": "Files", "REST": "REST (Parse Server)",
             "Transport": "Transport", "Secrets": "Secrets", "Clients": "Clients"}


def applies_to(criterion: Criterion) -> str:
    """'all sources', or the kinds it applies to; plus the stores when it depends on one."""
    kinds = "all sources" if criterion.sources == SOURCE_KINDS else " and ".join(criterion.sources) + " sources"
    if criterion.stores is None:
        return kinds
    stores = "any store" if criterion.stores == STORES else ", ".join(criterion.stores)
    return f"{kinds}; {stores} (needs a files store)"


def _row(criterion: Criterion) -> str:
    text = criterion.text.replace("|", "\\|")
    why = f" Not applicable elsewhere: {criterion.why_not}." if criterion.why_not else ""
    return (f"| {criterion.id} | {criterion.severity} | **{criterion.title}.** {text}{why} "
            f"| {applies_to(criterion)} | `{criterion.checks}.py` |")


def render() -> str:
    """The whole catalogue as Markdown."""
    parts = [_INTRO]
    for area in AREAS:
        rows = [c for c in CRITERIA.values() if c.area == area]
        parts.append(f"## {_HEADINGS[area]}\n{_HEADER}" + "\n".join(_row(c) for c in rows) + "\n")
    parts.append(f"{len(CRITERIA)} criteria.\n")
    parts.append(normalisation())
    return "\n".join(parts)


def normalisation() -> str:
    """DB-03's cross-version rules (:data:`cutover.data.INDEX_NORMALISED`), so the table cannot go stale."""
    rows = "\n".join(f"| {rule.what} | {rule.how} | {rule.why} |" for rule in INDEX_NORMALISED)
    return ("## Cross-version index comparison (DB-03)\n\nA source and a target of different MongoDB releases "
            "(an mLab-era 3.6/4.0 source, a 7.0/8.0 target) list the same index differently although nothing was "
            "lost. DB-03 compares the comparable form of each `listIndexes` entry; this is what it normalises, and "
            "why. A field of a spec cutover does not know is an ERROR naming the server version and the field.\n\n"
            f"| Field or shape | Normalised | Why |\n|---|---|---|\n{rows}\n\n"
            f"Compared as they are (a difference fails DB-03): {', '.join(INDEX_COMPARED)}.\n")
