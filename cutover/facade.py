"""The base of every area's facade (``session.data``, ``session.files``, ``session.rest`` ...).

A facade holds the session it asks for clients and for other areas' facts, the session's target, and the
:class:`cutover.memo.Memo` of what it computed: every fact a facade remembers lives there, put there by its own
``@memoized`` methods, never by another module. What a check computes for itself goes in ``session.memo``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from cutover.memo import Memo

if TYPE_CHECKING:
    from cutover.session import Session


class Facade:
    """An area's facade over one session: ``session``, ``target`` and its own ``memo``."""

    def __init__(self, session: Session) -> None:
        self.session, self.target = session, session.target
        self.memo = Memo()
