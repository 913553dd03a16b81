"""A pytest plugin for the signal tests (``-p tests.close_spy``): every ``Session.close()`` appends the pid of
the process that ran it to the file named by $CUTOVER_CLOSE_SPY. pytest-xdist workers load it too."""
from __future__ import annotations

import os

from cutover.session import Session

_close = Session.close


def _recorded_close(self: Session) -> None:
    with open(os.environ["CUTOVER_CLOSE_SPY"], "a", encoding="utf-8") as spy:
        spy.write(f"{os.getpid()}\n")
    _close(self)


Session.close = _recorded_close  # type: ignore[method-assign]
