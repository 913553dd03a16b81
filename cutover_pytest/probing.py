"""The probe phase of a run, around the checks: the sweep it starts with, the classes that existed before the
first probe (handed to xdist workers), and what the checks found the app's triggers did with the probes:
terminal lines, a block in the HTML summary, and ``probes`` in record.json.

The sweep runs once, in the process that starts the run (the xdist controller, or the only process),
before any check: with ``--read-only`` it only counts stale probes and says that they exist.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cutover.errors import CouldNotVerify
from cutover.model import Target
from cutover.rest import NEW_CLASS, ProbePhase, Sweep, drop_classes, schemas, survey, sweep, total_rows
from cutover.run.check_record import CheckRecord
from cutover.session import Session


def start_probe_phase(target: Target, session: Session, read_only: bool) -> None:
    """Sweep (or, read-only, survey) stale probes; remember the classes before any probe is written."""
    if target.parse is None:
        return
    phase = session.probes
    try:
        client = session.parse
    except CouldNotVerify as exc:  # the preflight found the server dead: say so, never wait on it again
        phase.sweep = Sweep(target.probe_grace_s, read_only=read_only, error=str(exc))
        return
    assert client is not None
    if read_only:
        phase.sweep = survey(client, target.probe_class, target.probe_grace_s)
        return
    phase.sweep = sweep(client, target.probe_class, target.probe_grace_s)
    try:
        phase.baseline = frozenset(schemas(client))
    except CouldNotVerify:
        phase.baseline = None    # each probe run then compares with the classes at its own start


def probe_phase(session: Session) -> ProbePhase | None:
    """The session's probe phase, if this run opened one (never opened just to be asked)."""
    return session.probes if ("session", "probes") in session.memo else None


def finish_probe_phase(target: Target, session: Session, records: Iterable[CheckRecord]) -> None:
    """After a distributed run's workers are done: drop the probe class and the classes the probes made the
    app create, each if empty (the workers only emptied them)."""
    phase = probe_phase(session)
    if target.parse is None or phase is None:
        return
    try:
        client = session.parse
    except CouldNotVerify:
        return
    if client is None:
        return
    created = {row["class"] for row in side_effect_rows(records) if row["link"] == NEW_CLASS}
    phase.final = drop_classes(client, [target.probe_class, *sorted(created)])


def side_effect_rows(records: Iterable[CheckRecord]) -> list[dict[str, Any]]:
    """Every side effect the checks recorded, per class, link and action."""
    return total_rows([row for record in records for row in record.facts.get("probe_side_effects", [])])


def probe_record(phase: ProbePhase | None, records: Iterable[CheckRecord]) -> dict[str, Any]:
    """record.json's ``probes``: the sweep and the side effects of the probes."""
    swept = phase.sweep.facts() if phase is not None and phase.sweep is not None else None
    return {"sweep": swept, "side_effects": side_effect_rows(records)}


def summary_lines(phase: ProbePhase | None, records: Iterable[CheckRecord]) -> list[str]:
    lines = [phase.sweep.line()] if phase is not None and phase.sweep is not None else []
    if phase is not None and phase.final is not None and phase.final.left:
        lines.append(f"probe classes left after the workers finished: {'; '.join(phase.final.left)}")
    rows = side_effect_rows(records)
    if rows:
        listed = "; ".join(f"{r['count']} {r['class']} ({r['link']}): {r['action']}" for r in rows)
        lines.append(f"probe side effects (what the app's triggers wrote because of the probes): {listed}")
    return lines
