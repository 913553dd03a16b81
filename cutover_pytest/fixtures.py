"""The fixtures a check may use: the target, its lazily opened clients, and ways to attach facts."""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from cutover.data import GuardedDatabase, Window
from cutover.model import Target
from cutover.rest import ParseClient
from cutover.session import Session
from cutover_pytest import report_data
from cutover_pytest.health_window import finished_window
from cutover_pytest.run_state import RunState, get_state

if TYPE_CHECKING:
    from cutover.session import S3Client


def _state(request: pytest.FixtureRequest) -> RunState:
    state = get_state(request.config)
    if state is None:
        raise pytest.UsageError("the checks need a target: pass --target NAME (see targets.toml)")
    return state


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest) -> Target:
    """The validated target of this run."""
    return _state(request).target


@pytest.fixture(scope="session")
def session(request: pytest.FixtureRequest) -> Session:
    """Lazily opened clients of the target (one per process, closed at the end of the run)."""
    return _state(request).session


@pytest.fixture(scope="session")
def source_db(session: Session) -> GuardedDatabase | None:
    return session.source_db


@pytest.fixture(scope="session")
def target_db(session: Session) -> GuardedDatabase:
    return session.target_db


@pytest.fixture(scope="session")
def s3(session: Session) -> S3Client | None:
    return session.s3


@pytest.fixture(scope="session")
def parse(session: Session) -> ParseClient | None:
    return session.parse


@pytest.fixture(scope="session")
def source_parse(session: Session) -> ParseClient | None:
    return session.source_parse


@pytest.fixture
def report_table(request: pytest.FixtureRequest) -> Callable[[str, list[str], list[list[Any]]], None]:
    """Attach a table (title, headers, rows) to this test in the HTML report and the JSON record."""

    def attach(title: str, headers: list[str], rows: list[list[Any]]) -> None:   # its name shows in tracebacks
        table = {"title": title, "headers": list(headers), "rows": [list(r) for r in rows]}
        report_data.attach(request.node, report_data.TABLE, table)

    return attach


@pytest.fixture
def record_facts(request: pytest.FixtureRequest) -> Callable[..., None]:
    """Attach JSON-serializable facts to this test in the JSON record."""

    def attach(**facts: Any) -> None:
        report_data.attach(request.node, report_data.FACTS, facts)

    return attach


@pytest.fixture
def report_series(request: pytest.FixtureRequest) -> Callable[[dict[str, Any]], None]:
    """Attach a sampled series (``cutover.data.health_series.Series.chart()``): a small chart beside the verdict in
    the HTML report, its points in the JSON record."""

    def attach(series: dict[str, Any]) -> None:
        report_data.attach(request.node, report_data.SERIES, series)

    return attach


@pytest.fixture(scope="session")
def health_window(request: pytest.FixtureRequest) -> Window:
    """The run's finished health window (DB-06); waits for what is left of it (ERROR if it has gaps or never
    ends): :mod:`cutover_pytest.health_window`."""
    return finished_window(_state(request))
