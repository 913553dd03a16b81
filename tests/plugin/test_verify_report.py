"""``cutover verify-report DIR``, the installed console script, on a run archived by a real pytest run:
intact as written (and said to be unsigned); one altered byte, a deleted file or an added file is named and
exits 1. Signed runs: tests/plugin/test_signed_archive.py."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.inner_runs import UNUSED_PLUGINS

TARGETS = """
[targets.t]
source = { uri = "mongodb://127.0.0.1:1/db" }
database = { uri = "mongodb://127.0.0.1:1/db" }

[targets.t.thresholds]
timeout_s = 0.5
"""

CHECKS = """
import pytest

@pytest.mark.criterion("DB-01")
@pytest.mark.parametrize("cls", ["GameScore", "_User"])
def test_counts(cls):
    assert cls != "_User", "_User: target holds 9 documents, source 10"

@pytest.mark.criterion("FILE-04")
def test_orphans():
    pass
"""


def cutover_script() -> Path:
    script = Path(sys.executable).parent / "cutover"
    if not script.is_file():
        pytest.fail(f"the console script is not installed next to {sys.executable}: pip install -e .")
    return script


def verify(directory: Path | str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(cutover_script()), "verify-report", str(directory), *extra], capture_output=True,
                          text=True, timeout=60, check=False)


@pytest.fixture(scope="module")
def archived(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real run of the plugin, archived under reports/t/<run id>/ (each test works on a copy)."""
    work = tmp_path_factory.mktemp("archive")
    (work / "targets.toml").write_text(TARGETS, encoding="utf-8")
    (work / "test_checks.py").write_text(CHECKS, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUTOVER_")}
    done = subprocess.run([sys.executable, "-m", "pytest", "test_checks.py", "--target", "t", "--reports-dir",
                           "reports", "-p", "no:cacheprovider", *UNUSED_PLUGINS],
                          cwd=work, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1, done.stdout + done.stderr   # the _User blocker fails: a run like any other
    (run,) = (p for p in (work / "reports" / "t").iterdir() if p.is_dir())
    return run


@pytest.fixture
def run(archived: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "reports" / "t" / archived.name
    shutil.copytree(archived, copy)
    return copy


def test_the_archive_holds_every_report_and_a_manifest_of_them(run: Path) -> None:
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["files"]) == {"report.html", "record.json", "junit.xml"}
    assert {p.name for p in run.iterdir()} == {"report.html", "record.json", "junit.xml", "manifest.json"}


def test_an_untouched_archive_is_intact(run: Path) -> None:
    done = verify(run)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == f"{run}: intact; not signed (the hashes prove the files match manifest.json, not who " \
        "wrote manifest.json)\n"


def flip_one_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("name", ["report.html", "record.json", "junit.xml"])
def test_one_altered_byte_fails_and_names_the_file(run: Path, name: str) -> None:
    size = (run / name).stat().st_size
    flip_one_byte(run / name)
    assert (run / name).stat().st_size == size
    done = verify(run)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.splitlines() == [f"{run}: NOT intact", f"  {name}: changed (sha256 differs from the manifest)"]


def test_a_verdict_rewritten_by_hand_is_caught(run: Path) -> None:
    """What an auditor fears: someone turns a failed gate into a pass in the record."""
    record = run / "record.json"
    text = record.read_text(encoding="utf-8")
    assert '"verdict": "GATE: FAIL - 1 blocker (DB-01)"' in text
    record.write_text(text.replace("GATE: FAIL - 1 blocker (DB-01)", "GATE: PASS"), encoding="utf-8")
    done = verify(run)
    assert done.returncode == 1 and "record.json: changed" in done.stderr


def test_a_deleted_file_fails(run: Path) -> None:
    (run / "junit.xml").unlink()
    done = verify(run)
    assert done.returncode == 1
    assert done.stderr.splitlines()[1:] == ["  junit.xml: missing"]


@pytest.mark.parametrize("rel", ["extra.txt", "logs/parse.log"])
def test_an_added_file_fails(run: Path, rel: str) -> None:
    (run / rel).parent.mkdir(exist_ok=True)
    (run / rel).write_text("slipped in later\n", encoding="utf-8")
    done = verify(run)
    assert done.returncode == 1
    assert done.stderr.splitlines()[1:] == [f"  {rel}: not in the manifest"]


def test_several_problems_are_all_listed(run: Path) -> None:
    flip_one_byte(run / "report.html")
    (run / "record.json").unlink()
    (run / "notes.txt").write_text("x", encoding="utf-8")
    lines = verify(run).stderr.splitlines()
    assert sorted(lines[1:]) == ["  notes.txt: not in the manifest", "  record.json: missing",
                                 "  report.html: changed (sha256 differs from the manifest)"]


def test_a_missing_manifest_is_not_intact(run: Path) -> None:
    (run / "manifest.json").unlink()
    done = verify(run)
    assert done.returncode == 1 and "manifest.json: unreadable" in done.stderr


def test_the_index_beside_the_runs_is_not_part_of_a_run(run: Path) -> None:
    (run.parent / "index.html").write_text("<html>rewritten</html>", encoding="utf-8")
    assert verify(run).returncode == 0


def test_a_path_that_is_not_a_directory_is_bad_usage(run: Path) -> None:
    for path in (run / "nope", run / "report.html"):
        done = verify(path)
        assert done.returncode == 4 and done.stderr.strip() == f"{path}: not a directory (expected an archived " \
            "run: reports/<target>/<run id>)"


def test_bad_arguments_are_bad_usage() -> None:
    for args in ([], ["verify-report"], ["no-such-command"]):
        done = subprocess.run([str(cutover_script()), *args], capture_output=True, text=True, timeout=60,
                              check=False)
        assert done.returncode == 4, args
        assert done.stderr.splitlines()[-1].startswith("cutover")
