"""The one way the library remembers a fact for the rest of a session: a :class:`Memo` per owner.

A facade (``session.data``, ``session.files`` ...) decorates each fact method with :func:`memoized`: the first
call computes it, later calls with the same arguments get the same value. The session keeps its clients the
same way (:class:`cutover.session.Session`). A computation that raises is not remembered: the next call tries
again (a component the breaker then knows dead fails at once). Team checks may keep their own facts in
``session.memo`` (``session.memo.get(("team", "created_at"), compute)``).
"""
from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Hashable
from typing import Concatenate, ParamSpec, Protocol, TypeVar

T = TypeVar("T")
P = ParamSpec("P")


class Memo:
    """Values by key, each computed once (thread-safe: one computation per key at a time)."""

    def __init__(self) -> None:
        self._values: dict[Hashable, object] = {}
        self._locks: dict[Hashable, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        if key in self._values:
            return self._values[key]  # type: ignore[return-value]
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._values:
                self._values[key] = compute()
        return self._values[key]  # type: ignore[return-value]

    def __contains__(self, key: Hashable) -> bool:
        return key in self._values

    def put(self, key: Hashable, value: object) -> None:
        """Remember ``value`` as if computed here (a fact another process computed and handed over)."""
        self._values[key] = value


class HasMemo(Protocol):
    memo: Memo


Owner = TypeVar("Owner", bound=HasMemo)


def memoized(method: Callable[Concatenate[Owner, P], T]) -> Callable[Concatenate[Owner, P], T]:
    """A fact method computed once per owner and arguments (which must be hashable), kept in ``owner.memo``."""
    @functools.wraps(method)
    def remembered(owner: Owner, *args: P.args, **kwargs: P.kwargs) -> T:
        return owner.memo.get(memo_key(method.__name__, *args, **kwargs), lambda: method(owner, *args, **kwargs))
    return remembered


def memo_key(name: str, *args: object, **kwargs: object) -> Hashable:
    """The key under which :func:`memoized` keeps ``name(*args, **kwargs)`` (for :meth:`Memo.put`)."""
    return (name, args, tuple(sorted(kwargs.items())))
