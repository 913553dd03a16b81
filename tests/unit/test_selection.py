"""What a gate run collects, and its rootdir, from the user's positional arguments and --checks paths."""
from __future__ import annotations

from pathlib import Path

from cutover_pytest.selection import BUNDLED, ROOT, Selection, rootdir, select


def test_no_paths_is_the_whole_catalogue_plus_the_teams_checks(tmp_path: Path) -> None:
    assert select([], [], tmp_path) == Selection((str(BUNDLED),), narrowed=False)
    assert select([], ["team/"], tmp_path) == Selection((str(BUNDLED), "team/"), narrowed=False)


def test_paths_narrow_the_run(tmp_path: Path) -> None:
    (tmp_path / "test_team.py").write_text("")
    assert select(["test_team.py"], ["ignored.py"], tmp_path) == Selection(("test_team.py",), narrowed=True)
    assert select([str(BUNDLED)], [], tmp_path).narrowed is False


def test_a_bundled_module_may_be_named_alone_unless_a_local_file_has_that_name(tmp_path: Path) -> None:
    found = select(["test_rest.py::test_health", "test_files.py"], [], tmp_path)
    assert found.args == (f"{BUNDLED / 'test_rest.py'}::test_health", str(BUNDLED / "test_files.py"))
    assert found.narrowed
    (tmp_path / "test_files.py").write_text("")
    assert select(["test_files.py"], [], tmp_path).args == ("test_files.py",)


def test_a_name_that_is_nowhere_is_left_to_pytest_to_refuse(tmp_path: Path) -> None:
    assert select(["nope.py"], [], tmp_path).args == ("nope.py",)


def test_the_rootdir_covers_the_package_and_every_team_path(tmp_path: Path) -> None:
    assert rootdir([], [], tmp_path) == ROOT
    assert rootdir(["test_data.py", "missing.py"], [], tmp_path) == ROOT    # bundled name, nothing on disk
    team = tmp_path / "team"
    team.mkdir()
    root = rootdir([], ["team"], tmp_path)
    assert ROOT.is_relative_to(root) and team.is_relative_to(root)
    assert ROOT.relative_to(root).parts[:1] != team.relative_to(root).parts[:1]   # the deepest such directory
