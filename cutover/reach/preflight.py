"""The preflight: one attempt to reach every component of a target, all at once, before any check runs.

Each component (:func:`cutover.reach.breaker.components`) gets one ping in its own thread, without retries, and all
of them end by their own timeouts (``timeout_s`` to connect, then to answer): a black-holed deployment costs
one timeout, not one per check. A ping only asks whether the component answers at all;
what it answers is the checks' business (a 500 from ``/health`` is API-01's finding, an expired certificate
TLS-02's). The pings themselves are in :mod:`cutover.reach.pings`.

Each MongoDB that answers is also asked which rights the user of its URI holds (:mod:`cutover.reach.user_rights`):
a missing right is a warning line naming the criteria it leaves unverified (their checks then ERROR as "could
not verify" when they meet it), never a reason to stop: the run still verifies and archives everything else.

A refused authentication (a database password, an S3 key) is a configuration error, not a finding:
:class:`cutover.errors.ConfigError`, one line naming the component, the user and the auth source, never
the password. Everything else that is not a timeout or a refused connection counts as an answer.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cutover.errors import ConfigError, CouldNotVerify, TargetTimeout
from cutover.model import Target
from cutover.reach.breaker import Breaker, Component, Dead
from cutover.reach.pings import AuthFailed, ping_for, warm_up
from cutover.security import RightsCheck

GRACE_S = 2.0


@dataclass(frozen=True)
class Reachability:
    component: str
    location: str
    reachable: bool
    seconds: float
    cause: str = ""
    timeout: bool = False
    rights: RightsCheck | None = None      # a MongoDB's: what its user may do


@dataclass(frozen=True)
class Preflight:
    results: tuple[Reachability, ...]
    seconds: float

    @property
    def dead(self) -> list[Reachability]:
        return [r for r in self.results if not r.reachable]

    def facts(self) -> dict[str, Any]:
        return {"seconds": self.seconds, "components": {
            r.component: {"location": r.location, "reachable": r.reachable, "cause": r.cause,
                          "seconds": r.seconds} for r in self.results},
                "privileges": {r.component: r.rights.facts() for r in self.results if r.rights is not None}}

    def rights_lines(self) -> list[str]:
        """One warning line per database user that lacks a right the suite needs."""
        return [line for r in self.results if r.rights is not None and (line := r.rights.line())]

    def summary(self) -> str:
        """One line for the terminal header."""
        if not self.dead:
            return f"cutover preflight: {len(self.results)} components answered in {self.seconds:.1f} s"
        return (f"cutover preflight: {len(self.dead)} of {len(self.results)} components do not answer: "
                + "; ".join(r.cause for r in self.dead))


def run_preflight(target: Target, breaker: Breaker, listeners: Mapping[str, Any] | None = None) -> Preflight:
    """Ping every component of ``breaker`` at once; trip the dead ones. ConfigError on refused credentials.
    ``listeners`` (component name -> pymongo command listener) count what the MongoDB pings send."""
    pings = [(c, ping_for(target, c, listeners)) for c in breaker.components.values()]
    result = ping_all(pings, target.thresholds.timeout_s)
    breaker.preflight = result
    for r in result.dead:
        breaker.trip(Dead(r.component, r.cause, r.timeout, "the preflight"))
    return result


def ping_all(pings: list[tuple[Component, Callable[[float], RightsCheck | None]]], timeout_s: float) -> Preflight:
    warm_up()
    started = time.monotonic()
    slots: dict[str, Reachability | BaseException] = {}
    threads = [threading.Thread(target=_run, args=(c, ping, timeout_s, slots), daemon=True,
                                name=f"preflight {c.name}") for c, ping in pings]
    for thread in threads:
        thread.start()
    # Each ping ends by its own timeouts (connect, then read: 2 x timeout_s at worst; a black hole: one).
    # The deadline only catches what has none (a hung DNS lookup): a busy machine is never taken for a dead one.
    deadline = started + 2 * timeout_s + GRACE_S
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    refused = [str(v) for v in slots.values() if isinstance(v, AuthFailed)]
    if refused:
        raise ConfigError("; ".join(sorted(refused)))
    results = tuple(_outcome(c, slots.get(c.name), timeout_s) for c, _ in pings)
    return Preflight(results, round(time.monotonic() - started, 2))


def _run(component: Component, ping: Callable[[float], RightsCheck | None], timeout_s: float,
         slots: dict[str, Reachability | BaseException]) -> None:
    started = time.monotonic()
    try:
        rights = ping(timeout_s)
    except AuthFailed as exc:
        slots[component.name] = exc
        return
    except CouldNotVerify as exc:
        slots[component.name] = _dead(component, _seconds(started), str(exc), isinstance(exc, TargetTimeout))
        return
    except Exception as exc:  # an answer we do not judge here: the checks will
        slots[component.name] = Reachability(component.name, component.location, True,
                                             _seconds(started), f"answered: {type(exc).__name__}")
        return
    slots[component.name] = Reachability(component.name, component.location, True, _seconds(started), rights=rights)


def _outcome(component: Component, slot: Reachability | BaseException | None, timeout_s: float) -> Reachability:
    if isinstance(slot, Reachability):
        return slot
    return _dead(component, 2 * timeout_s + GRACE_S, f"did not answer in time (nothing within {timeout_s:g} s)",
                 True)


def _dead(component: Component, seconds: float, text: str, timeout: bool) -> Reachability:
    where = component.location
    label = component.name if where in component.name else f"{component.name} {where}"
    text = text.removeprefix(f"{where}: ")   # transport errors start with the address
    return Reachability(component.name, where, False, seconds, f"{label}: {text}", timeout)


def _seconds(started: float) -> float:
    return round(time.monotonic() - started, 3)
