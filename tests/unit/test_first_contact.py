"""No input a newcomer can type makes the gate crash, hang on the network or go green (issue 29).

Hypothesis writes a targets file holding one bad value (a number out of its range, a URI the driver would refuse
or misread, a region without its provider, a bucket name S3 refuses, a system class as the probe class, a target
name that would leave the reports directory, an unset or empty ${VAR}, an unknown key), or passes one bad option
value (``--sample -3``, ``--progress-every nan``, ``--reports-dir`` naming a file, a ``--checks`` path that does not
exist, ``--target ''``...), and runs ``pytest --target`` in this process, as a user would from a shell. Every
example must end with exit code 4 and exactly one ``ERROR:`` line: never a traceback, never exit 0, and never
after the preflight (every host named is a closed local port, so a run that got past validation would fail with
exit 1 instead). About 40 ms an example: the validation happens before anything is reached.
"""
from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cutover import model
from cutover.ranges import Range, range_of
from cutover.run.config_dump import toml_value
from tests.inner_runs import UNUSED_PLUGINS

CLOSED = "127.0.0.1:9"     # the discard port: nothing listens, a connection is refused at once
BASE: dict[str, Any] = {"source": {"uri": f"mongodb://{CLOSED}/src"}, "database": {"uri": f"mongodb://{CLOSED}/app"},
                        "thresholds": {"timeout_s": 1}}
SETTINGS = settings(max_examples=int(os.environ.get("CUTOVER_FUZZ_EXAMPLES", "60")), derandomize=True, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


# -- running pytest --target in this process ------------------------------------------------------------------

@contextlib.contextmanager
def _isolated(directory: Path, environ: dict[str, str]) -> Iterator[None]:
    """The run's working directory and CUTOVER_* environment, restored afterwards."""
    saved_env, saved_cwd = dict(os.environ), Path.cwd()
    for var in [v for v in os.environ if v.startswith("CUTOVER_")]:
        del os.environ[var]
    os.environ.update(environ)
    os.chdir(directory)
    try:
        yield
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)


def gate(directory: Path, args: list[str], environ: dict[str, str] | None = None) -> tuple[int, str]:
    """``pytest ARGS`` run in-process from ``directory``: its exit code and everything it wrote."""
    out = io.StringIO()
    with _isolated(directory, environ or {}), contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = pytest.main([*args, *UNUSED_PLUGINS, "-p", "no:cacheprovider", "-p", "no:xdist", "-s", "-q"])
    return int(code), out.getvalue()


def assert_one_line_usage_error(code: int, output: str) -> None:
    lines = [line for line in output.splitlines() if line.strip()]
    assert code == 4 and len(lines) == 1 and lines[0].startswith("ERROR: "), (code, output[-3000:])
    assert "Traceback" not in output and "INTERNALERROR" not in output, output[-3000:]


# -- targets files with one bad value ---------------------------------------------------------------------------

def targets_file(name: str, table: dict[str, Any]) -> str:
    return f"[targets]\n{json.dumps(name, ensure_ascii=False)} = {toml_value(table)}\n"


def _numbered_fields() -> list[tuple[str, str, Range, bool]]:
    """(table, key, range, integer) of every number a target's tables hold (thresholds, scans, database, top)."""
    tables = {"thresholds": model.Thresholds, "scans": model.Scans, "database": model.Database, "": model.Target}
    return [(table, f.name, bounds, f.type in (int, "int"))
            for table, cls in tables.items() for f in dataclasses.fields(cls)
            if (bounds := range_of(f.metadata)) is not None]


NUMBERS = _numbered_fields()


@st.composite
def out_of_range(draw: st.DrawFn) -> tuple[str, str, Any]:
    table, key, bounds, integer = draw(st.sampled_from(NUMBERS))
    low = [bounds.low] if bounds.low_open else []
    below = st.integers(max_value=math.ceil(bounds.low) - 1) if integer else st.floats(
        max_value=bounds.low, exclude_max=not bounds.low_open, allow_nan=False)
    above = st.integers(min_value=int(bounds.high) + 1) if integer else st.floats(
        min_value=bounds.high, exclude_min=True, allow_nan=False)
    value = draw(st.one_of(below, above, st.sampled_from([*low, math.nan, "10", True]),
                           st.floats(allow_nan=False).filter(lambda v: not bounds.holds(v)) if not integer
                           else st.just(1.5)))
    return table, key, value


BAD_URIS = ["", "mongodb+srv://cluster.example.net:27017/app", "mongodb+srv://a.example.net,b.example.net/app",
            f"mongodb://u:p@ss@{CLOSED}/app", f"mongodb://u:pa/ss@{CLOSED}/app", f"mongodb://u:a:b@{CLOSED}/app",
            f"mongodb://{CLOSED}/", f"mongodb://{CLOSED}/app?tls=maybe", f"mongodb://{CLOSED}/app?retryWritez=1",
            "postgres://h/db", "localhost:27017/app", "mongodb://h:99999/app", "mongodb://[::1/app"]
BAD_REGIONS = ["eu-west-1", "aws:mars-1", "aws:eu-west-1a", "asw:eu-west-1", "gcp:moon", "aws:", ":eu-west-1"]
BAD_BUCKETS = ["s3://files", "files/uploads", "ab", "Bad_Bucket!", "192.168.1.1", "a..b", "-files", "x" * 300]


@st.composite
def bad_value(draw: st.DrawFn) -> tuple[str, str, Any]:
    """(table, key, value): one value the loader must refuse."""
    return draw(st.one_of(
        out_of_range(),
        st.tuples(st.just("database"), st.just("uri"),
                  st.sampled_from(BAD_URIS) | st.text(max_size=40).filter(lambda t: not t.startswith("mongodb"))),
        st.tuples(st.just("regions"), st.sampled_from(model.REGION_COMPONENTS), st.sampled_from(BAD_REGIONS)),
        st.tuples(st.just("files"), st.just("bucket"), st.sampled_from(BAD_BUCKETS)),
        st.tuples(st.just("database"), st.just("app_user"),
                  st.sampled_from(["parse", "@admin", "parse@", "parse@a.b", "parse@my db", "parse@" + "x" * 64])),
        st.tuples(st.just("files"), st.just("region"), st.sampled_from(["Europe", "eu-west", "moon-1", "eu-west-1b"])),
        st.tuples(st.just(""), st.just("probe_class"),
                  st.from_regex(r"_[A-Za-z][A-Za-z0-9_]{0,8}", fullmatch=True) | st.just("my probe")),
        st.tuples(st.sampled_from(["", "thresholds", "database", "scans"]),
                  st.text(min_size=1, max_size=10).filter(lambda k: k not in _KNOWN_KEYS), st.integers()),
    ))


_KNOWN_KEYS = {f.name for cls in (model.Target, model.Thresholds, model.Database, model.Scans)
               for f in dataclasses.fields(cls)} | {"class"}


def with_value(table: str, key: str, value: Any) -> dict[str, Any]:
    target = json.loads(json.dumps(BASE))
    if table:
        target.setdefault(table, {})[key] = value
    else:
        target[key] = value
    return target


@SETTINGS
@given(bad=bad_value())
def test_a_targets_file_with_one_bad_value_is_one_line_and_exit_4(tmp_path_factory: pytest.TempPathFactory,
                                                                   bad: tuple[str, str, Any]) -> None:
    directory = tmp_path_factory.mktemp("contact")
    (directory / "targets.toml").write_text(targets_file("t", with_value(*bad)), encoding="utf-8")
    assert_one_line_usage_error(*gate(directory, ["--target", "t"]))


UNSAFE_NAMES = (st.sampled_from(["../../escaped", "..", ".", "a/b", "x\\y", ".hidden", "-rf", "a" * 101, " "])
                | st.text(min_size=1, max_size=12).map(lambda t: "../" + t))


@settings(max_examples=25, derandomize=True, deadline=None)
@given(name=UNSAFE_NAMES)
def test_a_target_name_that_would_leave_the_reports_directory(tmp_path_factory: pytest.TempPathFactory,
                                                              name: str) -> None:
    directory = tmp_path_factory.mktemp("names")
    (directory / "targets.toml").write_text(targets_file(name, BASE), encoding="utf-8")
    assert_one_line_usage_error(*gate(directory, [f"--target={name}"]))
    assert not list(directory.parent.glob("escaped*")) and not (directory / "reports").exists()


@settings(max_examples=20, derandomize=True, deadline=None)
@given(missing=st.lists(st.from_regex(r"CUTOVER_FUZZ_[A-Z]{1,6}", fullmatch=True), min_size=1, max_size=8,
                        unique=True),
       empty=st.booleans())
def test_every_unset_or_empty_variable_in_one_line(tmp_path_factory: pytest.TempPathFactory, missing: list[str],
                                                    empty: bool) -> None:
    directory = tmp_path_factory.mktemp("vars")
    parse = {"server_url": f"http://{CLOSED}/parse", "app_id": "a",
             **{"master_key" if i == 0 else "rest_key": f"${{{v}}}" for i, v in enumerate(missing[:2])}}
    table = {**BASE, "parse": parse, "probe_class": "".join(f"P${{{v}}}" for v in missing)}
    (directory / "targets.toml").write_text(targets_file("t", table), encoding="utf-8")
    environ = {missing[0]: ""} if empty else {}
    code, output = gate(directory, ["--target", "t"], environ)
    assert_one_line_usage_error(code, output)
    assert all(var in output for var in missing), output


@pytest.mark.parametrize("given,missing", [("access_key_id", "secret_access_key"),
                                            ("secret_access_key", "access_key_id")])
def test_one_of_the_two_s3_keys_is_refused_when_the_file_is_read(tmp_path: Path, given: str, missing: str) -> None:
    files = {"adapter": "s3", "bucket": "app-files", "endpoint_url": f"http://{CLOSED}", given: "AKIAEXAMPLE"}
    (tmp_path / "targets.toml").write_text(targets_file("t", {**BASE, "files": files}), encoding="utf-8")
    code, output = gate(tmp_path, ["--target", "t"])
    assert_one_line_usage_error(code, output)
    assert f"files.{missing}: empty while files.{given} is set" in output, output


# -- one bad option value --------------------------------------------------------------------------------------

def _garbage() -> st.SearchStrategy[str]:
    return st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=12)


@st.composite
def bad_option(draw: st.DrawFn) -> tuple[list[str], dict[str, str], str]:
    """(extra arguments, environment, what a file fixture must hold): one option value the run must refuse."""
    kind = draw(st.sampled_from(["sample", "scale", "progress", "reports", "checks", "target", "env", "shard",
                                 "targets-file", "waivers", "resume", "sign-key", "path"]))
    if kind in ("sample", "scale"):
        value = draw(st.integers(max_value=-1) | st.integers(min_value=10 ** 10)
                     | _garbage().filter(lambda t: not t.strip().lstrip("+").isdigit()))
        return [f"--{kind}={value}"], {}, ""
    if kind == "progress":
        value = draw(st.floats(max_value=-1e-9) | st.sampled_from(["nan", "inf", "-inf", "1e9", "soon"]))
        return [f"--progress-every={value}"], {}, ""
    shard = draw(_garbage().filter(lambda t: "/" not in t) | st.sampled_from(["0/2", "3/2", "1/0"]))
    simple = {"reports": (["--reports-dir=afile"], {}), "checks": (["--checks=no/such/checks"], {}),
              "target": ([f"--target={draw(st.sampled_from(['', ' ', 'nosuch', '../x']))}"], {}),
              "env": ([], {"CUTOVER_TARGET": draw(st.sampled_from(["", "  "]))}),
              "shard": ([f"--shard={shard}"], {}),
              "targets-file": ([f"--targets-file={draw(st.sampled_from(['no/such.toml', 'adir']))}"], {}),
              "waivers": ([f"--waivers={draw(st.sampled_from(['no/such.toml', 'adir', 'bad-waivers.toml']))}"], {}),
              "resume": (["--resume=no/such/run"], {}), "sign-key": (["--sign-key=no/such.key"], {}),
              "path": (["no_such_test_file.py"], {})}
    args, environ = simple[kind]
    return args, environ, kind


@SETTINGS
@given(bad=bad_option())
def test_one_bad_option_value_is_one_line_and_exit_4(tmp_path_factory: pytest.TempPathFactory,
                                                     bad: tuple[list[str], dict[str, str], str]) -> None:
    directory = tmp_path_factory.mktemp("options")
    (directory / "targets.toml").write_text(targets_file("t", BASE), encoding="utf-8")
    (directory / "afile").write_text("a file, not a directory", encoding="utf-8")
    (directory / "adir").mkdir()
    (directory / "bad-waivers.toml").write_text('[[waivers]]\ncriterion = "DB-06"\ntest = "GameScore.*"\n'
                                                'justification = "x"\nexpires = 2099-01-01\n', encoding="utf-8")
    args, environ, _ = bad
    named = [] if any(a.startswith("--target=") for a in args) or environ else ["--target=t"]
    assert_one_line_usage_error(*gate(directory, [*named, *args], environ))
