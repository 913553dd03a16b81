"""The hooks every process of a gate run needs around its checks: labels, setup guards, decorated reports.

At collection each check gets its criterion, severity and label (``DB-01[GameScore]``: :func:`label_checks`, the
first step of :mod:`cutover_pytest.collection_order`); a check without a known criterion stops the run (its
outcome would count for nothing), and so does a waiver that matches no labeled check (:func:`refuse_stale_waivers`).
Before a check runs it is skipped as
"not applicable" where its criterion does not apply to the target, as "not run" with ``--read-only`` when it
writes, ERRORs at once when its parametrization could not list its facts or a component it needs is dead.
Each of its reports gets, here and only here, its :class:`cutover_pytest.report_data.ReportData` (message, verdict,
waiver, evidence: :func:`cutover_pytest.report_to_record.conclude`), which the controller folds into its record;
the serialisation hooks carry it to xdist's controller.
"""
from __future__ import annotations

import dataclasses
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
from cutover_pytest.report_data import ATTRIBUTE, Labels, data_of, from_wire, labels_of, put_labels, to_wire
from cutover_pytest.report_to_record import conclude, unique_labels
from cutover_pytest.run_state import RunState


def label_checks(items: list[pytest.Item], state: RunState) -> None:
    """Give every check its criterion, severity and label, and let ``-k DB-01`` select a criterion's checks."""
    marked = [(item, criterion_marked(item)) for item in items]
    labels = [Labels(cid, severity_of(cid, state.target.severity), label)
              for (_, cid), label in zip(marked, unique_labels(marked), strict=True)]
    for (item, cid), given in zip(marked, labels, strict=True):
        put_labels(item, given)
        item.extra_keyword_matches.add(cid)   # -k DB-01 selects the checks of a criterion
    state.collection.labeled = [(given.criterion, given.label) for given in labels]


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
        files, labels = self.state.target.files, labels_of(item)
        assert labels is not None   # every check of a gate run is labeled at collection
        reason = not_applicable(labels.criterion, self.state.target.source.kind, files.adapter if files else None)
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
        labels = labels_of(item)
        assert labels is not None   # every check of a gate run is labeled at collection
        data = conclude(report, call.excinfo, self.state.redact, self.state.waivers, labels)
        redact_report(report, self.state.redact)
        evidence = self.state.redact(row_evidence.for_report(report.when, data))
        setattr(report, ATTRIBUTE, dataclasses.replace(data, evidence=evidence))   # the one place it is attached
        if call.excinfo is not None:   # a transport failure met by a check trips its component for the run
            self.state.session.reach.note(call.excinfo.value, origin=labels.label)
        return report

    @pytest.hookimpl(wrapper=True)
    def pytest_report_to_serializable(self, config: pytest.Config,
                                      report: Any) -> Generator[None, dict[str, Any] | None, dict[str, Any] | None]:
        """A worker's report for xdist's controller: its data as :func:`cutover_pytest.report_data.to_wire`."""
        wire = yield
        data = data_of(report)
        if wire is not None and data is not None:
            wire[ATTRIBUTE] = to_wire(data)
        return wire

    @pytest.hookimpl(wrapper=True)
    def pytest_report_from_serializable(self, config: pytest.Config,
                                        data: dict[str, Any]) -> Generator[None, Any, Any]:
        """A worker's report in xdist's controller: its data as it was in the worker."""
        report = yield
        wire = getattr(report, ATTRIBUTE, None)
        if isinstance(wire, dict):
            setattr(report, ATTRIBUTE, from_wire(wire, report))
        return report

    def pytest_report_teststatus(self, report: pytest.TestReport, config: pytest.Config) -> Any:
        data = data_of(report)
        if report.when == "call" and report.failed and data is not None and data.unverified:
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
