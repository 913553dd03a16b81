"""`cutover merge` on shard runs that are intact but whose record.json is not as a gate run writes it (edited,
then re-hashed into the manifest): one line naming the run, the file and the problem, exit 4, never a traceback
(issue 29). Hypothesis mutates a valid shard record every way JSON allows."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cutover.run.cli import main
from cutover.run.run_directory import write_json, write_manifest

PLAN = {"index": 1, "count": 1, "plan_digest": "d", "plan_total": 1, "assigned": ["c.py::t"]}
TEST = {"id": "c.py::t", "label": "DB-01[A]", "criterion": "DB-01", "severity": "blocker", "duration": 0.1,
        "outcome": "passed", "verdict": "pass"}
RECORD = {"run_id": "r1", "target": "t", "config_digest": "x", "suite_version": "0", "shard": PLAN,
          "tests": [TEST]}


def shard_run(root: Path, record: Any = None, text: str | None = None) -> Path:
    """An intact shard run (its manifest matches) holding ``record`` (or raw ``text``) as record.json."""
    run = root / "shard-1" / "t" / "r1"
    run.mkdir(parents=True)
    if text is None:
        write_json(run / "record.json", RECORD if record is None else record)
    else:
        (run / "record.json").write_text(text, encoding="utf-8")
    write_manifest(run, {"run_id": "r1"})
    return run


def merged(capsys: pytest.CaptureFixture[str], run: Path, reports: Path) -> tuple[int, str]:
    code = main(["merge", str(run), "--reports-dir", str(reports)])
    return code, capsys.readouterr().err


@pytest.mark.parametrize(("record", "text", "fragment"), [
    (None, '{"run_id": "r1", "shard": {, }', "record.json: not valid JSON (line 1, column 28: Expecting property"),
    ({**RECORD, "shard": {**PLAN, "index": "two"}}, None, "record.json: shard: invalid literal for int()"),
    ({**RECORD, "tests": [{k: v for k, v in TEST.items() if k != "id"}]}, None, "record.json: tests[0]: no 'id'"),
    ({**RECORD, "tests": [{**TEST, "duration": "slow"}]}, None, "record.json: tests[0]: could not convert"),
    ({**RECORD, "tests": [{**TEST, "criterion": "XX-99"}]}, None,
     "tests[0]: criterion 'XX-99' is not in the catalogue"),
    ({**RECORD, "tests": "all"}, None, "record.json: 'tests' is not a list"),
    ([1, 2], None, "record.json: not a JSON object"),
])
def test_a_rewritten_record_is_one_line_naming_run_file_and_problem(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], record: Any, text: str | None, fragment: str) -> None:
    run = shard_run(tmp_path, record, text)
    code, err = merged(capsys, run, tmp_path / "reports")
    assert code == 4 and err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith(f"error: {run / 'record.json'}: ") and fragment in err, err
    assert "run that shard again" in err


def test_a_reports_dir_that_is_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "reports").write_text("not a directory", encoding="utf-8")
    code, err = merged(capsys, shard_run(tmp_path), tmp_path / "reports")
    assert (code, err) == (4, f"error: --reports-dir {tmp_path / 'reports'}: not a directory (it is a file); "
                              "name a directory\n")


def test_a_valid_shard_merges(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["merge", str(shard_run(tmp_path)), "--reports-dir", str(tmp_path / "reports")])
    out = capsys.readouterr().out
    assert code in (0, 6) and "GATE:" in out, out


_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                                 max_size=3), max_leaves=6)


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any]:
    """The valid record with one value replaced, somewhere in its shard plan or its first test."""
    record = json.loads(json.dumps(RECORD))
    part = draw(st.sampled_from(["shard", "test", "top"]))
    table = record["shard"] if part == "shard" else record["tests"][0] if part == "test" else record
    key = draw(st.sampled_from(sorted(table)) | st.text(max_size=6))
    if draw(st.booleans()):
        table.pop(key, None)
    else:
        table[key] = draw(_JSON)
    return record


@settings(max_examples=60, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                                     HealthCheck.function_scoped_fixture])
@given(record=mutated())
def test_any_rewritten_record_merges_or_fails_in_one_line(tmp_path_factory: pytest.TempPathFactory,
                                                           capsys: pytest.CaptureFixture[str], record: Any) -> None:
    root = tmp_path_factory.mktemp("merge")
    code, err = merged(capsys, shard_run(root, record), root / "reports")
    assert "Traceback" not in err
    if code == 4:
        assert err.count("\n") == 1 and err.startswith("error: "), err
    else:
        assert code in (0, 1, 6) and err == "", err


@pytest.mark.parametrize("argv", [["bogus"], [], ["merge"], ["verify-report"], ["keygen"], ["merge", "x", "--key"],
                                  ["criteria", "--nope"]])
def test_every_usage_mistake_of_the_command_is_one_line(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(argv)
    err = capsys.readouterr().err
    assert done.value.code == 4 and err.count("\n") == 1 and err.startswith("cutover") and ": error: " in err, err
    assert "run_dir" not in err   # an argument's own name never shows


@pytest.mark.parametrize("command", ["verify-report", "merge", "keygen"])
def test_a_path_that_is_not_what_the_command_needs_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                                command: str) -> None:
    afile = tmp_path / "afile"
    afile.write_text("x", encoding="utf-8")
    argv = [command, str(afile), *(["--reports-dir", str(tmp_path / "r")] if command == "merge" else [])]
    assert main(argv) == 4
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(afile) in err, err
