"""The controller of a gate run, one plugin object registered only in the process that owns the run (the only
process, or pytest-xdist's controller), as pytest-html registers its report.

It holds what only that process knows: every check's record (from its own reports or its workers'), what the
workers collected, the commands they sent, each criterion's verdict, the gate; and it says so: in the
terminal, the HTML report, and the archived run directory.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from cutover import __version__
from cutover.data import blocking_policy, merge_facts, scan_policy
from cutover.redact import host_of
from cutover.run import remediation, report_groups, report_summary
from cutover.run.check_record import CheckRecord
from cutover.run.gate import Gate
from cutover.run.history import changes, previous_record
from cutover.run.run_directory import now
from cutover.run.verification import CriterionResult
from cutover.run.waivers import Waiver
from cutover_pytest import archive, breadth, htmlreport, planning, probing, reachability, resuming, sharding, signing
from cutover_pytest.checking import refuse_stale_waivers
from cutover_pytest.html_rows import drop_html_rows, sort_html_rows
from cutover_pytest.report_to_record import fold, new_record
from cutover_pytest.run_state import RunState
from cutover_pytest.signals import REASON, VERDICT, Watch
from cutover_pytest.verdict import Scope, conclude, criteria_of, not_verified_lines, record_fields, refused_waiver_lines
from cutover_pytest.worker_exchange import COMMANDS, RUN, WorkerStart, collected_path

if TYPE_CHECKING:
    from cutover.sandbox.stack import Sandbox


class Controller:
    def __init__(self, config: pytest.Config, state: RunState, scope: Scope, *, sandbox: Sandbox | None,
                 watch: Watch | None, expired: tuple[Waiver, ...], git_commit: str,
                 warnings: Sequence[str] = ()) -> None:
        self.config, self.state, self.scope = config, state, scope
        self.sandbox, self.watch, self.expired, self.git_commit = sandbox, watch, expired, git_commit
        self.warnings = tuple(warnings)                    # about the targets file: literal secrets
        self.records: dict[str, CheckRecord] = {}          # node id -> record
        self.criteria: dict[str, CriterionResult] = {}     # criterion -> verdict, at session end
        self.gate: Gate | None = None
        self.worker_commands: list[dict[str, Any]] = []    # MongoDB commands xdist workers sent
        self.not_run = ""                                  # why the run ended before any verdict
        self.planner = planning.Planner(state)             # plans once for the xdist workers
        self.table_rows = 0                                # rows pytest-html draws when it draws only some
        self.plan_file: Path | None = None                 # where the workers find it
        self._changes: dict[str, Any] | None = None

    @property
    def interrupted_by(self) -> str:
        return self.watch.received if self.watch is not None else ""

    def not_run_reason(self) -> str:
        return self.not_run or (REASON if self.interrupted_by else "")

    def changes(self) -> dict[str, Any]:
        """What changed since the previous run of this target, computed once (reads the older records)."""
        if self._changes is None:
            self._changes = changes(previous_record(self.state.run_dir.parent, self.state.run_id),
                                    self.records.values())
        return self._changes

    # -- the start ------------------------------------------------------------------------------------------
    @pytest.hookimpl(tryfirst=True)
    def pytest_collection(self, session: pytest.Session) -> None:
        """The warnings about the targets file, the preflight's line and its warnings about missing rights, before
        the first check and whatever the verbosity (``-q`` hides pytest's header): they say why a run may verify
        nothing."""
        writer = session.config.pluginmanager.get_plugin("terminalreporter")
        if writer is None:
            return
        for line in self.warnings:
            writer.write_line(f"cutover warning: {line}", yellow=True)
        preflight = self.state.session.reach.preflight
        for i, line in enumerate(reachability.header(self.state) or ()):   # the preflight, then missing rights
            writer.write_line(line, red=i == 0 and preflight is not None and bool(preflight.dead), bold=i == 0,
                              yellow=i > 0)

    @pytest.hookimpl(optionalhook=True)
    def pytest_metadata(self, metadata: dict[str, Any], config: pytest.Config) -> None:
        """pytest-metadata's environment table: only what we choose, never a secret or a whole URI."""
        for key in [k for k in metadata if k not in ("Python", "Platform", "Packages", "Plugins")]:
            metadata.pop(key)  # CI variables and the like
        target = self.state.target
        budget = target.scans.aggregation_budget(target.thresholds.timeout_s)
        metadata.update({"Target": target.name, "Run id": self.state.run_id, "Suite version": __version__,
                         "Git commit": self.git_commit or "n/a", "Target database": host_of(target.database.uri),
                         "Parse Server": host_of(target.parse.server_url) if target.parse else "n/a",
                         "Blocking MongoDB commands": blocking_policy(target.allow_blocking_commands),
                         "Heavy reads": scan_policy(target.scans.read_preference, target.scans.max_docs_per_s,
                                                    budget),
                         **signing.environment(config)})

    def fill_metadata(self, config: pytest.Config) -> None:
        """Apply the table to what pytest-metadata holds: it may have asked before the target was loaded, and
        it merges each xdist worker's unfiltered table (CI variables included) when the worker goes down."""
        try:
            from pytest_metadata.plugin import metadata_key
        except ImportError:
            return
        if metadata_key in config.stash:
            self.pytest_metadata(config.stash[metadata_key], config)

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_report_title(self, report: Any) -> None:
        report.title = f"cutover: {self.state.target.name} {self.state.run_id}"

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """Before xdist starts its workers (its hook is trylast): the probe sweep, once per run; then the plan,
        in a thread, while the workers start."""
        if not self.scope.collect_only:
            probing.start_probe_phase(self.state.target, self.state.session, self.state.read_only)
        if session.config.pluginmanager.has_plugin("dsession"):
            self.plan_file = self.planner.start(session.config)

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """pytest-xdist: hand the run to each worker (workers open their own clients), and where they find the
        run's plan."""
        state, phase = self.state, probing.probe_phase(self.state.session)
        node.workerinput[RUN] = WorkerStart(
            state.target, state.run_id, state.run_dir, state.started, state.scratch, state.waivers,
            phase.baseline if phase is not None else None, self.plan_file).pack()

    # -- collection (its order: cutover_pytest.collection_order) ---------------------------------------------
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.state.collection.add_collected(session.items)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.state.collection.collection_errors.append(report.nodeid or str(report.fspath))

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        path = collected_path(self.state.scratch, node.gateway.id)
        if not path.exists():
            return
        try:
            refuse_stale_waivers(self.state, self.state.collection.merge(path))
        except pytest.UsageError as exc:
            pytest.exit(str(exc), returncode=pytest.ExitCode.USAGE_ERROR)

    # -- the checks -----------------------------------------------------------------------------------------
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        record = self.records.get(report.nodeid) or new_record(report)
        if record is not None:
            self.records[report.nodeid] = record
            fold(record, report)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        sent = getattr(node, "workeroutput", {}).get(COMMANDS)
        if sent:
            self.worker_commands.append(sent)

    # -- the end --------------------------------------------------------------------------------------------
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        self.records.update(resuming.carried_records(self.config, self.state.run_dir))   # before any verdict
        if session.config.pluginmanager.has_plugin("dsession") and not (self.state.read_only
                                                                         or self.scope.collect_only):
            probing.finish_probe_phase(self.state.target, self.state.session, self.records.values())
        self.criteria = criteria_of(self.records, self.state.collection, self.state.target, self.scope)
        self.gate = conclude(self.records, self.criteria, self.state.collection, self.scope, exitstatus,
                             self.state.session.reach.preflight)
        session.exitstatus = self.gate.exit_code
        self.fill_metadata(session.config)
        sort_html_rows(session.config)   # same data, same report: before pytest-html renders (it runs trylast)
        breadth.index_teardown_reports(session.config)   # every report is in: the failure summary reads an index
        if len(self.records) > report_groups.FULL_TABLE_MAX:   # a broad run: its groups list every check
            quiet = {n for n, r in self.records.items() if r.outcome in ("passed", "skipped")}
            self.table_rows = drop_html_rows(session.config, quiet)

    def pytest_terminal_summary(self, terminalreporter: Any, config: pytest.Config) -> None:
        for line in probing.summary_lines(probing.probe_phase(self.state.session), self.records.values()):
            terminalreporter.write_line(f"cutover {line}")
        report = f"cutover report: {self.state.run_dir / 'report.html'}"
        if self.gate is None:
            if self.interrupted_by:
                terminalreporter.write_sep("=", f"{VERDICT} by {self.interrupted_by}", red=True)
                terminalreporter.write_line(report)
            return
        for waiver in self.expired:
            terminalreporter.write_line(f"waiver expired, ignored: {waiver.describe()}", yellow=True)
        for line in refused_waiver_lines(self.records.values()):
            terminalreporter.write_line(line, yellow=True)
        if not self.gate.not_run:
            for line in not_verified_lines(self.criteria):
                terminalreporter.write_line(line, yellow=True)
        passed = self.gate.status in ("PASS", "PARTIAL PASS")
        by = f" by {self.interrupted_by}" if self.interrupted_by else ""
        terminalreporter.write_sep("=", self.gate.line + by, red=not passed, green=passed)
        terminalreporter.write_line(report)

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_header(self, cells: list[str]) -> None:
        htmlreport.table_header(cells)

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_row(self, report: pytest.TestReport, cells: list[str]) -> None:
        htmlreport.table_row(report, cells)

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_html(self, report: pytest.TestReport, data: list[str]) -> None:
        htmlreport.table_html(report, data)

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_summary(self, prefix: list[str], summary: list[str], postfix: list[str],
                                    session: pytest.Session) -> None:
        """The release manager's view first: verdict banner, failing checks in one line each, remediation files,
        criteria matrix, counts per area and severity, changes, waivers, probes, every check in a collapsed group
        per criterion."""
        state, records = self.state, list(self.records.values())
        entries = [r.to_json() for r in records]
        prefix.append(report_summary.banner(self.gate, state.target.name, state.run_id, self.scope.partial))
        failing = report_summary.failing(entries)
        if failing:
            prefix.append(f'<div id="cutover-failing">{report_summary.render_table(failing)}</div>')
        prefix.append(report_summary.remediation_links(remediation.from_entries(entries)))
        if self.criteria:
            matrix = report_summary.criteria_matrix(self.criteria, state.target.severity)
            prefix.append(report_summary.render_table(matrix))
        prefix.append(report_summary.render_table(report_summary.area_table(records)))
        tables = (htmlreport.changes_table(self.changes()),
                  htmlreport.waivers_table(state.waivers, self.expired, records))
        prefix.extend(report_summary.render_table(table) for table in tables if table is not None)
        lines = probing.summary_lines(probing.probe_phase(state.session), records)
        if lines:
            prefix.append(htmlreport.probes_block(lines))
        prefix.append(report_groups.criterion_groups(entries, state.target.severity))
        if self.table_rows or len(records) > report_groups.FULL_TABLE_MAX:
            prefix.append(htmlreport.table_note(self.table_rows, len(records)))

    @pytest.hookimpl(trylast=True)
    def pytest_unconfigure(self, config: pytest.Config) -> None:
        self.state.session.close()
        if self.sandbox is not None:
            self.sandbox.stop()
        self.archive()
        breadth.freeze_for_exit(len(self.records), report_groups.FULL_TABLE_MAX)

    def archive(self) -> None:
        state, gate, target = self.state, self.gate, self.state.target
        htmlreport.environment_below(state.run_dir / "report.html")   # pytest-html has written it by now
        signer = signing.signer(self.config)
        meta = archive.identity(state.run_id, target, self.git_commit, self.scope.partial, signer)
        reason = self.not_run_reason()
        body = {
            "started_utc": state.started, "finished_utc": now(),
            "verdict": gate.line if gate else "GATE: NOT RUN" + (f" ({reason})" if reason else ""),
            "exit_code": gate.exit_code if gate else None, "interrupted_by": self.interrupted_by or None,
            "reachability": state.session.reach.facts(), "counts": gate.counts if gate else {},
            **record_fields(self.criteria, self.scope.partial), "severity_overrides": target.severity,
            "waivers": [w.describe() for w in state.waivers], "expired_waivers": [w.describe() for w in self.expired],
            "changes": self.changes(),
            "mongo_commands": {"allow_blocking_commands": target.allow_blocking_commands,
                               **merge_facts([state.session.commands.facts(), *self.worker_commands])},
            "probes": probing.probe_record(probing.probe_phase(state.session), self.records.values()),
            **sharding.record_fields(state.run_dir), **resuming.record_fields(self.config, state.run_dir),
            **planning.record_fields(self.config, state)}
        archive.write_run(state.run_dir, meta, body, self.records.values(), target.secrets, signer)
