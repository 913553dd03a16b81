"""The one place that orders a gate run's collection: every step that labels, drops or moves checks, in sequence.

Each collecting process (the only one, or each pytest-xdist worker: xdist's controller collects nothing) runs one
``pytest_collection_modifyitems``, a wrapper around pytest's own selection, whose steps are, in this order:

1. labels: each check's criterion, severity and label (before the selection: ``-k DB-01`` selects a criterion's
   checks by its label);
2. pytest's own selection: ``--deselect``, ``-k``, ``-m`` (the hook's other implementations);
3. shard: keep shard K's checks of what the user selected (every shard plans the same selection, so shards on
   different machines agree);
4. resume: drop the checks an earlier run decided (after the shard plan, which covers the whole selection);
5. health window: the checks that read it last, its sampler started;
6. waivers: in the controller (it collects without xdist), a waiver that matches no labeled check stops the run
   (under xdist the controller checks each worker's labels as they arrive);
7. live prefetch: in the process that runs every check (the controller without xdist), under a live sync, the data
   checks' facts are started and DB-01's checks moved last.

Each step is a plain function or a method of what it belongs to (:class:`cutover_pytest.sharding.Sharding`,
:class:`cutover_pytest.resuming.Resuming`, :class:`cutover_pytest.health_window.HealthWindow`); none reaches into
another plugin's state. Outside a gate run only :mod:`cutover_pytest.plugin` looks at collection: it refuses checks.
"""
from __future__ import annotations

from collections.abc import Generator

import pytest

from cutover_pytest import live_prefetch
from cutover_pytest.checking import label_checks, refuse_stale_waivers
from cutover_pytest.health_window import HealthWindow
from cutover_pytest.resuming import Resuming
from cutover_pytest.run_state import RunState
from cutover_pytest.sharding import Sharding


class CollectionOrder:
    """The collection steps of one process; ``controller``: this process collects only without xdist, and then
    runs every check."""

    def __init__(self, state: RunState, window: HealthWindow, *, shard: Sharding | None = None,
                 resume: Resuming | None = None, controller: bool = False) -> None:
        self.state, self.window, self.shard, self.resume, self.controller = state, window, shard, resume, controller

    @pytest.hookimpl(wrapper=True)
    def pytest_collection_modifyitems(self, config: pytest.Config,
                                      items: list[pytest.Item]) -> Generator[None, None, None]:
        label_checks(items, self.state)
        yield   # pytest's own selection: --deselect, -k, -m
        if self.shard is not None:
            self.shard.keep(items)
        if self.resume is not None:
            self.resume.drop(items)
        collect_only = bool(config.option.collectonly)
        self.window.last(items, collect_only)
        if self.controller:
            refuse_stale_waivers(self.state, self.state.collection.labeled)
            if items and not collect_only:
                live_prefetch.start(self.state.session, items)
