"""Parametrizing checks over what the target holds, with readable ids and honest failure modes.

A producer that yields nothing gives one placeholder test that skips with the reason ``absent(session)`` names:
``not applicable: ...`` when there is nothing of that kind to check (no storage quota declared: the criterion
does not apply), any other text when the check could not run (no files store declared). A producer that
cannot fetch its facts gives one placeholder that ERRORs (could not verify).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import pytest

from cutover.errors import CouldNotVerify, as_could_not_verify
from cutover.run.verification import NOT_APPLICABLE
from cutover_pytest.run_state import get_state

Absent = Callable[[Any], str]

# What each parametrized argument lists, in a release manager's words (messages never show the argument's name).
LISTED = {"cls": "classes", "target_cls": "classes on the target", "unit": "DB-02 partitions",
          "file_field": "File fields", "file_class": "classes holding files", "store": "file stores",
          "query": "declared queries", "quota": "storage quotas", "link": "network links",
          "tls_host": "TLS endpoints", "rest_class": "classes in the Parse schema",
          "closed_class": "classes closed by class-level permissions", "function": "declared Cloud Code functions"}


def listed(argname: str) -> str:
    return LISTED.get(argname, argname.replace("_", " ") + "s")


@dataclass(frozen=True)
class Unverifiable:
    """Stands in for the values of a parametrization whose facts could not be fetched."""

    message: str


@dataclass(frozen=True)
class Nothing:
    """Stands in for the values of a parametrization that found nothing to check; ``reason`` is the skip's."""

    reason: str


def not_applicable(reason: str) -> Absent:
    """An ``absent`` for a parametrization whose emptiness means the criterion does not apply here."""
    return lambda _session: NOT_APPLICABLE + reason


def parametrize(metafunc: pytest.Metafunc, argname: str, producer: Callable[[Any], Iterable[tuple[str, Any]]],
                absent: Absent | None = None) -> None:
    """Parametrize ``argname`` with ``producer(session)`` -> (id, value) pairs, when the test asks for it."""
    if argname not in metafunc.fixturenames:
        return
    state = get_state(metafunc.config)
    if state is None:
        metafunc.parametrize(argname, [pytest.param(None, id="no-target")])
        return
    state.session.reach.begin()
    try:
        pairs: list[tuple[str, Any]] = list(producer(state.session))
        if not pairs:
            reason = (absent or not_applicable(f"no {listed(argname)} on this target"))(state.session)
            pairs = [("none", Nothing(reason))]
    except Exception as exc:
        unverified = as_could_not_verify(exc)
        if unverified is None:
            raise
        state.session.reach.note(exc, origin=f"the listing of the {listed(argname)}")
        message = state.redact(f"could not list the {listed(argname)}: {unverified}")
        pairs = [("unverifiable", Unverifiable(message))]
    metafunc.parametrize(argname, [pytest.param(value, id=ident) for ident, value in pairs], scope="function")


def guard_unverifiable(item: pytest.Item) -> None:
    """Called at setup: turn a placeholder parameter into an ERROR (could not verify) or a SKIP (nothing)."""
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return
    for value in callspec.params.values():
        if isinstance(value, Nothing):
            pytest.skip(value.reason)
        if isinstance(value, Unverifiable):
            raise CouldNotVerify(value.message)
