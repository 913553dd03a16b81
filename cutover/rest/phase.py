"""One process's share of a run's probe phase: every probe run it opened, and what the run began with.

:class:`cutover.session.Session` holds one :class:`ProbePhase` (``session.probes``); ``Session.close()``
calls :meth:`ProbePhase.close`, which removes every probe still outstanding in this process, however the
run ends (a failed check, an interrupt that reaches ``close()``). The sweep and the classes that existed
before the first probe (the baseline for side effects) are set once per run by the plugin, in the process
that starts the run, and handed to xdist workers.
"""
from __future__ import annotations

from typing import Any

from cutover.errors import CutoverError
from cutover.rest.client import ParseClient
from cutover.rest.probes import Cleanup, ProbeRun, drop_if_empty, merge, new_run_id
from cutover.rest.side_effects import SideEffect, SideEffectWatch
from cutover.rest.sweep import Sweep


class ProbePhase:
    """Opens probe runs and remembers them until they are cleaned up."""

    def __init__(self, probe_class: str, side_effects: str = "undo", run_id: str = "") -> None:
        self.probe_class, self.side_effects = probe_class, side_effects
        self.run_id = run_id or new_run_id()
        self.baseline: frozenset[str] | None = None   # classes before the run's first probe
        self.sweep: Sweep | None = None               # what the run's start found and removed
        self.runs: list[ProbeRun] = []
        self.side_effects_seen: set[SideEffect] = set()   # each side effect is listed once per process
        # One of several processes writing probes at once (an xdist worker): its runs never drop a class,
        # since Parse's DELETE /schemas checks emptiness and drops in two steps, racing the others' writes;
        # the process that started the run drops them when every worker is done (:meth:`drop_classes`).
        self.shared = False
        self.final: Cleanup | None = None             # those drops, in the process that started the run

    def open(self, client: ParseClient, db: Any = None, foreign: frozenset[str] = frozenset()) -> ProbeRun:
        """A probe run; with a database, its cleanup also settles side effects (``foreign``: the source's
        classes, never taken for classes the probes created)."""
        watch = None
        if db is not None:
            watch = SideEffectWatch(client, db, self.probe_class, self.baseline, self.side_effects, foreign,
                                    self.side_effects_seen, drop_classes=not self.shared)
        run = ProbeRun(client, self.probe_class, self.run_id, watch, drop_class=not self.shared)
        self.runs = [*self.outstanding(), run]
        return run

    def outstanding(self) -> list[ProbeRun]:
        return [run for run in self.runs if not run.done]

    def close(self) -> Cleanup:
        """Remove every outstanding probe of this process (safe to call twice, or while a cleanup runs)."""
        runs, self.runs = self.outstanding(), []
        return merge(*(_cleanup(run) for run in runs))


def drop_classes(client: ParseClient, classes: list[str]) -> Cleanup:
    """Drop each of these classes that is empty (the probe class and the classes probes made the app's
    triggers create), once the workers of a distributed run are done writing."""
    try:
        return merge(*(drop_if_empty(client, cls) for cls in classes))
    except CutoverError as exc:
        return Cleanup(0, (f"dropping {', '.join(classes)}: {exc}",))


def _cleanup(run: ProbeRun) -> Cleanup:
    try:
        return run.cleanup()
    except CutoverError as exc:   # the server went away: the next run's sweep removes what is left
        run.done = True
        return Cleanup(0, (f"probes of run {run.run_id}: {exc}",))
