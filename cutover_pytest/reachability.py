"""Fail fast on a dead component: the preflight before any check, and the breaker while checks run.

The controller pings every component of the target at configure (:mod:`cutover.reach.preflight`: one attempt
each, all at once, one timeout). Refused credentials stop the run there (exit 4, one line). A component that
does not answer is tripped in the session's breaker, which shares its findings with every process of the
run through the scratch directory. From then on each check (or parametrization) that asks for a dead
component ERRORs at once with the recorded cause; a transport failure met by a check trips its component
for every later check (:class:`cutover_pytest.checking.Checks`). The preflight and every component found
dead go into record.json (``reachability``). The preflight also says, before any check, which criteria the
database users' missing rights leave unverified (a warning line each; ``reachability.preflight.privileges``).
"""
from __future__ import annotations

from typing import Any

import pytest

from cutover.errors import ConfigError
from cutover.reach import FILE_STORE, GRIDFS_DB, PARSE, SOURCE_DB, SOURCE_PARSE, TARGET_DB, Breaker, run_preflight
from cutover_pytest.run_state import RunState

FIXTURE_COMPONENTS = {"source_db": SOURCE_DB, "target_db": TARGET_DB, "s3": FILE_STORE, "parse": PARSE,
                      "source_parse": SOURCE_PARSE}
DEAD = "dead"    # the breaker's directory in the run's scratch directory


def share(state: RunState) -> None:
    """Let the breaker of this process see and tell what every other process of the run found dead."""
    state.session.reach.share(state.scratch / DEAD)


def preflight(state: RunState) -> None:
    """Ping every component now; refused credentials are a usage error (one line, exit 4)."""
    try:
        run_preflight(state.target, state.session.reach, _listeners(state))
    except ConfigError as exc:
        raise pytest.UsageError(state.redact(str(exc))) from None


def _listeners(state: RunState) -> dict[str, Any]:
    """The run's command log counts what the preflight sends to each database, as it counts the checks'."""
    log = state.session.commands
    return {SOURCE_DB: log.listener("source"), TARGET_DB: log.listener("target"), GRIDFS_DB: log.listener("gridfs")}


def header(state: RunState) -> list[str] | None:
    """The preflight's line, then one warning line per database user lacking a right the suite needs."""
    preflight_done = state.session.reach.preflight
    if preflight_done is None:
        return None
    return [state.redact(line) for line in (preflight_done.summary(), *preflight_done.rights_lines())]


def require_reachable(reach: Breaker, item: pytest.Item) -> None:
    """At setup (after the read-only skip): ERROR at once when a component the check's fixtures name is dead."""
    reach.begin()
    used = getattr(item, "fixturenames", ())
    reach.require(*(component for name, component in FIXTURE_COMPONENTS.items() if name in used))
