"""The cutover pytest plugin: ``--target`` runs the checks against a named deployment and archives a report.

Flow: options -> the user's configuration only launches the gate run (:mod:`cutover_pytest.launch`) -> in it,
pytest_configure loads and validates the target (a bad config is a UsageError, exit 4), chooses what to
collect (:mod:`cutover_pytest.selection`), starts the sandbox for a sandbox target, points pytest-html and
JUnit at the run directory -> checks run -> outcomes are folded into a record -> at the end: each criterion's
verdict and the gate (:mod:`cutover_pytest.verdict`), record.json, redaction, manifest.
"""
from __future__ import annotations

import base64
import os
import pickle
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cutover import __version__
from cutover.data.commands import blocking_policy, merge_facts, scan_policy
from cutover.errors import ConfigError, SandboxError, as_could_not_verify
from cutover.model import Target
from cutover.redact import host_of
from cutover.run.config import SandboxSpec, load_target
from cutover.run.criteria import CRITERIA, not_applicable, severity_of
from cutover.run.history import write_index
from cutover.run.record import config_digest, git_commit, redact_tree, run_by, write_json, write_manifest
from cutover.run.verification import NOT_APPLICABLE, check_verdict
from cutover.run.waivers import Waiver, load_waivers, split_expired, unmatched, waiver_for
from cutover.session import Session
from cutover_pytest import launch, signing
from cutover_pytest.outcomes import message_of, unique_labels, update_entry
from cutover_pytest.params import guard_unverifiable
from cutover_pytest.scrub import mark_junit_errors, scrub_report
from cutover_pytest.selection import select
from cutover_pytest.state import STATE_KEY, RunState, get_state
from cutover_pytest.tally import READ_ONLY_SKIP
from cutover_pytest.verdict import conclude, not_verified_lines, record_fields

pytest_plugins = ["cutover_pytest.fixtures", "cutover_pytest.htmlreport", "cutover_pytest.telemetry",
                  "cutover_pytest.commandlog", "cutover_pytest.scratch", "cutover_pytest.signals",
                  "cutover_pytest.reachability", "cutover_pytest.probing"]

_WORKER_KEY = "cutover_state"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("cutover", "Parse migration acceptance")
    group.addoption("--target", default=None, help="named target from the targets file (env CUTOVER_TARGET)")
    group.addoption("--targets-file", default=None, help="targets file (default: ./targets.toml)")
    group.addoption("--reports-dir", default=None, help="root of the archived reports (default: ./reports)")
    group.addoption("--sample", type=int, default=0, metavar="N",
                    help="quick pass: compare N sampled documents per class instead of all (DB-02)")
    group.addoption("--read-only", action="store_true", default=False,
                    help="skip every check that writes probe objects through REST")
    group.addoption("--scale", type=int, default=0, help="sandbox targets: number of app objects to seed")
    group.addoption("--waivers", default=None,
                    help="waivers file (default: ./waivers.toml when it exists; env CUTOVER_WAIVERS)")
    group.addoption("--checks", action="append", default=[], metavar="PATH",
                    help="a team's own checks (file or directory) to run with the catalogue; repeatable")
    group.addoption("--partial", action="store_true", default=False,
                    help="let a narrowed run (-k, -m, paths, --read-only) pass on the criteria it verified: "
                         "GATE: PARTIAL PASS (n/N criteria)")
    signing.add_option(group)


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    if launch.is_launcher(early_config):   # this configuration only launches the gate run: import no conftest
        early_config.known_args_namespace.noconftest = True


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> Any:
    return launch.launch(config) if launch.is_launcher(config) else None


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "criterion(id): the acceptance criterion (cutover criteria) a check proves")
    config.addinivalue_line("markers", "writes: the check writes probe objects (skipped with --read-only)")
    if not launch.is_gate_run(config):
        return
    selection = select(list(config.option.file_or_dir or ()), list(config.getoption("checks")),
                       config.invocation_params.dir)
    config.args = list(selection.args)
    if hasattr(config, "workerinput"):
        _configure_worker(config)
        return
    name = str(config.getoption("target") or os.environ.get("CUTOVER_TARGET"))
    explicit = config.getoption("targets_file") or os.environ.get("CUTOVER_TARGETS_FILE")
    targets_file = Path(explicit or Path.cwd() / "targets.toml")
    try:
        loaded = load_target(targets_file, name, required=bool(explicit))
        waivers = _waivers(config, name, loaded)
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None
    signing.load(config)   # a bad signing key stops the run here, before anything is written
    if isinstance(loaded, SandboxSpec):
        _sandbox_class(name)   # a missing 'sandbox' extra stops here, before anything is written
    run_dir = _new_run_dir(config, name)
    target, sandbox = _materialize(config, loaded, run_dir)
    active, expired = split_expired(waivers, datetime.now(UTC).date())
    state = RunState(target=target, session=Session(target, _options(config)), run_id=run_dir.name,
                     run_dir=run_dir, started=_now(), sandbox=sandbox, waivers=active, expired_waivers=expired,
                     git_commit=git_commit(Path.cwd()), partial=config.getoption("partial"),
                     narrowed=selection.narrowed, collect_only=config.getoption("collectonly"))
    config.stash[STATE_KEY] = state
    config.option.htmlpath = str(run_dir / "report.html")
    config.option.self_contained_html = True
    config.option.xmlpath = str(run_dir / "junit.xml")
    _fill_metadata(config)


def _fill_metadata(config: pytest.Config) -> None:
    """pytest-metadata may have asked for the environment table before the target was loaded: fill it now."""
    try:
        from pytest_metadata.plugin import metadata_key
    except ImportError:
        return
    if metadata_key in config.stash:
        pytest_metadata(config.stash[metadata_key], config)


def _waivers(config: pytest.Config, name: str, loaded: Target | SandboxSpec) -> tuple[Waiver, ...]:
    explicit = config.getoption("waivers") or os.environ.get("CUTOVER_WAIVERS")
    path = Path(explicit) if explicit else Path.cwd() / "waivers.toml"
    if not explicit and not path.exists():
        return ()
    overrides = loaded.severity if isinstance(loaded, Target) else {}
    return load_waivers(path, name, overrides)


def _materialize(config: pytest.Config, loaded: Target | SandboxSpec, run_dir: Path) -> tuple[Target, Any]:
    if isinstance(loaded, Target):
        return loaded, None
    Sandbox = _sandbox_class(loaded.name)

    scale = config.getoption("scale") or loaded.scale
    files_store = "gcs" if loaded.name == "demo-gcs" else "s3"
    sandbox = Sandbox(run_dir, scale=scale, files_store=files_store)  # logs in <run_dir>/logs; per-user cache
    try:
        target = sandbox.start_target(loaded.name, production=loaded.production, live=loaded.live)
    except SandboxError as exc:
        sandbox.stop()
        raise pytest.UsageError(f"the sandbox could not start: {exc}") from None
    except KeyboardInterrupt:  # a signal during the start (the sandbox stopped itself): archived as such
        from cutover_pytest.signals import archive_interrupted_start  # a plugin module: imported by pytest

        archive_interrupted_start(config, run_dir, loaded.name, sandbox.keys.values())
        raise
    config.add_cleanup(sandbox.stop)
    return target, sandbox


def _sandbox_class(name: str) -> Any:
    """The sandbox, or one line naming the extra to install when its dependencies are missing."""
    from cutover.run.extras import missing

    try:
        absent = missing("sandbox")
        if not absent:
            from cutover.sandbox.stack import Sandbox
            return Sandbox
    except ImportError as exc:
        absent = [str(exc.name or exc)]
    raise pytest.UsageError(f"target '{name}' runs the embedded sandbox, which needs the 'sandbox' extra: "
                            f"pip install 'cutover[sandbox]' (missing: {', '.join(absent)})")


def _configure_worker(config: pytest.Config) -> None:
    blob = config.workerinput.get(_WORKER_KEY)  # type: ignore[attr-defined]
    if not blob:
        return
    target, run_id, run_dir, started, waivers = pickle.loads(base64.b64decode(blob))
    config.stash[STATE_KEY] = RunState(target=target, session=Session(target, _options(config)),
                                       run_id=run_id, run_dir=Path(run_dir), started=started, waivers=waivers)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist: hand the validated target to each worker (workers open their own clients)."""
    state = get_state(node.config)
    if state is not None:
        payload = (state.target, state.run_id, str(state.run_dir), state.started, state.waivers)
        node.workerinput[_WORKER_KEY] = base64.b64encode(pickle.dumps(payload)).decode()


def _options(config: pytest.Config) -> dict[str, Any]:
    return {"sample": config.getoption("sample"), "read_only": config.getoption("read_only"),
            "workers": int(os.environ.get("PYTEST_XDIST_WORKER_COUNT") or 1)}


def _new_run_dir(config: pytest.Config, name: str) -> Path:
    root = Path(config.getoption("reports_dir") or Path.cwd() / "reports")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    run_dir, n = root / name / stamp, 1
    while run_dir.exists():
        n += 1
        run_dir = root / name / f"{stamp}-{n}"
    run_dir.mkdir(parents=True)
    return run_dir


@pytest.hookimpl(optionalhook=True)
def pytest_metadata(metadata: dict[str, Any], config: pytest.Config) -> None:
    """pytest-metadata's environment table: only what we choose, never a secret or a whole URI."""
    state = get_state(config)
    if state is None:
        return
    for key in [k for k in metadata if k not in ("Python", "Platform", "Packages", "Plugins")]:
        metadata.pop(key)  # CI variables and the like
    target = state.target
    metadata.update({"Target": target.name, "Run id": state.run_id, "Suite version": __version__,
                     "Git commit": state.git_commit or "n/a",
                     "Target database": host_of(target.database.uri),
                     "Parse Server": host_of(target.parse.server_url) if target.parse else "n/a",
                     "Blocking MongoDB commands": blocking_policy(target.allow_blocking_commands),
                     "Heavy reads": scan_policy(target.scans.read_preference, target.scans.max_docs_per_s,
                                                state.session.aggregation_budget_s),
                     **signing.environment(config)})


def pytest_html_report_title(report: Any) -> None:
    state = _controller_state
    report.title = f"cutover: {state.target.name} {state.run_id}" if state else "cutover report"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    state = get_state(config)
    marked = []
    for item in items:
        marker = item.get_closest_marker("criterion")
        if marker is None and state is not None:   # its outcome would count for nothing: refuse it
            raise pytest.UsageError(f"{item.nodeid}: a check needs its criterion: @pytest.mark.criterion(\"ID\") "
                                    "(`cutover criteria` lists them)")
        if marker is None:
            continue
        cid = marker.args[0] if marker.args else ""
        if cid not in CRITERIA:
            raise pytest.UsageError(f"{item.nodeid}: unknown criterion '{cid}' (`cutover criteria` lists them)")
        if state is None:
            raise pytest.UsageError("the checks need a target: pass --target NAME (targets.toml lists them)")
        marked.append((item, cid))
    assert state is not None or not marked
    for (item, cid), label in zip(marked, unique_labels(marked), strict=True):
        severity = severity_of(cid, state.target.severity)  # type: ignore[union-attr]
        item.user_properties.extend([("criterion", cid), ("severity", severity), ("label", label)])
        item.extra_keyword_matches.add(cid)   # -k DB-01 selects the checks of a criterion
    if state is None:
        return
    state.tally.labeled = [(str(p["criterion"]), str(p["label"])) for p in (dict(i.user_properties) for i in items)
                           if "criterion" in p]
    if state.waivers and not hasattr(config, "workerinput"):  # xdist: the controller checks what workers saw
        _check_stale_waivers(state, state.tally.labeled)


def pytest_deselected(items: list[pytest.Item]) -> None:
    state = get_state(items[0].config) if items else None
    if state is not None:
        state.tally.add_deselected(items)


@pytest.hookimpl(tryfirst=True)   # before pytest-xdist's worker tells the controller collection is done
def pytest_collection_finish(session: pytest.Session) -> None:
    state = get_state(session.config)
    if state is None:
        return
    state.tally.add_collected(session.items)
    if hasattr(session.config, "workerinput"):
        state.tally.write(state.run_dir / f".collected-{session.config.workerinput['workerid']}.json")


def pytest_collectreport(report: pytest.CollectReport) -> None:
    state = _controller_state
    if state is not None and report.failed:
        state.tally.collection_errors.append(report.nodeid or str(report.fspath))


def _check_stale_waivers(state: RunState, collected: list[tuple[str, str]]) -> None:
    in_run = {criterion for criterion, _ in collected}  # a partial run only answers for what it collected
    stale = unmatched([w for w in state.waivers if w.criterion in in_run], collected)
    if stale:
        raise pytest.UsageError(f"waiver matches no check of target {state.target.name}: {stale[0].describe()}")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node: Any, ids: list[str]) -> None:
    state = get_state(node.config)
    path = state.run_dir / f".collected-{node.gateway.id}.json" if state is not None else None
    if state is None or path is None or not path.exists():
        return
    labeled = state.tally.merge(path)
    try:
        if state.waivers:
            _check_stale_waivers(state, labeled)
    except pytest.UsageError as exc:
        pytest.exit(str(exc), returncode=pytest.ExitCode.USAGE_ERROR)


def pytest_runtest_setup(item: pytest.Item) -> None:
    state = get_state(item.config)
    cid = dict(item.user_properties).get("criterion")
    if state is not None and cid is not None:
        files = state.target.files
        reason = not_applicable(str(cid), state.target.source.kind, files.adapter if files else None)
        if reason:
            pytest.skip(NOT_APPLICABLE + reason)
    if item.get_closest_marker("writes") and item.config.getoption("read_only"):
        pytest.skip(READ_ONLY_SKIP)
    guard_unverifiable(item)
    from cutover_pytest.reachability import require_reachable  # a plugin module: imported by pytest

    require_reachable(item)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    state = get_state(item.config)
    if state is None or item.get_closest_marker("criterion") is None:
        return report
    if call.excinfo is not None and not report.skipped:
        unverified = as_could_not_verify(call.excinfo.value)
        message = f"could not verify: {unverified}" if unverified else message_of(call.excinfo)
        report.cutover_message = state.redact(message)
        report.cutover_unverified = unverified is not None
        if unverified is not None:
            report.longrepr = report.cutover_message
    elif call.excinfo is not None:
        report.cutover_message = state.redact(message_of(call.excinfo))
    scrub_report(report, state.redact)
    report.cutover_verdict = _verdict(report)
    if report.cutover_verdict in ("failed", "error"):
        props = dict(item.user_properties)
        waiver = waiver_for(state.waivers, str(props["criterion"]), str(props["label"]))
        if waiver is not None:
            report.cutover_waiver = {"justification": waiver.justification,
                                     "expires": str(waiver.expires), "author": waiver.author}
            report.cutover_verdict = "waived"
    return report


def _verdict(report: pytest.TestReport) -> str:
    if report.skipped:
        return "not applicable" if getattr(report, "cutover_message", "").startswith(NOT_APPLICABLE) else "not run"
    if report.failed:
        return "error" if report.when != "call" or getattr(report, "cutover_unverified", False) else "failed"
    return "passed"


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config) -> Any:
    if report.when == "call" and report.failed and getattr(report, "cutover_unverified", False):
        return "error", "E", ("ERROR", {"red": True})
    return None


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    props = dict(report.user_properties)
    if "criterion" not in props:
        return
    state = _controller_state
    if state is None:
        return
    entry = state.results.setdefault(report.nodeid, {
        "id": report.nodeid, "label": props.get("label"), "criterion": props["criterion"],
        "severity": props["severity"]})
    update_entry(entry, report)


_controller_state: RunState | None = None


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    global _controller_state
    _controller_state = None if hasattr(session.config, "workerinput") else get_state(session.config)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = get_state(session.config)
    if state is None or hasattr(session.config, "workerinput"):
        return
    state.gate = conclude(state, exitstatus)
    session.exitstatus = state.gate.exit_code


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    state = get_state(config)
    if state is None or state.gate is None or hasattr(config, "workerinput"):
        return
    for waiver in state.expired_waivers:
        terminalreporter.write_line(f"waiver expired, ignored: {waiver.describe()}", yellow=True)
    if not state.gate.not_run:
        for line in not_verified_lines(state):
            terminalreporter.write_line(line, yellow=True)
    passed = state.gate.status in ("PASS", "PARTIAL PASS")
    by = f" by {state.interrupted_by}" if state.interrupted_by else ""
    terminalreporter.write_sep("=", state.gate.line + by, red=not passed, green=passed)
    terminalreporter.write_line(f"cutover report: {state.run_dir / 'report.html'}")


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    state = get_state(config)
    if state is None or hasattr(config, "workerinput"):
        return
    state.session.close()
    if state.sandbox is not None:
        state.sandbox.stop()
    _archive(config, state)


def _archive(config: pytest.Config, state: RunState) -> None:
    from cutover_pytest.probing import probe_record  # registered by pytest_plugins, so not imported up here

    gate = state.gate
    tests = [{**e, "verdict": check_verdict(e)} for e in sorted(state.results.values(), key=lambda e: e["id"])]
    meta = {"run_id": state.run_id, "target": state.target.name, "suite_version": __version__,
            "git_commit": state.git_commit, "config_digest": config_digest(state.target),
            "ran_by": run_by(), "partial": state.partial, **signing.meta(config)}
    write_json(state.run_dir / "record.json", {
        **meta, "started_utc": state.started, "finished_utc": _now(),
        "verdict": gate.line if gate else "GATE: NOT RUN" + (f" ({state.not_run})" if state.not_run else ""),
        "exit_code": gate.exit_code if gate else None, "interrupted_by": state.interrupted_by or None,
        "reachability": state.session.reach.facts(),
        "counts": gate.counts if gate else {}, **record_fields(state), "severity_overrides": state.target.severity,
        "waivers": [w.describe() for w in state.waivers],
        "expired_waivers": [w.describe() for w in state.expired_waivers],
        "changes": state.changes_since_previous(),
        "mongo_commands": {"allow_blocking_commands": state.target.allow_blocking_commands,
                           **merge_facts([state.session.commands.facts(), *state.worker_commands])},
        "probes": probe_record(state),
        "tests": tests,
    })
    for scratch in state.run_dir.glob(".collected-*.json"):
        scratch.unlink()
    mark_junit_errors(state.run_dir / "junit.xml", [t["id"] for t in tests if t.get("outcome") == "error"])
    redact_tree(state.run_dir, state.target.secrets)
    write_manifest(state.run_dir, meta)
    signing.sign(config, state.run_dir)
    write_index(state.run_dir.parent)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
