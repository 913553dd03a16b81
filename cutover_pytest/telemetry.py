"""The run's health window (DB-06): sampled once per run, started at collection, read by the checks last.

Checks marked ``@pytest.mark.telemetry`` receive the finished window through the ``health_window`` fixture.
At collection, the first process of the run that collects such a check (the only process, or one
pytest-xdist worker: a claim file in the run directory decides) starts a :class:`cutover.data.telemetry.Sampler`
on its target client, and the marked checks move to the end of the run: the window overlaps the other
checks, and the marked checks wait only for what is left of it. The sampler stops with the session (it is
closed before the process reports its end, and by ``Session.close()`` on every other way out); the
controller removes the scratch files before the run is archived.
"""
from __future__ import annotations

import contextlib

import pytest

from cutover.data.health_series import usable
from cutover.data.telemetry import Sampler, Window, claim, read_window
from cutover.errors import CouldNotVerify
from cutover.reach.breaker import TARGET_DB
from cutover_pytest.state import RunState, get_state

WINDOW_FILE = ".health-window.json"
CLAIM_FILE = ".health-window.claim"
_SAMPLER = pytest.StashKey[Sampler]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "telemetry: the check reads the run's health window (DB-06), "
                                       "sampled once per run while the other checks run")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    marked = [item for item in items if item.get_closest_marker("telemetry")]
    state = get_state(config)
    if not marked or state is None:
        return
    items[:] = [item for item in items if not item.get_closest_marker("telemetry")] + marked
    if not config.option.collectonly and claim(state.run_dir / CLAIM_FILE):
        with contextlib.suppress(CouldNotVerify):  # a dead target database: the checks say so at once
            config.stash[_SAMPLER] = _start(state)


def _start(state: RunState) -> Sampler:
    limits = state.target.thresholds
    client = state.session.target_client
    sampler = Sampler(client, state.run_dir / WINDOW_FILE, limits.health_window_s, limits.health_interval_s).start()
    state.session.keep(sampler)
    return sampler


@pytest.fixture(scope="session")
def health_window(request: pytest.FixtureRequest) -> Window:
    """The run's finished health window; waits for what is left of it (ERROR if it has gaps or never ends)."""
    state = get_state(request.config)
    if state is None:
        raise pytest.UsageError("the checks need a target: pass --target NAME (see targets.toml)")
    state.session.reach.require(TARGET_DB)  # never wait out a window nobody samples
    limits = state.target.thresholds
    wait = limits.health_window_s + limits.health_interval_s + 4 * limits.timeout_s + 10
    return usable(read_window(state.run_dir / WINDOW_FILE, wait))


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Stop this process's sampler before an xdist worker reports its end to the controller."""
    sampler = session.config.stash.get(_SAMPLER, None)
    if sampler is not None:
        sampler.close()


@pytest.hookimpl(tryfirst=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    state = get_state(config)
    if state is None or hasattr(config, "workerinput"):
        return
    for scratch in (WINDOW_FILE, CLAIM_FILE):
        with contextlib.suppress(FileNotFoundError):
            (state.run_dir / scratch).unlink()
