"""Loading targets files: the full model, ${ENV} substitution, secrets, and one-line ConfigErrors."""
from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cutover.errors import ConfigError
from cutover.model import CloudFunction, Database, Files, ParseServer, Query, Source, Target, Thresholds
from cutover.run.config import _ENUMS, SandboxSpec, load_target
from cutover.sandbox import node_env

CANARY = "Cn4ry-s3cret-7Qz"
ENV = {"MASTER": "mk-" + CANARY, "DB_PASS": "pw-" + CANARY, "APP": "myapp", "CANARY": CANARY}

FULL = """
[targets.prod]
production = true
app_source_dir = "app"
probe_class = "Probe"

[targets.prod.source]
kind = "mongodb"
uri = "mongodb://reader:${DB_PASS}@old.example.com:27017/legacy?authSource=admin"

[targets.prod.database]
uri = "mongodb+srv://app:literal-pw-123@cluster.example.net/app"
tls_ca_file = "ca.pem"
live_sync = true
count_tolerance = 50
storage_quota_bytes = 1000000

[targets.prod.parse]
server_url = "https://api.example.com/parse"
app_id = "${APP}"
master_key = "${MASTER}"
rest_key = "literal-rest-key"
file_key = "file-key-123"
public_url = "https://public.example.com/parse"

[targets.prod.source_parse]
server_url = "https://legacy.example.com/1"
app_id = "${APP}"
master_key = "literal-source-master"

[targets.prod.files]
adapter = "s3"
bucket = "my-files"
prefix = "files/"
region = "eu-west-1"
direct_access = true
base_url = "https://cdn.example.com"
endpoint_url = "http://127.0.0.1:9000"
access_key_id = "AKIA123"
secret_access_key = "aws-secret-456"

[targets.prod.regions]
app_server = "aws:eu-west-1"
database = "aws:eu-west-1"

[[targets.prod.queries]]
class = "GameScore"
where = { playerName = "x", score = { "$gt" = 10 } }
sort = { score = -1 }
name = "top-scores"

[[targets.prod.cloud_functions]]
name = "hello"
params = { who = "you" }
expect_status = 200
expect_result = "Hello you"

[targets.prod.thresholds]
replication_lag_s = 5
timeout_s = 2.5
diff_cap = 10

[targets.prod.severity]
"FILE-04" = "major"
"DB-05" = "blocker"
"""

MINIMAL = """
[targets.{name}]
source = {{ uri = "mongodb://h:27017/src" }}
database = {{ uri = "mongodb://h:27017/dst" }}
"""

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _in_a_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The paths FULL names exist, relative to the working directory (where the loader reads them)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ca.pem").write_text("not read by the loader", encoding="utf-8")
    (tmp_path / "app").mkdir()


def write(tmp_path: Path, text: str | bytes, name: str = "targets.toml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def minimal(extra: str = "", name: str = "t") -> str:
    return MINIMAL.format(name=name) + extra


def config_error(path: Path, name: str = "t", environ: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        load_target(path, name, ENV if environ is None else environ)
    message = str(info.value)
    assert "\n" not in message and "\r" not in message, message
    assert CANARY not in message, message
    return message


def test_full_target_becomes_the_model(tmp_path: Path) -> None:
    target = load_target(write(tmp_path, FULL), "prod", ENV)
    assert isinstance(target, Target)
    assert target.name == "prod" and target.production and target.probe_class == "Probe"
    assert target.source == Source(
        kind="mongodb", uri=f"mongodb://reader:pw-{CANARY}@old.example.com:27017/legacy?authSource=admin")
    assert target.database == Database(uri="mongodb+srv://app:literal-pw-123@cluster.example.net/app",
                                       tls_ca_file="ca.pem", live_sync=True, count_tolerance=50,
                                       storage_quota_bytes=1000000)
    assert target.parse == ParseServer(server_url="https://api.example.com/parse", app_id="myapp",
                                       master_key=f"mk-{CANARY}", rest_key="literal-rest-key",
                                       file_key="file-key-123", public_url="https://public.example.com/parse")
    assert target.source_parse == ParseServer(server_url="https://legacy.example.com/1", app_id="myapp",
                                              master_key="literal-source-master")
    assert target.files == Files(adapter="s3", bucket="my-files", prefix="files/", region="eu-west-1",
                                 direct_access=True, base_url="https://cdn.example.com",
                                 endpoint_url="http://127.0.0.1:9000", access_key_id="AKIA123",
                                 secret_access_key="aws-secret-456")
    assert target.regions == {"app_server": "aws:eu-west-1", "database": "aws:eu-west-1"}
    assert target.queries == (Query(cls="GameScore", where={"playerName": "x", "score": {"$gt": 10}},
                                    sort={"score": -1}, name="top-scores"),)
    assert target.queries[0].label == "top-scores"
    assert target.cloud_functions == (CloudFunction(name="hello", params={"who": "you"}, expect_status=200,
                                                    expect_result="Hello you"),)
    assert target.thresholds == Thresholds(replication_lag_s=5.0, timeout_s=2.5, diff_cap=10)
    assert isinstance(target.thresholds.replication_lag_s, float)
    assert target.severity == {"FILE-04": "major", "DB-05": "blocker"}


def test_secrets_hold_substituted_values_uri_passwords_and_literal_keys(tmp_path: Path) -> None:
    target = load_target(write(tmp_path, FULL), "prod", ENV)
    assert isinstance(target, Target)
    expected = {f"pw-{CANARY}", f"mk-{CANARY}", "myapp", "literal-pw-123", "literal-rest-key", "file-key-123",
                "literal-source-master", "aws-secret-456"}
    assert expected <= set(target.secrets)
    assert "AKIA123" not in target.secrets and "my-files" not in target.secrets
    assert "secrets" not in repr(target)  # the secrets tuple itself is kept out of the repr


def test_env_substitution_inside_a_string(tmp_path: Path) -> None:
    path = write(tmp_path, minimal('probe_class = "P_${APP}_x"\n'))
    target = load_target(path, "t", ENV)
    assert isinstance(target, Target) and target.probe_class == "P_myapp_x"
    assert "myapp" in target.secrets


def test_environ_defaults_to_os_environ(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUTOVER_TEST_PROBE", "FromEnv")
    target = load_target(write(tmp_path, minimal('probe_class = "${CUTOVER_TEST_PROBE}"\n')), "t")
    assert isinstance(target, Target) and target.probe_class == "FromEnv"


def test_defaults_of_a_minimal_target(tmp_path: Path) -> None:
    target = load_target(write(tmp_path, minimal()), "t", {})
    assert isinstance(target, Target)
    assert target.parse is None and target.files is None and target.queries == ()
    assert target.thresholds == Thresholds() and target.secrets == ()


def test_sandbox_target_gives_a_sandbox_spec(tmp_path: Path) -> None:
    text = "[targets.demo]\nsandbox = { scale = 10 }\n[targets.demo2]\nsandbox = true\nproduction = true\n"
    path = write(tmp_path, text)
    assert load_target(path, "demo", {}) == SandboxSpec(name="demo", scale=10, production=False)
    assert load_target(path, "demo2", {}) == SandboxSpec(name="demo2", scale=3000, production=True)


@pytest.mark.parametrize(("text", "fragments"), [
    ("[targets.d]\nsandbox = { scale = 10 }\nsource = {}\n", ["targets.d.source", "sandbox target takes only"]),
    ("[targets.d]\nsandbox = { scale = \"ten\" }\n", ["targets.d.sandbox.scale", "expected an integer"]),
    ("[targets.d]\nsandbox = { scale = 0 }\n", ["targets.d.sandbox.scale", "expected an integer in [1, 10^7], got 0"]),
    ("[targets.d]\nsandbox = { scle = 10 }\n", ["targets.d.sandbox.scle", "did you mean 'scale'"]),
    ("[targets.d]\nsandbox = 3\n", ["targets.d.sandbox", "expected true or a table"]),
])
def test_sandbox_errors(tmp_path: Path, text: str, fragments: list[str]) -> None:
    message = config_error(write(tmp_path, text), "d")
    for fragment in fragments:
        assert fragment in message


def test_unknown_target_lists_the_known_ones(tmp_path: Path) -> None:
    path = write(tmp_path, minimal(name="staging") + minimal(name="prod"))
    message = config_error(path, "prdo")
    assert str(path) in message and "unknown target 'prdo'" in message
    assert "known targets: prod, staging" in message


def test_demo_is_built_in_and_needs_no_targets_file(tmp_path: Path) -> None:
    missing = tmp_path / "targets.toml"
    assert load_target(missing, "demo", required=False) == SandboxSpec("demo", scale=3000)
    assert load_target(write(tmp_path, minimal(name="prod")), "demo") == SandboxSpec("demo", scale=3000)


def test_a_files_target_of_a_built_in_name_takes_precedence(tmp_path: Path) -> None:
    path = write(tmp_path, "[targets.demo]\nsandbox = { scale = 50 }\n")
    assert load_target(path, "demo") == SandboxSpec("demo", scale=50)


def test_an_unknown_target_without_a_targets_file_says_so_and_names_the_built_in_ones(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        load_target(tmp_path / "targets.toml", "prod", required=False)
    message = str(raised.value)
    assert "unknown target 'prod'; known targets: none (no such file: pass --targets-file PATH)" in message
    assert message.endswith("built-in targets: demo, demo-export, demo-gcs, demo-live, demo-rest, demo-skew, "
                            "demo-skew-rest")


def test_an_explicit_targets_file_must_exist_even_for_a_built_in_name(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="targets file not found"):
        load_target(tmp_path / "nope.toml", "demo")


def test_missing_env_var_names_it_and_the_key(tmp_path: Path) -> None:
    path = write(tmp_path, minimal('[targets.t.parse]\nserver_url = "https://h/p"\napp_id = "a"\n'
                                   'master_key = "${NOT_SET_ANYWHERE}"\n'))
    message = config_error(path, environ={})
    assert str(path) in message and "targets.t.parse.master_key" in message
    assert "NOT_SET_ANYWHERE is not set" in message


def test_malformed_toml(tmp_path: Path) -> None:
    path = write(tmp_path, "[targets.t\nsource = 1\n")
    message = config_error(path)
    assert message.startswith(f"{path}: malformed TOML")
    assert "line 1" in message


def test_non_utf8_file(tmp_path: Path) -> None:
    data = b"[targets.t]\nprobe_class = \"caf\xe9\"\n"
    message = config_error(write(tmp_path, data))
    assert "targets.toml: not UTF-8 text" in message and f"(byte {data.index(0xE9)})" in message


def test_missing_file(tmp_path: Path) -> None:
    message = config_error(tmp_path / "absent.toml")
    assert "absent.toml" in message and "not found" in message and "--targets-file" in message


@pytest.mark.parametrize(("extra", "key", "hint"), [
    ("probe_clas = \"x\"\n", "targets.t.probe_clas", "did you mean 'probe_class'?"),
    ("[targets.t.thresholds]\ntimeout = 1\n", "targets.t.thresholds.timeout", "did you mean 'timeout_s'?"),
    ("[[targets.t.queries]]\nclas = \"A\"\n", "targets.t.queries[0].clas", "did you mean 'class'?"),
    ("[[targets.t.queries]]\ncls = \"A\"\n", "targets.t.queries[0].cls", "did you mean 'class'?"),
    ("name = \"other\"\n", "targets.t.name", "table name"),
])
def test_unknown_key_suggests_the_closest(tmp_path: Path, extra: str, key: str, hint: str) -> None:
    message = config_error(write(tmp_path, minimal(extra)))
    assert f"{key}: unknown key" in message and hint in message


def test_unknown_top_level_key(tmp_path: Path) -> None:
    message = config_error(write(tmp_path, "target = 1\n" + minimal()))
    assert "unknown top-level key 'target'" in message


TH = "[targets.t.thresholds]\n"


@pytest.mark.parametrize(("extra", "key", "expected"), [
    (TH + 'diff_cap = "100"\n', "targets.t.thresholds.diff_cap", "expected an integer, got a string"),
    (TH + "diff_cap = true\n", "targets.t.thresholds.diff_cap", "expected an integer, got a boolean"),
    (TH + 'timeout_s = "2"\n', "targets.t.thresholds.timeout_s", "expected a number, got a string"),
    (TH + "timeout_s = nan\n", "targets.t.thresholds.timeout_s", "expected a finite number"),
    ("production = \"yes\"\n", "targets.t.production", "expected true or false, got a string"),
    ("regions = { app_server = 5 }\n", "targets.t.regions.app_server", "expected a string, got an integer"),
    ("queries = { class = \"A\" }\n", "targets.t.queries", "expected an array of tables, got a table"),
    ("[[targets.t.queries]]\nclass = \"A\"\nsort = { a = \"up\" }\n", "targets.t.queries[0].sort.a",
     "expected an integer, got a string"),
    ("thresholds = 3\n", "targets.t.thresholds", "expected a table, got an integer"),
])
def test_wrong_type(tmp_path: Path, extra: str, key: str, expected: str) -> None:
    message = config_error(write(tmp_path, minimal(extra)))
    assert f"{key}: {expected}" in message


def test_huge_integer_where_a_number_is_expected(tmp_path: Path) -> None:
    message = config_error(write(tmp_path, minimal("[targets.t.thresholds]\ntimeout_s = " + "9" * 400 + "\n")))
    assert "targets.t.thresholds.timeout_s: expected a finite number" in message


@pytest.mark.parametrize(("extra", "fragment"), [
    ("health_window_s = 0\n", "targets.t.thresholds.health_window_s: expected seconds in (0, 3600], got 0"),
    ("health_interval_s = -1\n", "targets.t.thresholds.health_interval_s: expected seconds in (0, 3600], got -1"),
    ("health_window_s = 4\nhealth_interval_s = 5\n",
     "targets.t.thresholds.health_interval_s: 5 s is longer than health_window_s (4 s)"),
    ("cpu_max_percent = 120\n", "targets.t.thresholds.cpu_max_percent: expected a percentage in (0, 100], got 120"),
])
def test_health_window_thresholds_are_checked(tmp_path: Path, extra: str, fragment: str) -> None:
    assert fragment in config_error(write(tmp_path, minimal(TH + extra)))


def test_health_window_thresholds_load(tmp_path: Path) -> None:
    extra = "health_window_s = 30\nhealth_interval_s = 2.5\ncpu_max_percent = 35\nadmission_queue_max = 4\n"
    limits = load_target(write(tmp_path, minimal(TH + extra)), "t", ENV).thresholds
    assert (limits.health_window_s, limits.health_interval_s, limits.cpu_max_percent, limits.admission_queue_max) \
        == (30.0, 2.5, 35.0, 4)
    assert Thresholds().health_window_s == 60.0 and Thresholds().cpu_max_percent == 20.0


def db_uri(uri: str) -> str:
    return f'[targets.t]\nsource = {{ uri = "mongodb://h/src" }}\ndatabase = {{ uri = "{uri}" }}\n'


@pytest.mark.parametrize(("uri", "shown"), [
    ("postgres://h:5432/db", "got 'postgres://…'"),
    ("mongodb:///db", "with a host"),
    ("mongodb://h:99999/db", "mongodb:// or mongodb+srv:// URI"),
    ("mongodb://h:port/db", "mongodb:// or mongodb+srv:// URI"),
    ("h:27017/db", "mongodb:// or mongodb+srv:// URI"),
    ("mongodb://[::1/db", "mongodb:// or mongodb+srv:// URI"),
])
def test_malformed_database_uri(tmp_path: Path, uri: str, shown: str) -> None:
    message = config_error(write(tmp_path, db_uri(uri)))
    assert "targets.t.database.uri: expected a mongodb:// or mongodb+srv:// URI with a host" in message
    assert shown in message


def test_malformed_http_uri(tmp_path: Path) -> None:
    message = config_error(write(tmp_path, minimal('[targets.t.parse]\nserver_url = "ftp://h/p"\napp_id = "a"\n')))
    assert "targets.t.parse.server_url: expected a http:// or https:// URI with a host, got 'ftp://…'" in message


def test_database_uri_without_database_name(tmp_path: Path) -> None:
    message = config_error(write(tmp_path, db_uri("mongodb://u:pw-secret-9@h:27017/?tls=true")))
    assert "targets.t.database.uri: name the database in the URI path" in message
    assert "pw-secret-9" not in message


def test_gridfs_uri_without_database_name(tmp_path: Path) -> None:
    """The GridFS database is its URI's default database, as the target's is: a URI naming none fails at read,
    not in every FILE check when the run opens it."""
    files = '[targets.t.files]\nadapter = "gridfs"\ngridfs_uri = "mongodb://files-db:27019/?tls=true"\n'
    message = config_error(write(tmp_path, db_uri("mongodb://h/app") + files))
    assert "targets.t.files.gridfs_uri: name the database in the URI path" in message


@pytest.mark.parametrize(("extra", "key", "allowed"), [
    ("", "targets.t.source.kind", "mongodb, rest, export"),
    ("files", "targets.t.files.adapter", "s3, gridfs, gcs"),
])
def test_enum_values(tmp_path: Path, extra: str, key: str, allowed: str) -> None:
    if extra == "files":
        text = minimal('[targets.t.files]\nadapter = "azure"\n')
    else:
        text = '[targets.t]\nsource = { kind = "mysql" }\ndatabase = { uri = "mongodb://h/d" }\n'
    message = config_error(write(tmp_path, text))
    assert f"{key}: expected one of {allowed}, got '" in message


def test_probe_keys_default_and_validate(tmp_path: Path) -> None:
    target = load_target(write(tmp_path, minimal()), "t", {})
    assert isinstance(target, Target)
    assert (target.probe_grace_s, target.probe_side_effects) == (3600.0, "undo")
    target = load_target(write(tmp_path, minimal('probe_grace_s = 0\nprobe_side_effects = "report"\n')), "t", {})
    assert isinstance(target, Target) and (target.probe_grace_s, target.probe_side_effects) == (0.0, "report")
    assert "targets.t.probe_side_effects: expected one of undo, report, got 'keep'" in config_error(
        write(tmp_path, minimal('probe_side_effects = "keep"\n')))
    assert "targets.t.probe_grace_s: expected seconds in [0, 31536000], got -5" in config_error(
        write(tmp_path, minimal("probe_grace_s = -5\n")))
    assert "targets.t.probe_grace_s: expected a number, got a string" in config_error(
        write(tmp_path, minimal('probe_grace_s = "1h"\n')))


def test_severity_values_and_criteria(tmp_path: Path) -> None:
    bad_value = config_error(write(tmp_path, minimal('severity = { "DB-01" = "critical" }\n')))
    assert "targets.t.severity.DB-01: expected one of blocker, major, minor, got 'critical'" in bad_value
    bad_key = config_error(write(tmp_path, minimal('severity = { "DB-10" = "minor" }\n')))
    assert "targets.t.severity.DB-10: unknown criterion; did you mean" in bad_key


@pytest.mark.parametrize(("text", "fragment"), [
    ('[targets.t]\nsource = { uri = "mongodb://h/s" }\n', "targets.t.database: required key is missing"),
    ('[targets.t]\ndatabase = { uri = "mongodb://h/s" }\n', "targets.t.source: required key is missing"),
    ('[targets.t]\nsource = { uri = "mongodb://h/s" }\ndatabase = {}\n', "targets.t.database.uri: required key"),
    ('[targets.t]\nsource = { kind = "mongodb" }\ndatabase = { uri = "mongodb://h/d" }\n',
     "targets.t.source.uri: required when source.kind is 'mongodb'"),
    ('[targets.t]\nsource = { kind = "rest" }\ndatabase = { uri = "mongodb://h/d" }\n',
     "targets.t.source.endpoint: required when source.kind is 'rest'"),
    ('[targets.t]\nsource = { kind = "export" }\ndatabase = { uri = "mongodb://h/d" }\n',
     "targets.t.source: source.kind is 'export': set export_dir (the unpacked export's folder) or export_file"),
    ('[targets.t]\nsource = { kind = "export", export_dir = "d", export_file = "e.zip" }\n'
     'database = { uri = "mongodb://h/d" }\n', "exactly one of them"),
    ('[targets.t]\nsource = { kind = "export", export_file = "export.tar.gz" }\n'
     'database = { uri = "mongodb://h/d" }\n', "targets.t.source.export_file: expected the export's .zip file"),
    (minimal('[targets.t.parse]\nserver_url = "https://h/p"\n'), "targets.t.parse.app_id: required key is missing"),
    (minimal('[[targets.t.queries]]\nwhere = {}\n'), "targets.t.queries[0].cls: required key is missing"),
])
def test_missing_required_keys(tmp_path: Path, text: str, fragment: str) -> None:
    assert fragment in config_error(write(tmp_path, text))


def test_an_export_source_is_its_folder_or_its_zip(tmp_path: Path) -> None:
    (tmp_path / "parse-export").mkdir()
    (tmp_path / "My App.ZIP").write_bytes(b"PK")
    for key, value in (("export_dir", str(tmp_path / "parse-export")), ("export_file", str(tmp_path / "My App.ZIP"))):
        text = (f'[targets.t]\nsource = {{ kind = "export", {key} = "{value}" }}\n'
                'database = { uri = "mongodb://h/d" }\n')
        source = load_target(write(tmp_path, text), "t", ENV).source
        assert (source.kind, getattr(source, key)) == ("export", value)
    text = '[targets.t]\nsource = { kind = "export", export_file = "gone.zip" }\ndatabase = { uri = "mongodb://h/d" }\n'
    assert "targets.t.source.export_file: no such file: 'gone.zip'" in config_error(write(tmp_path, text))


# -- no error message ever carries a secret value --------------------------------------------------------

@pytest.mark.parametrize("text", [
    '[targets.t]\nsource = { kind = "${CANARY}" }\ndatabase = { uri = "mongodb://h/d" }\n',
    minimal('severity = { "DB-01" = "${CANARY}" }\n'),
    db_uri("${CANARY}"),
    db_uri("mongodb://u:${CANARY}@h:99999/db"),
    db_uri("mongodb://u:" + CANARY + "@h:port/db"),
    db_uri("postgres://u:" + CANARY + "@h/db"),
    db_uri("mongodb://u:" + CANARY + "@h/"),
    minimal('[targets.t.files]\nadapter = "${CANARY}"\n'),
    minimal('[targets.t.parse]\nserver_url = "${CANARY}"\napp_id = "a"\nmaster_key = "${CANARY}"\n'),
    minimal('[targets.t.parse]\nserver_url = "https://h/p"\nmaster_key = "${CANARY}"\n'),
    minimal('[targets.t.thresholds]\ntimeout_s = "${CANARY}"\n'),
    minimal('regions = { app_server = "${CANARY}", database = 3 }\n'),
])
def test_no_error_message_contains_a_secret(tmp_path: Path, text: str) -> None:
    config_error(write(tmp_path, text))  # asserts the canary is absent and the message is one line


def test_canary_in_a_scheme_like_value_is_not_echoed(tmp_path: Path) -> None:
    path = write(tmp_path, db_uri("${CANARY}"))
    message = config_error(path, environ={"CANARY": "Canary:12345"})
    assert "canary" not in message.removeprefix(str(path)).lower()


# -- property: any table, any bytes -> a model or ONE line of ConfigError --------------------------------

_KEYS = ["source", "database", "parse", "source_parse", "files", "regions", "queries", "cloud_functions",
         "thresholds", "severity", "production", "probe_class", "app_source_dir", "name", "sandbox",
         "probe_grace_s", "probe_side_effects",
         "kind", "uri", "endpoint", "server_url", "app_id", "master_key", "adapter", "class", "where", "sort",
         "timeout_s", "diff_cap", "scale", "DB-01", "bogus", "a\nb", "  "]
_URIS = st.sampled_from(["mongodb://h/db", "mongodb://u:p@h:1/db", "mongodb+srv://c.example.net/app",
                         "mongodb://h:99999/db", "mongodb://[::1/db", "mongodb:///", "https://h/p",
                         "http://h:0/", "ftp://x", "${CANARY}", "${UNSET_VAR}", "mongodb://u:${CANARY}@h/",
                         "", "\x00", "mongodb://h/db\n"])
_SCALARS = st.one_of(
    st.booleans(), st.integers(min_value=-(2 ** 63), max_value=2 ** 63 - 1), st.integers(), st.floats(),
    st.text(max_size=20), _URIS, st.sampled_from(["blocker", "minor", "rest", "export", "gridfs", "s3"]),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.sampled_from(_KEYS) | st.text(max_size=8), inner, max_size=4)),
    max_leaves=12,
)


def _valid_base() -> dict[str, Any]:
    return {"source": {"uri": "mongodb://h/src"}, "database": {"uri": "mongodb://h/dst"}}


_TABLES = st.one_of(
    st.dictionaries(st.sampled_from(_KEYS), _VALUES, max_size=6),
    st.builds(lambda base, extra: {**base, **extra}, st.just(_valid_base()),
              st.dictionaries(st.sampled_from(_KEYS), _VALUES, max_size=3)),
)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return {"nan": "nan", "inf": "inf", "-inf": "-inf"}.get(repr(value), repr(value))
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # mostly a valid TOML basic string; else a TOML error
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{_toml_value(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"


def _toml_file(name: str, table: Any) -> str:
    return f"[targets]\n{_toml_value(name)} = {_toml_value(table)}\n"


def _outcome(path: Path) -> None:
    try:
        result = load_target(path, "t", {"CANARY": CANARY})
    except ConfigError as exc:
        message = str(exc)
        assert message and "\n" not in message and "\r" not in message, repr(message)
        assert CANARY not in message, message
    else:
        assert isinstance(result, Target | SandboxSpec)


@settings(max_examples=200, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=_TABLES | _VALUES, name=st.sampled_from(["t", "t", "other", "a\nb"]))
def test_random_target_tables_load_or_fail_in_one_line(tmp_path_factory: pytest.TempPathFactory,
                                                       table: Any, name: str) -> None:
    path = tmp_path_factory.mktemp("prop") / "targets.toml"
    path.write_text(_toml_file(name, table), encoding="utf-8")
    _outcome(path)


@settings(max_examples=200, derandomize=True, deadline=None)
@given(header=st.booleans(), data=st.binary(max_size=200) | st.text(max_size=120).map(str.encode))
def test_random_bytes_load_or_fail_in_one_line(tmp_path_factory: pytest.TempPathFactory, header: bool,
                                               data: bytes) -> None:
    path = tmp_path_factory.mktemp("bytes") / "targets.toml"
    path.write_bytes((b"[targets.t]\n" if header else b"") + data)
    _outcome(path)


def test_a_sandbox_target_may_run_its_source_on_the_older_pinned_parse_server(tmp_path: Path) -> None:
    path = write(tmp_path, '[targets.s]\nsandbox = { source_kind = "export", source_parse_server = "8.6.94" }\n'
                           '[targets.x]\nsandbox = { source_parse_server = "8" }\n')
    assert load_target(path, "s") == SandboxSpec("s", source_kind="export", source_parse_server="8.6.94")
    none = tmp_path / "none.toml"
    assert load_target(none, "demo", required=False).source_parse_server == node_env.CURRENT_PARSE
    assert load_target(none, "demo-skew", required=False) == SandboxSpec("demo-skew", source_parse_server="8.6.94")
    assert load_target(none, "demo-skew-rest", required=False) == \
        SandboxSpec("demo-skew-rest", source_kind="rest", source_parse_server="8.6.94")
    with pytest.raises(ConfigError, match=re.escape("source_parse_server: expected one of 9.10.0, 8.6.94, got '8'")):
        load_target(path, "x")


def test_the_parse_server_choices_are_the_pinned_package_directories() -> None:
    """The config's choices, the sandbox's pins and the package directories agree (and ship: package-data)."""
    choices = _ENUMS[("sandbox", "source_parse_server")]
    assert set(choices) == set(node_env.PARSE_SERVERS) and choices[0] == node_env.CURRENT_PARSE
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    for version, packages in node_env.PARSE_SERVERS.items():
        manifest = json.loads((packages.directory / "package.json").read_text())
        assert manifest["dependencies"]["parse-server"] == version
        lock = json.loads((packages.directory / "package-lock.json").read_text())["packages"]
        assert lock["node_modules/parse-server"]["version"] == version
        assert lock["node_modules/router"]["version"] == "2.2.0", f"{version}: router 2.3.0 breaks /batch"
        assert f"{packages.directory.name}/*.json" in package_data["cutover.sandbox"]


def test_a_sandbox_target_may_declare_its_source_kind(tmp_path: Path) -> None:
    path = write(tmp_path, '[targets.r]\nsandbox = { scale = 50, source_kind = "rest" }\n'
                           '[targets.x]\nsandbox = { source_kind = "ftp" }\n')
    assert load_target(path, "r") == SandboxSpec("r", scale=50, source_kind="rest")
    assert load_target(tmp_path / "none.toml", "demo-export", required=False).source_kind == "export"
    with pytest.raises(ConfigError, match="source_kind: expected one of mongodb, rest, export"):
        load_target(path, "x")
