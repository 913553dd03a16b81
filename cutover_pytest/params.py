"""Parametrizing checks over what the target holds, with readable ids and honest failure modes."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import pytest

from cutover.errors import CouldNotVerify, as_could_not_verify
from cutover_pytest.state import get_state


@dataclass(frozen=True)
class Unverifiable:
    """Stands in for the values of a parametrization whose facts could not be fetched."""

    message: str


def parametrize(metafunc: pytest.Metafunc, argname: str,
                producer: Callable[[Any], Iterable[tuple[str, Any]]]) -> None:
    """Parametrize ``argname`` with ``producer(session)`` -> (id, value) pairs, when the test asks for it."""
    if argname not in metafunc.fixturenames:
        return
    state = get_state(metafunc.config)
    if state is None:
        metafunc.parametrize(argname, [pytest.param(None, id="no-target")])
        return
    state.session.reach.begin()
    try:
        pairs = list(producer(state.session))
    except Exception as exc:
        unverified = as_could_not_verify(exc)
        if unverified is None:
            raise
        state.session.reach.note(exc, origin=f"the listing of {argname}")
        pairs = [("unverifiable", Unverifiable(state.redact(f"could not list {argname}: {unverified}")))]
    if not pairs:
        pairs = [("none", Unverifiable(""))]
    metafunc.parametrize(argname, [pytest.param(value, id=ident) for ident, value in pairs], scope="function")


def guard_unverifiable(item: pytest.Item) -> None:
    """Called at setup: turn a placeholder parameter into an ERROR (could not verify) or a SKIP (nothing)."""
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return
    for name, value in callspec.params.items():
        if isinstance(value, Unverifiable):
            if not value.message:
                pytest.skip(f"nothing to check: no {name} on this target")
            raise CouldNotVerify(value.message)
