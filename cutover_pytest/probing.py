"""The probe phase of a run, around the checks: the sweep it starts with, the classes that existed before the
first probe (handed to xdist workers), and what the checks found the app's triggers did with the probes:
terminal lines, a table in the HTML summary, and ``probes`` in record.json.

The sweep runs once, in the process that starts the run (the xdist controller, or the only process),
before any check: with ``--read-only`` it only counts stale probes and says that they exist.
"""
from __future__ import annotations

import html
from typing import Any

import pytest

from cutover.errors import CouldNotVerify
from cutover.rest.phase import drop_classes
from cutover.rest.side_effects import NEW_CLASS, schemas, total_rows
from cutover.rest.sweep import Sweep, survey, sweep
from cutover_pytest.state import RunState, get_state

_BASELINE_KEY = "cutover_probe_baseline"


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    workerinput = getattr(config, "workerinput", None)
    state = get_state(config)
    if workerinput is None or state is None:
        return
    state.session.probes.shared = True
    if workerinput.get(_BASELINE_KEY) is not None:
        state.session.probes.baseline = frozenset(workerinput[_BASELINE_KEY])


def pytest_sessionstart(session: pytest.Session) -> None:
    config = session.config
    state = get_state(config)
    if state is None or hasattr(config, "workerinput") or config.option.collectonly:
        return
    start_probe_phase(state, bool(config.getoption("read_only")))


def start_probe_phase(state: RunState, read_only: bool) -> None:
    """Sweep (or, read-only, survey) stale probes; remember the classes before any probe is written."""
    target = state.target
    if target.parse is None:
        return
    phase = state.session.probes
    try:
        client = state.session.parse
    except CouldNotVerify as exc:  # the preflight found the server dead: say so, never wait on it again
        phase.sweep = Sweep(target.probe_grace_s, read_only=read_only, error=str(exc))
        return
    if read_only:
        phase.sweep = survey(client, target.probe_class, target.probe_grace_s)
        return
    phase.sweep = sweep(client, target.probe_class, target.probe_grace_s)
    try:
        phase.baseline = frozenset(schemas(client))
    except CouldNotVerify:
        phase.baseline = None    # each probe run then compares with the classes at its own start


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    state = get_state(node.config)
    if state is not None and "probes" in vars(state.session) and state.session.probes.baseline is not None:
        node.workerinput[_BASELINE_KEY] = sorted(state.session.probes.baseline)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """After a distributed run's workers are done: drop the probe class and the classes the probes made the
    app create, each if empty (the workers only emptied them)."""
    config = session.config
    state = get_state(config)
    if (state is None or hasattr(config, "workerinput") or not config.pluginmanager.has_plugin("dsession")
            or state.target.parse is None or config.getoption("read_only") or config.option.collectonly):
        return
    try:
        client = state.session.parse
    except CouldNotVerify:
        return
    created = {row["class"] for row in side_effect_rows(state) if row["link"] == NEW_CLASS}
    state.session.probes.final = drop_classes(client, [state.target.probe_class, *sorted(created)])


def side_effect_rows(state: RunState) -> list[dict[str, Any]]:
    """Every side effect the checks recorded, per class, link and action."""
    return total_rows([row for entry in state.results.values()
                       for row in entry.get("facts", {}).get("probe_side_effects", [])])


def probe_record(state: RunState) -> dict[str, Any]:
    """record.json's ``probes``: the sweep and the side effects of the probes."""
    phase = state.session.probes if "probes" in vars(state.session) else None
    swept = phase.sweep.facts() if phase is not None and phase.sweep is not None else None
    return {"sweep": swept, "side_effects": side_effect_rows(state)}


def summary_lines(state: RunState) -> list[str]:
    phase = state.session.probes if "probes" in vars(state.session) else None
    lines = [phase.sweep.line()] if phase is not None and phase.sweep is not None else []
    if phase is not None and phase.final is not None and phase.final.left:
        lines.append(f"probe classes left after the workers finished: {'; '.join(phase.final.left)}")
    rows = side_effect_rows(state)
    if rows:
        listed = "; ".join(f"{r['count']} {r['class']} ({r['link']}): {r['action']}" for r in rows)
        lines.append(f"probe side effects (what the app's triggers wrote because of the probes): {listed}")
    return lines


@pytest.hookimpl(tryfirst=True)
def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    state = get_state(config)
    if state is None or hasattr(config, "workerinput"):
        return
    for line in summary_lines(state):
        terminalreporter.write_line(f"cutover {line}")


@pytest.hookimpl(trylast=True)
def pytest_html_results_summary(prefix: list[str], summary: list[str], postfix: list[str],
                                session: pytest.Session) -> None:
    state = get_state(session.config)
    if state is None:
        return
    lines = summary_lines(state)
    if lines:
        items = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
        prefix.append(f'<div id="cutover-probes"><p>Probes</p><ul>{items}</ul></div>')
