"""Every value of a targets file is checked when the file is read (issue 29): ranges, names, regions, buckets,
URIs, paths, all missing ${VAR}s at once, literal secrets warned about. Each case is one ConfigError line
naming the file, the key, the rule and what was found."""
from __future__ import annotations

import dataclasses
import time
import typing
import warnings
from pathlib import Path

import pytest

from cutover import model
from cutover.errors import ConfigError
from cutover.ranges import range_of
from cutover.run.config import SandboxSpec, load_target

BASE = """
[targets.t]
source = { uri = "mongodb://src.example.com/src" }
database = { uri = "mongodb://db.example.com/app" }
"""
TH = "[targets.t.thresholds]\n"
DB = '[targets.t]\nsource = {{ uri = "mongodb://h/s" }}\ndatabase = {{ uri = "{}" }}\n'
FILES = '[targets.t.files]\nadapter = "s3"\n'


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "targets.toml"
    path.write_text(text, encoding="utf-8")
    return path


def error(tmp_path: Path, text: str, name: str = "t", environ: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        load_target(write(tmp_path, text), name, environ or {})
    message = str(info.value)
    assert "\n" not in message and len(message) <= 1000, message
    return message


def loads(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> model.Target:
    target = load_target(write(tmp_path, text), "t", environ or {})
    assert isinstance(target, model.Target)
    return target


@pytest.mark.parametrize(("extra", "expected"), [
    (TH + "timeout_s = 0\n", "thresholds.timeout_s: expected seconds in (0, 3600], got 0"),
    (TH + "timeout_s = -5\n", "thresholds.timeout_s: expected seconds in (0, 3600], got -5"),
    (TH + "timeout_s = 1e300\n", "thresholds.timeout_s: expected seconds in (0, 3600], got 1e+300"),
    (TH + "timeout_s = 3601\n", "thresholds.timeout_s: expected seconds in (0, 3600], got 3601"),
    (TH + "file_concurrency = 0\n", "thresholds.file_concurrency: expected an integer in [1, 1024], got 0"),
    (TH + "content_sample_share = 2.0\n", "thresholds.content_sample_share: expected a share in [0, 1], got 2"),
    (TH + "old_sdk_share = -0.1\n", "thresholds.old_sdk_share: expected a share in [0, 1], got -0.1"),
    (TH + "diff_cap = 0\n", "thresholds.diff_cap: expected an integer in [1, 10^6], got 0"),
    (TH + "partition_docs = 99999999999\n", "thresholds.partition_docs: expected documents in [1, 10^6], "
                                            "got 99,999,999,999"),
    (TH + "storage_headroom = 0.5\n", "thresholds.storage_headroom: expected a factor in [1, 1000], got 0.5"),
    ("[targets.t.scans]\naggregation_timeout_s = -1\n", "scans.aggregation_timeout_s: expected seconds in [0, 86400]"),
    ("[targets.t.scans]\nmax_docs_per_s = -3\n", "scans.max_docs_per_s: expected documents per second in [0, 10^9]"),
    ('[[targets.t.cloud_functions]]\nname = "f"\nexpect_status = 42\n',
     "cloud_functions[0].expect_status: expected an HTTP status in [100, 599], got 42"),
])
def test_numbers_outside_their_range(tmp_path: Path, extra: str, expected: str) -> None:
    assert f"targets.toml: targets.t.{expected}" in error(tmp_path, BASE + extra)


def test_every_number_of_the_model_has_a_range() -> None:
    """A new numeric key cannot skip validation: its field must carry its range."""
    classes = [model.Source, model.Database, model.ParseServer, model.Files, model.Query, model.CloudFunction,
               model.Thresholds, model.Scans, model.SandboxLive, model.Target, SandboxSpec]
    unranged = [f"{cls.__name__}.{f.name}" for cls in classes for f in dataclasses.fields(cls)
                if typing.get_type_hints(cls)[f.name] in (int, float) and range_of(f.metadata) is None]
    assert unranged == []


def test_sandbox_live_values_and_their_sum(tmp_path: Path) -> None:
    text = "[targets.t]\nsandbox = { live = { rate = 0 } }\n"
    assert "targets.t.sandbox.live.rate: expected writes per second in (0, 1000], got 0" in error(tmp_path, text)
    text = "[targets.t]\nsandbox = { live = { insert_share = 0.7, delete_share = 0.6 } }\n"
    assert "insert_share + delete_share is 1.3, more than 1" in error(tmp_path, text)


@pytest.mark.parametrize(("text", "expected"), [
    ('[targets.t]\nsource = { uri = "mongodb://h/s" }\ndatabase = { uri = "" }\n',
     "targets.t.database.uri: empty; a value is required"),
    (DB.format('mongodb+srv://cluster.example.net:27017/app'),
     "targets.t.database.uri: mongodb+srv:// takes one host name and no port"),
    (DB.format('mongodb+srv://a.example.net,b.example.net/app'),
     "targets.t.database.uri: mongodb+srv:// takes one host name and no port"),
    ('[targets.t]\nsource = { uri = "mongodb://h/s" }\ndatabase = { uri = "mongodb://u:p@ss@h/app" }\n',
     "targets.t.database.uri: the user name or password holds '@' unencoded, so the host is misread; percent-encode"),
    ('[targets.t]\nsource = { uri = "mongodb://h/s" }\ndatabase = { uri = "mongodb://u:pa/ss@h/app" }\n',
     "holds '/' unencoded, so the host is misread; percent-encode the user name and password"),
    ('[targets.t]\nsource = { uri = "mongodb://u:a:b@h/s" }\ndatabase = { uri = "mongodb://h/app" }\n',
     "targets.t.source.uri: the user name or password holds ':' unencoded"),
    ('[targets.t]\nsource = { uri = "mongodb://h/s" }\ndatabase = { uri = "mongodb://h/app?tls=maybe" }\n',
     "targets.t.database.uri: option 'tls': The value of tls must be 'true' or 'false' (the driver would ignore it)"),
    ('[targets.t]\nsource = { uri = "mongodb://h/s" }\ndatabase = { uri = "mongodb://h/app?retryWritez=true" }\n',
     "targets.t.database.uri: option 'retryWritez': Unknown option"),
    (DB.format('mongodb+srv://c.example.net/app?tls=maybe'),
     "targets.t.database.uri: option 'tls'"),
])
def test_uri_rules(tmp_path: Path, text: str, expected: str) -> None:
    message = error(tmp_path, text)
    assert expected in message
    assert "ss@" not in message and "pa/ss" not in message   # a password is never shown


def test_uris_the_rules_accept(tmp_path: Path) -> None:
    for uri in ("mongodb://u:p%40ss%2Fw@h1:27017,h2:27018/app?replicaSet=rs0&authSource=admin",
                "mongodb+srv://u:p%3Aw@cluster0.example.net/app?retryWrites=true&w=majority&appName=Cluster0",
                "mongodb://h:27017/app@2",   # an '@' in a database name is no credential
                "mongodb://%2Ftmp%2Fmongodb-27017.sock/app", "mongodb://[::1]:27017/app?compressors=zstd,snappy"):
        text = f'[targets.t]\nsource = {{ uri = "mongodb://h/s" }}\ndatabase = {{ uri = "{uri}" }}\n'
        with warnings.catch_warnings(record=True) as seen:   # the driver's own warnings are the client's to give
            warnings.simplefilter("always")
            assert loads(tmp_path, text).database.uri == uri
        assert [str(w.message) for w in seen] == []


def test_an_empty_variable_is_refused_like_a_missing_one(tmp_path: Path) -> None:
    text = '[targets.t]\nsource = { uri = "mongodb://h/s" }\ndatabase = { uri = "${DB_URI}" }\n'
    assert ("targets.t.database.uri: environment variable DB_URI is set but empty; export it or edit the file"
            in error(tmp_path, text, environ={"DB_URI": ""}))


def test_every_missing_variable_is_named_in_one_message(tmp_path: Path) -> None:
    names = [f"VAR_{i}" for i in range(8)]
    text = (f'[targets.t]\nsource = {{ uri = "${{{names[0]}}}" }}\ndatabase = {{ uri = "${{{names[1]}}}" }}\n'
            f'[targets.t.parse]\nserver_url = "${{{names[2]}}}"\napp_id = "${{{names[3]}}}"\n'
            f'master_key = "${{{names[4]}}}"\nrest_key = "${{{names[5]}}}"\n'
            f'[targets.t.files]\naccess_key_id = "${{{names[6]}}}"\nsecret_access_key = "${{{names[7]}}}-x"\n')
    message = error(tmp_path, text, environ={"VAR_7": ""} | {})
    assert "targets.t: 7 environment variables are not set: VAR_0 (source.uri), VAR_1 (database.uri)" in message
    assert "VAR_6 (files.access_key_id); 1 environment variable is set but empty: VAR_7 " \
           "(files.secret_access_key); export them or edit the file" in message


def test_literal_secrets_draw_a_warning_naming_the_key(tmp_path: Path) -> None:
    text = (BASE.replace("mongodb://db.example.com/app", "mongodb://app:hunter2@db.example.com/app")
            + '[targets.t.parse]\nserver_url = "https://api.example.com/parse"\napp_id = "a"\n'
              'master_key = "mk-literal"\nrest_key = "${REST_KEY}"\n'
              '[targets.t.files]\naccess_key_id = "AKIAEXAMPLE"\nsecret_access_key = "aws-literal"\n')
    warnings: list[str] = []
    load_target(write(tmp_path, text), "t", {"REST_KEY": "r"}, warnings=warnings)
    assert [w.split(": ", 1)[1].split(":")[0] for w in warnings] == [
        "targets.t.database.uri", "targets.t.parse.master_key", "targets.t.files.secret_access_key"]
    assert "write it as ${T_PARSE_MASTER_KEY} and export that variable" in warnings[1]
    assert "user:${T_DATABASE_URI_PASSWORD}@host" in warnings[0]
    assert not any(secret in " ".join(warnings) for secret in ("hunter2", "mk-literal", "aws-literal"))


def test_no_warning_when_every_secret_is_a_reference(tmp_path: Path) -> None:
    text = (BASE.replace("mongodb://db.example.com/app", "mongodb://app:${DB_PASS}@db.example.com/app")
            + '[targets.t.parse]\nserver_url = "https://h/parse"\napp_id = "a"\nmaster_key = "${MK}"\n')
    warnings: list[str] = []
    load_target(write(tmp_path, text), "t", {"DB_PASS": "p", "MK": "m"}, warnings=warnings)
    assert warnings == []


@pytest.mark.parametrize(("extra", "expected"), [
    ('regions = { app_server = "eu-west-1" }\n',
     "regions.app_server: 'eu-west-1': expected provider:region (aws:eu-west-1"),
    ('regions = { database = "aws:mars-1" }\n', "regions.database: 'mars-1' is not an AWS region"),
    ('regions = { database = "aws:eu-west-1a" }\n', "regions.database: 'eu-west-1a' is an availability zone"),
    ('regions = { database = "asw:eu-west-1" }\n', "regions.database: unknown provider 'asw'; did you mean 'aws'?"),
    ('regions = { database = "gcp:moon" }\n', "regions.database: 'moon' is not a GCS location"),
    ('regions = { db = "aws:eu-west-1" }\n', "regions.db: unknown component; known: app_server, clients, database"),
    ('regions = { databse = "aws:eu-west-1" }\n', "regions.databse: unknown component; did you mean 'database'?"),
    (FILES + 'region = "Europe"\n', "files.region: 'Europe': AWS regions are lowercase"),
    (FILES + 'region = "EU"\n', "files.region: 'EU' is S3's legacy name of eu-west-1"),
    ('[targets.t.files]\nadapter = "gcs"\nregion = "mars"\n', "files.region: 'mars' is not a GCS location"),
])
def test_region_rules(tmp_path: Path, extra: str, expected: str) -> None:
    assert f"targets.t.{expected}" in error(tmp_path, BASE + extra)


def test_regions_the_rules_accept(tmp_path: Path) -> None:
    extra = ('regions = { app_server = "aws:eu-west-1", database = "gcp:europe-west1", file_store = "azure:westeurope",'
             ' clients = "internet" }\n[targets.t.files]\nadapter = "gcs"\nregion = "EUROPE-WEST1"\n')
    assert loads(tmp_path, BASE + extra).regions["clients"] == "internet"
    assert loads(tmp_path, BASE + 'regions = { database = "onprem:dc-1" }\n').regions["database"] == "onprem:dc-1"


@pytest.mark.parametrize(("extra", "expected"), [
    (FILES + 'bucket = "My_Bucket!"\n', "files.bucket: 'My_Bucket!' breaks S3's bucket naming rules"),
    (FILES + 'bucket = "s3://my-files"\n', "files.bucket: 's3://my-files': the bucket's name alone, without a scheme"),
    (FILES + 'bucket = "my-files/uploads"\n', "files.bucket: 'my-files/uploads': the bucket's name alone; a path"),
    (FILES + 'bucket = "Legacy_Files"\nregion = "eu-west-1"\n', "files.bucket: 'Legacy_Files' breaks S3's"),
    (FILES + 'bucket = "ab"\n', "files.bucket: 'ab' breaks S3's bucket naming rules"),
    (FILES + 'bucket = "192.168.1.1"\n', "files.bucket: '192.168.1.1' breaks S3's bucket naming rules"),
    ('[targets.t.files]\nadapter = "gcs"\nbucket = "goog-files"\n', "files.bucket: 'goog-files': GCS refuses"),
    ('[targets.t.files]\nadapter = "gcs"\nbucket = "UPPER"\n', "files.bucket: 'UPPER' breaks GCS's bucket naming"),
    (FILES + 'bucket = "ok-files"\nsource_bucket = "bad bucket"\n', "files.source_bucket: 'bad bucket' breaks S3's"),
])
def test_bucket_naming_rules(tmp_path: Path, extra: str, expected: str) -> None:
    message = error(tmp_path, BASE + extra)
    assert f"targets.t.{expected}" in message
    assert "^" not in message and len(message) < 400   # not botocore's regular expression


def test_buckets_the_rules_accept(tmp_path: Path) -> None:
    assert loads(tmp_path, BASE + FILES + 'bucket = "my.files-2016"\n').files is not None
    # a legacy us-east-1 name (uppercase, '_') is a real bucket of a Parse-era app
    assert loads(tmp_path, BASE + FILES + 'bucket = "Parse_Files"\nregion = "us-east-1"\n').files is not None
    compatible = FILES + 'bucket = "Any_Name"\nendpoint_url = "http://minio:9000"\nregion = "minio-1"\n'
    assert loads(tmp_path, BASE + compatible).files is not None


@pytest.mark.parametrize(("extra", "expected"), [
    ('probe_class = "_User"\n', "probe_class: '_User' is a Parse system class (names beginning with '_' are "
                                "Parse Server's own): the probes need a class of their own, e.g. CutoverProbe"),
    ('probe_class = "my probe"\n', "probe_class: 'my probe' is not a Parse class name"),
    ('[[targets.t.queries]]\nclass = "GameScore"\nsort = { score = 2 }\n',
     "queries[0].sort.score: expected 1 (ascending) or -1 (descending), got 2"),
    ('[targets.t.parse]\nserver_url = "https://h/p"\napp_id = "a"\nhealth_path = "health"\n',
     "parse.health_path: 'health' must begin with '/'"),
    ('[targets.t.parse]\nserver_url = "https://h/p"\napp_id = ""\n', "parse.app_id: empty; a value is required"),
    ('app_source_dir = "no/such/dir"\n', "app_source_dir: no such directory: 'no/such/dir' (a relative path is read"),
    ('[targets.t.database]\nuri = "mongodb://h/app"\ntls_ca_file = "/no/ca.pem"\n',
     "database.tls_ca_file: no such file: '/no/ca.pem'"),
])
def test_names_and_paths(tmp_path: Path, extra: str, expected: str) -> None:
    text = BASE.replace('database = { uri = "mongodb://db.example.com/app" }\n', "") if "[targets.t.database]" \
        in extra else BASE
    assert f"targets.t.{expected}" in error(tmp_path, text + extra)


@pytest.mark.parametrize("name", ["../../escaped", "a/b", "..", ".hidden", "x\\y", "-rf", "a" * 101])
def test_a_target_name_must_be_safe_as_a_directory_name(tmp_path: Path, name: str) -> None:
    text = BASE.replace("[targets.t]", f"[targets.{name!r}]".replace("'", '"'))
    message = error(tmp_path, text, name=name)
    assert "cannot name a directory under the reports directory" in message


def test_an_unknown_target_in_a_huge_file_stays_a_short_line(tmp_path: Path) -> None:
    names = [f"target-{i:06d}" for i in range(30000)]
    text = "".join(f'[targets.{n}]\nsandbox = true\n' for n in names)
    started = time.monotonic()
    message = error(tmp_path, text, name="target-01234")
    assert time.monotonic() - started < 20
    assert "unknown target 'target-01234'; did you mean 'target-001234'?" in message
    assert "known targets: target-000000, target-000001" in message and "... (30,000 in all)" in message
    assert len(message) < 600
