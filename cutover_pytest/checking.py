"""The hooks every process of a gate run needs around its checks: labels, setup guards, decorated reports.

At collection each check gets its criterion, severity and label (``DB-01[GameScore]``: :func:`label_checks`, the
first step of :mod:`cutover_pytest.collection_order`); a check without a known criterion stops the run (its
outcome would count for nothing), and so does a waiver that matches no labeled check (:func:`refuse_stale_waivers`).
Before a check runs it is skipped as
"not applicable" where its criterion does not apply to the target, as "not run" with ``--read-only`` when it
writes, ERRORs at once when its parametrization could not list its facts or a component it needs is dead.
Its reports carry the message, verdict and waiver the controller records (:mod:`cutover_pytest.report_to_record`).
"""
from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from cutover.run.check_record import NOT_APPLICABLE
from cutover.run.criteria import CRITERIA, not_applicable, severity_of
from cutover.run.waivers import unmatched
from cutover_pytest import reachability, row_evidence
from cutover_pytest.collection_log import READ_ONLY_SKIP
from cutover_pytest.params import guard_unverifiable
from cutover_pytest.pytest_output import redact_report
from cutover_pytest.report_to_record import decorate, unique_labels
from cutover_pytest.run_state import RunState


def label_checks(items: list[pytest.Item], state: RunState) -> None:
    """Give every check its criterion, severity and label, and let ``-k DB-01`` select a criterion's checks."""
    marked = [(item, criterion_marked(item)) for item in items]
    for (item, cid), label in zip(marked, unique_labels(marked), strict=True):
        severity = severity_of(cid, state.target.severity)
        item.user_properties.extend([("criterion", cid), ("severity", severity), ("label", label)])
        item.extra_keyword_matches.add(cid)   # -k DB-01 selects the checks of a criterion
    state.collection.labeled = [(cid, str(dict(item.user_properties)["label"])) for item, cid in marked]


def refuse_stale_waivers(state: RunState, labeled: list[tuple[str, str]]) -> None:
    """A UsageError when an active waiver of a criterion in the run matches none of its labeled checks (a partial
    run only answers for what it collected)."""
    in_run = {criterion for criterion, _ in labeled}
    stale = unmatched([w for w in state.waivers if w.criterion in in_run], labeled)
    if stale:
        raise pytest.UsageError(f"waiver matches no check of target {state.target.name}: {stale[0].describe()}")


class Checks:
    def __init__(self, state: RunState) -> None:
        self.state = state

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self.state.collection.add_deselected(items)

    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        cid = str(dict(item.user_properties)["criterion"])
        files = self.state.target.files
        reason = not_applicable(cid, self.state.target.source.kind, files.adapter if files else None)
        if reason:
            pytest.skip(NOT_APPLICABLE + reason)
        if item.get_closest_marker("writes") and self.state.read_only:
            pytest.skip(READ_ONLY_SKIP)
        guard_unverifiable(item)
        reachability.require_reachable(self.state.session.reach, item)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item,
                                  call: pytest.CallInfo[None]) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        props = dict(item.user_properties)
        decorate(report, call.excinfo, self.state.redact, self.state.waivers, str(props["criterion"]),
                 str(props["label"]))
        redact_report(report, self.state.redact)
        row_evidence.attach(report, self.state.redact)
        if call.excinfo is not None:   # a transport failure met by a check trips its component for the run
            self.state.session.reach.note(call.excinfo.value, origin=str(props["label"]))
        return report

    def pytest_report_teststatus(self, report: pytest.TestReport, config: pytest.Config) -> Any:
        if report.when == "call" and report.failed and getattr(report, "cutover_unverified", False):
            return "error", "E", ("ERROR", {"red": True})
        return None


def criterion_marked(item: pytest.Item) -> str:
    """The item's criterion; a UsageError (the run stops) when it has none or an unknown one."""
    marker = item.get_closest_marker("criterion")
    if marker is None:   # its outcome would count for nothing: refuse it
        raise pytest.UsageError(f"{item.nodeid}: a check needs its criterion: @pytest.mark.criterion(\"ID\") "
                                "(`cutover criteria` lists them)")
    cid = str(marker.args[0]) if marker.args else ""
    if cid not in CRITERIA:
        raise pytest.UsageError(f"{item.nodeid}: unknown criterion '{cid}' (`cutover criteria` lists them)")
    return cid
