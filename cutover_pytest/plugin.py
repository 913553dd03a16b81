"""The cutover pytest plugin: ``--target`` runs the checks against a named deployment and archives a report.

Flow: options -> the user's configuration only launches the gate run (:mod:`cutover_pytest.launch`) -> in it,
pytest_configure hands over to :mod:`cutover_pytest.startup`, the one place where the controller and its
xdist workers differ: the controller loads and validates the target (a bad config is a UsageError, exit 4),
starts the sandbox of a sandbox target, points pytest-html and JUnit at the run directory and registers the
controller plugin object (:class:`cutover_pytest.controller.Controller`: records, verdicts, gate, archive);
every process registers the hooks around the checks (:class:`cutover_pytest.checking.Checks`). This module
only declares the options and markers and holds no state.
"""
from __future__ import annotations

from typing import Any

import pytest

from cutover_pytest import health_window, launch, planning, progress, resuming, sharding, signing, startup, usage
from cutover_pytest.checking import criterion_marked

pytest_plugins = ["cutover_pytest.fixtures"]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("cutover", "Parse migration acceptance")
    group.addoption("--target", default=None, help="named target from the targets file (env CUTOVER_TARGET)")
    group.addoption("--targets-file", default=None, help="targets file (default: ./targets.toml)")
    group.addoption("--reports-dir", default=None, help="root of the archived reports (default: ./reports)")
    group.addoption("--sample", type=usage.lenient(int), default=0, metavar="N",
                    help="quick pass: compare N sampled documents per class instead of all (DB-02)")
    group.addoption("--read-only", action="store_true", default=False,
                    help="skip every check that writes probe objects through REST")
    group.addoption("--scale", type=usage.lenient(int), default=0,
                    help="sandbox targets: number of app objects to seed")
    group.addoption("--waivers", default=None,
                    help="waivers file (default: ./waivers.toml when it exists; env CUTOVER_WAIVERS)")
    group.addoption("--checks", action="append", default=[], metavar="PATH",
                    help="a team's own checks (file or directory) to run with the catalogue; repeatable")
    group.addoption("--partial", action="store_true", default=False,
                    help="let a narrowed run (-k, -m, paths, --read-only) pass on the criteria it verified: "
                         "GATE: PARTIAL PASS (n/N criteria)")
    signing.add_option(group)
    sharding.add_option(group)
    planning.add_option(group)
    progress.add_option(group)
    resuming.add_option(group)


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    empty = usage.empty_target(early_config)
    if empty and not launch.asks_help(early_config):   # never the working directory's own tests instead of a gate
        raise pytest.UsageError(empty)
    if launch.is_launcher(early_config):   # this configuration only launches the gate run: import no conftest
        early_config.known_args_namespace.noconftest = True


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> Any:
    return launch.launch(config) if launch.is_launcher(config) else None


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "criterion(id): the acceptance criterion (cutover criteria) a check proves")
    config.addinivalue_line("markers", "writes: the check writes probe objects (skipped with --read-only)")
    config.addinivalue_line("markers", health_window.MARKER)
    config.addinivalue_line("markers", health_window.OLD_MARKER)
    if launch.is_gate_run(config):
        startup.start(config)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Outside a gate run a check is refused (its outcome would count for nothing); a gate run orders its
    collection in one place (:mod:`cutover_pytest.collection_order`)."""
    if launch.is_gate_run(config):
        return
    marked = [criterion_marked(item) for item in items if item.get_closest_marker("criterion") is not None]
    if marked:
        raise pytest.UsageError("the checks need a target: pass --target NAME (targets.toml lists them)")
