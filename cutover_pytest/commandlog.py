"""Which MongoDB commands the run sent to each component, for record.json (a DBA's evidence).

Each process counts what its own clients send (cutover.data.commands.CommandLog). A pytest-xdist worker hands
its counts to the controller at the end of its session (``workeroutput``); the controller adds them to its
own when it writes the record. Commands a worker sends after that (``endSessions`` as it closes its
clients) are not in the count.
"""
from __future__ import annotations

from typing import Any

import pytest

from cutover_pytest.state import get_state

WORKER_KEY = "cutover_mongo_commands"


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    state = get_state(session.config)
    if state is not None and hasattr(session.config, "workeroutput"):
        session.config.workeroutput[WORKER_KEY] = state.session.commands.facts()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    state = get_state(node.config)
    sent = getattr(node, "workeroutput", {}).get(WORKER_KEY)
    if state is not None and sent:
        state.worker_commands.append(sent)
