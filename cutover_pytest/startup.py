"""The one place where the processes of a gate run differ: the controller and its pytest-xdist workers.

The controller (the only process, or xdist's controller) loads and validates the target, starts the sandbox
of a sandbox target, creates the run directory and the private scratch directory, pings every component
(the preflight) and registers :class:`cutover_pytest.controller.Controller`, which owns the verdict and the
archive. A worker builds its part from what the controller hands it (:mod:`cutover_pytest.worker_exchange`) and
registers :class:`Worker`, which hands back what only it knows. Both register the hooks every process needs
around the checks (:class:`cutover_pytest.checking.Checks`), the health window's part
(:class:`cutover_pytest.health_window.HealthWindow`), the one order of collection
(:class:`cutover_pytest.collection_order.CollectionOrder`) and a signal watch. Nothing else asks which process it
is in.
"""
from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cutover.errors import ConfigError, SandboxError
from cutover.model import Target
from cutover.run.config import SandboxSpec, load_target
from cutover.run.run_directory import git_commit, new_run_dir, now
from cutover.run.waivers import Waiver, load_waivers, split_expired
from cutover.session import RunOptions, Session
from cutover_pytest import planning, progress, reachability, resuming, scratch, sharding, signing, usage
from cutover_pytest.archive import archive_interrupted_start
from cutover_pytest.checking import Checks
from cutover_pytest.collection_order import CollectionOrder
from cutover_pytest.controller import Controller
from cutover_pytest.health_window import HealthWindow
from cutover_pytest.run_state import STATE_KEY, RunState
from cutover_pytest.selection import select
from cutover_pytest.signals import Watch
from cutover_pytest.verdict import Scope
from cutover_pytest.worker_exchange import COMMANDS, RUN, WorkerStart, collected_path


def start(config: pytest.Config) -> None:
    """pytest_configure of a gate run: what this process collects, then its part of the run."""
    selection = select(list(config.option.file_or_dir or ()), list(config.getoption("checks")),
                       config.invocation_params.dir)
    config.args = list(selection.args)
    if hasattr(config, "workerinput"):
        _start_worker(config)
    else:
        _start_controller(config, narrowed=selection.narrowed)


# -- the controller ---------------------------------------------------------------------------------------------
def _start_controller(config: pytest.Config, narrowed: bool) -> None:
    watch = Watch.install(config)   # first: a signal during the sandbox start must stop the sandbox too
    name = str(config.getoption("target") or os.environ.get("CUTOVER_TARGET"))
    usage.check(config)   # option values and paths: before anything is read, written or reached
    shard = sharding.shard_of(config)   # a malformed K/N stops the run before anything is written
    loaded, waivers, warnings = _load(config, name)
    resuming.load(config, loaded)   # an earlier run that cannot be resumed stops here, before anything is written
    run_dir = _run_dir(usage.reports_dir(config), name)
    target, sandbox = _materialize(config, loaded, run_dir, watch)
    active, expired = split_expired(waivers, datetime.now(UTC).date())
    shared = scratch.create(config)
    state = RunState(target, Session(target, _options(config, shared)), run_dir.name, run_dir, now(), shared,
                     active, read_only=bool(config.getoption("read_only")))
    scope = Scope(narrowed=narrowed, partial=bool(config.getoption("partial")) or shard is not None,
                  collect_only=bool(config.getoption("collectonly")))
    controller = Controller(config, state, scope, sandbox=sandbox, watch=watch, expired=expired,
                            git_commit=git_commit(Path.cwd()), warnings=warnings)
    if watch is not None:
        watch.sandbox, watch.workers = sandbox, lambda: scratch.worker_pids(state.scratch)
    _register(config, state, controller)
    planning.load(config, state)   # --plan FILE: a plan that does not fit this run stops it here (exit 4)
    progress.register(config)
    config.option.htmlpath = str(run_dir / "report.html")
    config.option.self_contained_html = True
    config.option.xmlpath = str(run_dir / "junit.xml")
    controller.fill_metadata(config)
    try:
        reachability.preflight(state)
    except pytest.UsageError:
        controller.not_run = "configuration error"
        raise


def _load(config: pytest.Config, name: str) -> tuple[Target | SandboxSpec, tuple[Waiver, ...], list[str]]:
    """The named target, its waivers and the warnings about the targets file (literal secrets); one line
    (exit 4) when either file is wrong or an extra is missing."""
    explicit = config.getoption("targets_file") or os.environ.get("CUTOVER_TARGETS_FILE")
    targets_file = Path(explicit or Path.cwd() / "targets.toml")
    warnings: list[str] = []
    try:
        loaded = load_target(targets_file, name, required=bool(explicit), warnings=warnings)
        waivers = _waivers(config, name, loaded)
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None
    signing.load(config)   # a bad signing key stops the run here, before anything is written
    if isinstance(loaded, SandboxSpec):
        _sandbox_class(name)   # a missing 'sandbox' extra stops here, before anything is written
    return loaded, waivers, warnings


def _run_dir(reports_dir: Path, name: str) -> Path:
    try:
        return new_run_dir(reports_dir, name)
    except ConfigError as exc:   # a target name that would lead outside the reports directory
        raise pytest.UsageError(str(exc)) from None
    except OSError as exc:   # not writable, or a file in the way created since the usage check
        raise pytest.UsageError(f"--reports-dir {reports_dir}: cannot create the run directory "
                                f"({exc.strerror or exc})") from None


def _waivers(config: pytest.Config, name: str, loaded: Target | SandboxSpec) -> tuple[Waiver, ...]:
    explicit = config.getoption("waivers") or os.environ.get("CUTOVER_WAIVERS")
    path = Path(explicit) if explicit else Path.cwd() / "waivers.toml"
    if not explicit and not path.exists():
        return ()
    overrides = loaded.severity if isinstance(loaded, Target) else {}
    return load_waivers(path, name, overrides)


def _materialize(config: pytest.Config, loaded: Target | SandboxSpec, run_dir: Path,
                 watch: Watch | None) -> tuple[Target, Any]:
    """The target itself, or the sandbox's: started (its logs in <run dir>/logs, installs in the user's cache)."""
    if isinstance(loaded, Target):
        return loaded, None
    sandbox = _sandbox_class(loaded.name)(run_dir, scale=config.getoption("scale") or loaded.scale,
                                          files_store=loaded.files_store,
                                          source_parse_server=loaded.source_parse_server, classes=loaded.classes)
    try:
        target = sandbox.start_target(loaded.name, production=loaded.production, live=loaded.live,
                                      source_kind=loaded.source_kind)
    except SandboxError as exc:
        sandbox.stop()
        raise pytest.UsageError(f"the sandbox could not start: {exc}") from None
    except KeyboardInterrupt:  # a signal during the start (the sandbox stopped itself): archived as such
        by = watch.received if watch is not None and watch.received else "KeyboardInterrupt"
        archive_interrupted_start(run_dir, loaded.name, by, sandbox.keys.values(), signing.signer(config))
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


# -- a worker -----------------------------------------------------------------------------------------------
class Worker:
    """A pytest-xdist worker's part: it tells the controller what it collected and what it sent."""

    def __init__(self, config: pytest.Config, state: RunState) -> None:
        self.config, self.state = config, state

    @pytest.hookimpl(tryfirst=True)   # before xdist's own hook tells the controller collection is done
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.state.collection.add_collected(session.items)
        self.state.collection.write(collected_path(self.state.scratch, self.config.workerinput["workerid"]))  # type: ignore[attr-defined]

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self.config.workeroutput[COMMANDS] = self.state.session.commands.facts()  # type: ignore[attr-defined]

    @pytest.hookimpl(trylast=True)
    def pytest_unconfigure(self, config: pytest.Config) -> None:
        self.state.session.close()


def _start_worker(config: pytest.Config) -> None:
    packed = config.workerinput.get(RUN)  # type: ignore[attr-defined]
    if not packed:
        return
    Watch.install(config)
    given = WorkerStart.unpack(packed)
    target = given.target
    shared = scratch.join(given.scratch)
    state = RunState(target, Session(target, _options(config, shared)), given.run_id, given.run_dir,
                     given.started, shared, given.waivers,
                     read_only=bool(config.getoption("read_only")))
    state.session.probes.shared = True   # only the controller drops the probe class, once every worker is done
    if given.baseline is not None:
        state.session.probes.baseline = given.baseline
    planning.register_worker(config, state, given.plan_file)
    _register(config, state, Worker(config, state))


# -- both -------------------------------------------------------------------------------------------------------
def _register(config: pytest.Config, state: RunState, role: Controller | Worker) -> None:
    config.stash[STATE_KEY] = state
    reachability.share(state)   # the controller's preflight findings reach the workers through it
    config.pluginmanager.register(role, f"cutover-{type(role).__name__.lower()}")
    config.pluginmanager.register(Checks(state), "cutover-checks")
    window = HealthWindow(state)
    config.pluginmanager.register(window, "cutover-health-window")   # its sampler stops with the session
    order = CollectionOrder(state, window, shard=sharding.register(config, state),
                            resume=resuming.resuming(config, state), controller=isinstance(role, Controller))
    config.pluginmanager.register(order, "cutover-collection-order")


def _options(config: pytest.Config, shared_dir: Path) -> RunOptions:
    return RunOptions(sample=int(config.getoption("sample") or 0),
                      workers=int(os.environ.get("PYTEST_XDIST_WORKER_COUNT") or 1), shared_dir=str(shared_dir))
