"""A gate run never depends on the working directory's pytest setup.

pytest settles rootdir and inifile (``Config._initini``/``determine_setup``) from the command line before any
plugin is loaded, so ``--targets-file /etc/x.toml`` or ``--reports-dir /srv/reports`` (an option value pytest does
not know yet) is taken there as a path: rootdir and ini move, the project's settings are lost, other tests are
collected. A plugin cannot undo that in the same configuration. So when ``--target`` (or CUTOVER_TARGET) is given,
the plugin runs the gate in a fresh in-process pytest (``pytest.main``) with the suite's own ini (``-c``), rootdir
and no conftest files, passing the user's command line through; the first configuration only launches it.
The inner run is recognised by its ini file (also in pytest-xdist workers, which receive the same arguments).
What it collects is :mod:`cutover_pytest.selection`'s part.
"""
from __future__ import annotations

import os
from typing import Any

import pytest

from cutover_pytest.selection import PACKAGE, rootdir

INI = PACKAGE / "pytest.ini"


def target_named(config: pytest.Config) -> bool:
    namespace = getattr(config, "known_args_namespace", None) or config.option
    return bool(getattr(namespace, "target", None) or os.environ.get("CUTOVER_TARGET"))


def is_gate_run(config: pytest.Config) -> bool:
    """True in the inner run (and its xdist workers): a target is named and the suite's own ini is in force."""
    return config.inipath is not None and config.inipath.resolve() == INI and target_named(config)


def asks_help(config: pytest.Config) -> bool:
    return bool(getattr(getattr(config, "known_args_namespace", config.option), "help", False))


def is_launcher(config: pytest.Config) -> bool:
    """True in the user's own pytest configuration when it names a target: it only launches the gate run
    (``--help`` is pytest's own business: it lists the suite's options already)."""
    return (target_named(config) and not is_gate_run(config) and not hasattr(config, "workerinput")
            and not asks_help(config))


def inner_args(config: pytest.Config) -> list[str]:
    """The user's command line, with the suite's ini and rootdir, and no conftest files, appended last."""
    root = rootdir(list(config.option.file_or_dir or ()), list(config.getoption("checks")),
                   config.invocation_params.dir)
    return [*config.invocation_params.args, "-c", str(INI), "--rootdir", str(root), "--noconftest"]


def launch(config: pytest.Config) -> Any:
    """Run the gate in a fresh pytest configuration; its exit code is this run's."""
    return pytest.main(inner_args(config))
