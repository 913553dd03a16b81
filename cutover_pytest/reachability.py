"""Fail fast on a dead component: the preflight before any check, and the breaker while checks run.

The controller probes every component of the target at configure (:mod:`cutover.reach.preflight`: one attempt
each, all at once, one timeout). Refused credentials stop the run there (exit 4, one line). A component that
does not answer is tripped in the session's breaker, which shares its findings with every process of the
run through the scratch directory. From then on each check (or parametrization) that asks for a dead
component ERRORs at once with the recorded cause; a transport failure met by a check trips its component
for every later check (:class:`cutover_pytest.checking.Checks`). The preflight and every component found
dead go into record.json (``reachability``).
"""
from __future__ import annotations

import pytest

from cutover.errors import ConfigError
from cutover.reach import FILE_STORE, PARSE, SOURCE_DB, SOURCE_PARSE, TARGET_DB, Breaker, run_preflight
from cutover_pytest.state import RunState

FIXTURE_COMPONENTS = {"source_db": SOURCE_DB, "target_db": TARGET_DB, "s3": FILE_STORE, "parse": PARSE,
                      "source_parse": SOURCE_PARSE}
DEAD = "dead"    # the breaker's directory in the run's scratch directory


def share(state: RunState) -> None:
    """Let the breaker of this process see and tell what every other process of the run found dead."""
    state.session.reach.share(state.scratch / DEAD)


def preflight(state: RunState) -> None:
    """Probe every component now; refused credentials are a usage error (one line, exit 4)."""
    try:
        run_preflight(state.target, state.session.reach)
    except ConfigError as exc:
        raise pytest.UsageError(state.redact(str(exc))) from None


def header(state: RunState) -> str | None:
    preflight_done = state.session.reach.preflight
    return state.redact(preflight_done.summary()) if preflight_done is not None else None


def require_reachable(reach: Breaker, item: pytest.Item) -> None:
    """At setup (after the read-only skip): ERROR at once when a component the check's fixtures name is dead."""
    reach.begin()
    used = getattr(item, "fixturenames", ())
    reach.require(*(component for name, component in FIXTURE_COMPONENTS.items() if name in used))
