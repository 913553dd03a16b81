"""Fail fast on a dead component: the preflight before any check, and the breaker while checks run.

The controller probes every component of the target at configure (:mod:`cutover.reach.preflight`: one attempt
each, all at once, one timeout). Refused credentials stop the run there (exit 4, one line). A component that
does not answer is tripped in the session's breaker, which shares its findings with every process of the
run through the scratch directory. From then on each check (or parametrization) that asks for a dead
component ERRORs at once with the recorded cause; a transport failure met by a check trips its component
for every later check. The preflight and every component found dead go into record.json
(``reachability``).
"""
from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from cutover.errors import ConfigError
from cutover.reach.breaker import FILE_STORE, PARSE, SOURCE_DB, SOURCE_PARSE, TARGET_DB
from cutover.reach.preflight import run_preflight
from cutover_pytest.scratch import scratch_dir
from cutover_pytest.state import get_state

FIXTURE_COMPONENTS = {"source_db": SOURCE_DB, "target_db": TARGET_DB, "s3": FILE_STORE, "parse": PARSE,
                      "source_parse": SOURCE_PARSE}


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    state = get_state(config)
    if state is None:
        return
    scratch = scratch_dir(config)
    if scratch is not None:
        state.session.reach.share(scratch / "dead")
    if hasattr(config, "workerinput"):
        return  # the controller ran the preflight; its findings are in the shared directory
    try:
        run_preflight(state.target, state.session.reach)
    except ConfigError as exc:
        state.not_run = "configuration error"
        raise pytest.UsageError(state.redact(str(exc))) from None


def pytest_report_header(config: pytest.Config) -> str | None:
    state = get_state(config)
    preflight = state.session.reach.preflight if state is not None else None
    return state.redact(preflight.summary()) if state is not None and preflight is not None else None


def require_reachable(item: pytest.Item) -> None:
    """At setup (after the read-only skip): ERROR at once when a component the check's fixtures name is dead."""
    state = get_state(item.config)
    if state is None or item.get_closest_marker("criterion") is None:
        return
    reach = state.session.reach
    reach.begin()
    used = getattr(item, "fixturenames", ())
    reach.require(*(component for name, component in FIXTURE_COMPONENTS.items() if name in used))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    report = yield
    state = get_state(item.config)
    if state is not None and call.excinfo is not None and item.get_closest_marker("criterion") is not None:
        label = dict(item.user_properties).get("label", item.name)
        state.session.reach.note(call.excinfo.value, origin=str(label))
    return report
