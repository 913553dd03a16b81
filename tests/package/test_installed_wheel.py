"""The package as a user installs it, end to end in subprocesses: a wheel built from this checkout, installed
in a fresh virtual environment (no system site packages; dependencies from PyPI or the installer's cache), run
from an unrelated directory that holds its own failing test, conftest.py and pytest.ini and no targets.toml.

One test, in steps, because every step needs the same (expensive) environment and pytest-xdist would build it
once per worker: the wheel carries the checks; without the ``sandbox`` extra ``--target demo`` is one line and
exit 4; with it the whole catalogue runs and passes and the unrelated test does not run; ``cutover criteria``
prints the catalogue and ``cutover init`` a new target's file; every path-option form collects the same checks;
``-x`` with a collection error is NOT RUN.
uv installs (a dev dependency) when it is there: seconds instead of minutes of pip on a busy machine.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from cutover.run.catalogue import render
from cutover.run.criteria import CRITERIA
from cutover.run.init_file import render as render_init
from cutover.sandbox.cache_dir import default_cache_dir

pytestmark = [pytest.mark.slow, pytest.mark.sandbox]
REPO = Path(__file__).resolve().parents[2]
CACHE = default_cache_dir()   # the sandbox's node modules and mongoeco: the per-user cache, shared
# what a build of the working tree must not see: a stale build/lib would put moved modules back in the wheel
NOT_SOURCES = (".git", ".venv", ".cache", "build", "dist", "reports", "*.egg-info", "__pycache__", ".*_cache",
               "node_modules", ".tox", ".hypothesis")
MODULES = sorted(p.name for p in (REPO / "cutover_pytest" / "checks").glob("test_*.py"))
UNREACHABLE = "[targets.t]\nsource = { uri = \"mongodb://127.0.0.1:1/db\" }\n" \
              "database = { uri = \"mongodb://127.0.0.1:1/db\" }\n[targets.t.thresholds]\ntimeout_s = 0.3\n"
APP_TEST = "def test_app():\n    assert False, 'the app test must not run in a gate run'\n"
CONFTEST = "import pathlib\npathlib.Path('conftest-was-imported').write_text('x')\n"
APP_INI = "[pytest]\naddopts = --maxfail=1\ntestpaths = src\npython_files = check_*.py\n"


Done = subprocess.CompletedProcess[str]


def run(argv: list[Any], cwd: Path, env: dict[str, str], timeout: float = 900) -> Done:
    return subprocess.run([str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


def uv() -> str | None:
    return shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")


def build_wheel(out: Path, env: dict[str, str]) -> Path:
    """A wheel of the working tree as it is, built from a clean copy of it."""
    source = out.parent / "source"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(*NOT_SOURCES))
    tool = uv()
    argv = [tool, "build", "--wheel", "-o", out, source] if tool else \
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", out, source]
    done = run(argv, source, env)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    (wheel,) = out.glob("cutover-*.whl")
    return wheel


def make_venv(path: Path, env: dict[str, str]) -> Path:
    tool = uv()
    argv = [tool, "venv", "-q", "--python", sys.executable, path] if tool else [sys.executable, "-m", "venv", path]
    done = run(argv, path.parent, env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "include-system-site-packages = false" in (path / "pyvenv.cfg").read_text()
    return path / "bin"


def install(bin_dir: Path, requirement: str, env: dict[str, str]) -> None:
    tool = uv()
    argv = [tool, "pip", "install", "-q", "--python", bin_dir / "python", requirement] if tool else \
        [bin_dir / "python", "-m", "pip", "install", "-q", "--no-compile", requirement]
    done = run(argv, bin_dir, env)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


def clean_env(bin_dir: Path) -> dict[str, str]:
    """The environment of a user's shell with the venv active: nothing of this checkout or this test run."""
    drop = ("PYTHONPATH", "PYTEST_ADDOPTS", "VIRTUAL_ENV", "PYTEST_XDIST_WORKER", "PYTEST_XDIST_TESTRUNUID")
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith(("CUTOVER_", "PYTEST_"))}
    return {**env, "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", "UV_PYTHON_DOWNLOADS": "never",
            "CUTOVER_CACHE_DIR": str(CACHE)}


def app_dir(root: Path) -> Path:
    """An app repository: its own failing test, a conftest that leaves a mark, its own pytest.ini."""
    app = root / "app"
    app.mkdir()
    (app / "test_app.py").write_text(APP_TEST)
    (app / "conftest.py").write_text(CONFTEST)
    (app / "pytest.ini").write_text(APP_INI)
    (app / ".cache").symlink_to(CACHE, target_is_directory=True)   # the sandbox's one-time installs, shared
    return app


def collected(done: Done) -> list[str]:
    return sorted(line for line in done.stdout.splitlines() if "::" in line)


def test_the_installed_package_end_to_end(tmp_path: Path) -> None:
    env = clean_env(tmp_path / "venv" / "bin")
    wheel = build_wheel(tmp_path / "dist", env)
    names = zipfile.ZipFile(wheel).namelist()
    assert [n for n in names if n.startswith("cutover_pytest/checks/test_")] == \
        [f"cutover_pytest/checks/{m}" for m in MODULES]
    assert {"cutover_pytest/pytest.ini", "cutover_pytest/checks/__init__.py"} <= set(names)
    assert "cutover/sandbox/stack.py" in names and "cutover/sandbox/parse/cloud/main.js" in names
    assert {f"cutover/sandbox/{d}/{f}" for d in ("parse", "parse8") for f in ("package.json", "package-lock.json")} \
        <= set(names), "a pinned parse-server's manifests are missing from the wheel (pyproject package-data)"
    assert {f"cutover/rest/sdk/{n}" for n in ("driver.js", "package.json", "package-lock.json")} <= set(names)
    assert not [n for n in names if n.startswith(("cutover_testing", "tests/"))], "test-only code in the wheel"
    bin_dir = make_venv(tmp_path / "venv", env)
    install(bin_dir, str(wheel), env)
    app = app_dir(tmp_path)

    # 1. without the sandbox extra: one line naming it, exit 4, nothing written
    done = run([bin_dir / "pytest", "--target", "demo"], app, env, timeout=300)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 4 and len(lines) == 1, done.stdout[-2000:] + done.stderr[-2000:]
    assert "pip install 'cutover[sandbox]'" in lines[0] and "moto[server]" in lines[0], lines
    assert "Traceback" not in done.stdout + done.stderr and "INTERNALERROR" not in done.stdout + done.stderr
    assert not (app / "reports").exists()

    # 2. with it: the whole catalogue from the installed package, the app's test untouched, GATE: PASS
    install(bin_dir, f"{wheel}[sandbox]", env)
    where = run([bin_dir / "python", "-c", "import cutover_pytest.checks as c; print(c.__file__)"], app, env)
    assert Path(where.stdout.strip()).is_relative_to(tmp_path / "venv"), where.stdout + where.stderr
    done = run([bin_dir / "pytest", "--target", "demo"], app, env)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "GATE: PASS" in done.stdout and "test_app" not in done.stdout
    (run_dir,) = (app / "reports" / "demo").glob("*/")
    record = json.loads((run_dir / "record.json").read_text())
    assert record["verdict"] == "GATE: PASS" and record["not_verified"] == [] and record["partial"] is False
    assert {t["id"].partition("::")[0] for t in record["tests"]} == {f"cutover_pytest/checks/{m}" for m in MODULES}
    assert set(record["criteria"]) == set(CRITERIA)
    assert not (app / "conftest-was-imported").exists()

    # 3. the catalogue ships with the package
    done = run([bin_dir / "cutover", "criteria"], app, env, timeout=120)
    assert done.returncode == 0 and done.stdout == render()

    # 3b. so does a new target's file: `cutover init` writes it from the installed model; as written, the run
    # stops at the first ${VAR} it needs (one line, exit 4)
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    done = run([bin_dir / "cutover", "init", "staging"], fresh, env, timeout=120)
    assert done.returncode == 0 and (fresh / "targets.toml").read_text() == render_init("staging"), done.stderr
    done = run([bin_dir / "pytest", "--target", "staging"], fresh, env, timeout=300)
    assert done.returncode == 4 and "STAGING_" in done.stderr and "Traceback" not in done.stdout + done.stderr

    # 4. every path-option form collects the same checks, from anywhere
    conf = tmp_path / "etc"
    conf.mkdir()
    (conf / "t.toml").write_text(UNREACHABLE)
    (conf / "waivers.toml").write_text("")
    existing = tmp_path / "archive"
    existing.mkdir()
    base = [bin_dir / "pytest", "--target", "t", "--collect-only", "-q"]
    forms = [["--targets-file", conf / "t.toml"], [f"--targets-file={conf / 't.toml'}"],
             ["--targets-file", conf / "t.toml", "--reports-dir", existing],
             ["--targets-file", conf / "t.toml", f"--reports-dir={existing}"],
             ["--targets-file", conf / "t.toml", "--waivers", conf / "waivers.toml"],
             ["--targets-file", conf / "t.toml", f"--waivers={conf / 'waivers.toml'}"]]
    found = [collected(run([*base, *form], app, env, timeout=300)) for form in forms]
    assert found[0] and all(ids == found[0] for ids in found), found
    assert {i.partition("::")[0] for i in found[0]} == {f"cutover_pytest/checks/{m}" for m in MODULES}

    # 5. -x with a collection error: no verdict, never a pass
    (app / "team_broken.py").write_text("import a_module_that_does_not_exist\n")
    done = run([bin_dir / "pytest", "--target", "t", "--targets-file", conf / "t.toml", "-x", "--checks",
                "team_broken.py"], app, env, timeout=300)
    assert done.returncode == 2 and "GATE: NOT RUN (1 collection error)" in done.stdout, done.stdout[-3000:]
