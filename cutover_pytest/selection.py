"""What a gate run collects: the bundled checks, a team's extra checks, or the user's narrower choice.

- ``pytest --target NAME``: every bundled check (``cutover_pytest/checks``), plus the files or directories
  given with ``--checks PATH`` (a team's own checks). Nothing of the working directory is collected.
- ``pytest --target NAME PATH[::NAME] ...``: exactly these; a path that does not exist here but names a bundled
  module (``test_files.py``, ``test_rest.py::test_health``) means that module. The run is narrowed: it cannot
  pass the gate without ``--partial``.

The rootdir of a gate run is the package's parent directory, or the common ancestor of it and every path of
a team's checks: pytest reads node ids relative to the rootdir, and a file outside it would get a wrong one.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
BUNDLED = PACKAGE / "checks"
ROOT = PACKAGE.parent          # node ids read cutover_pytest/checks/test_data.py::test_row_count[GameScore]


@dataclass(frozen=True)
class Selection:
    args: tuple[str, ...]      # what pytest collects: paths, with ::names where given
    narrowed: bool             # the bundled catalogue is not selected as a whole


def select(positionals: list[str], extra: list[str], invocation_dir: Path) -> Selection:
    """The selection for the user's positional arguments and ``--checks`` paths."""
    if not positionals:
        return Selection((str(BUNDLED), *extra), narrowed=False)
    args = tuple(_bundled_name(arg, invocation_dir) for arg in positionals)
    return Selection(args, narrowed=not any(_path(a, invocation_dir) == BUNDLED for a in args))


def plans_data(args: list[str]) -> bool:
    """Whether these selected paths hold the bundled data checks (DB-01, DB-02), which parametrize over the plan."""
    data = BUNDLED / "test_data.py"
    return any(Path(arg.partition("::")[0]).resolve() in (BUNDLED, data) for arg in args)


def missing(positionals: list[str], extra: list[str], invocation_dir: Path) -> list[str]:
    """The paths given that name nothing: a ``--checks`` path that does not exist, a positional path that exists
    neither here nor as a bundled module."""
    found = [f"--checks {p}: no such file or directory" for p in extra if not _path(p, invocation_dir).exists()]
    for arg in positionals:
        text = arg.partition("::")[0]
        if not _path(text, invocation_dir).exists() and not (BUNDLED / text).exists():
            modules = ", ".join(sorted(p.name for p in BUNDLED.glob("test_*.py")))
            found.append(f"{arg}: no such file or directory here, nor a bundled module ({modules})")
    return found


def rootdir(positionals: list[str], extra: list[str], invocation_dir: Path) -> Path:
    """``ROOT``, or the common ancestor of it and every path a team gave that exists outside it."""
    paths = [_path(a, invocation_dir) for a in [*positionals, *extra]]
    return Path(os.path.commonpath([ROOT, *(p for p in paths if p.exists())]))


def _bundled_name(arg: str, invocation_dir: Path) -> str:
    text, sep, names = arg.partition("::")
    if not _path(text, invocation_dir).exists() and (BUNDLED / text).exists():
        return str(BUNDLED / text) + sep + names
    return arg


def _path(arg: str, invocation_dir: Path) -> Path:
    return (invocation_dir / arg.partition("::")[0]).resolve()
