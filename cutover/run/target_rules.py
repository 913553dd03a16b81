"""The rules a target's values must follow beyond their types and ranges: names, regions, buckets, paths, and
the keys that depend on each other. Checked on the built model, before any connection.

:func:`problems` yields ``"dotted.key: what is wrong"`` phrases (keys relative to ``targets.NAME``); the loader
names the file and raises the first.
"""
from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

from cutover import model
from cutover.redact import cut
from cutover.run import cloud_names
from cutover.run.criteria import CRITERIA, SEVERITIES

PROBE_SIDE_EFFECTS = ("undo", "report")
_TARGET_NAME = re.compile(r"\w[\w.-]{0,99}")
_CLASS_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_ANY_CLASS = re.compile(r"_?[A-Za-z][A-Za-z0-9_]*")


def target_name(name: str) -> str:
    """'' when ``name`` is safe as a directory name under the reports directory, else why not."""
    if _TARGET_NAME.fullmatch(name) and name not in (".", ".."):
        return ""
    return (f"target name {cut(name)!r} cannot name a directory under the reports directory: use letters, digits, "
            "'.', '-' and '_' (at most 100, beginning with a letter, digit or '_')")


def problems(target: model.Target) -> Iterator[str]:
    yield from _severity(target)
    yield from _source(target)
    yield from _database(target)
    yield from _probes(target)
    yield from _queries(target)
    yield from _regions(target)
    if target.files is not None:
        yield from _files(target.files)
    for key, server in (("parse", target.parse), ("source_parse", target.source_parse)):
        if server is not None:
            yield from _server(key, server)
    if target.thresholds.health_interval_s > target.thresholds.health_window_s:
        yield (f"thresholds.health_interval_s: {target.thresholds.health_interval_s:g} s is longer than "
               f"health_window_s ({target.thresholds.health_window_s:g} s); the window needs at least two samples")
    if target.app_source_dir:
        yield from _path("app_source_dir", target.app_source_dir, directory=True)


def _severity(target: model.Target) -> Iterator[str]:
    for key, severity in target.severity.items():
        if key not in CRITERIA:
            yield f"severity.{key}: unknown criterion{_close(key, CRITERIA)}"
        elif severity not in SEVERITIES:
            yield f"severity.{key}: expected one of {', '.join(SEVERITIES)}, got {_shown(severity)}"


def _source(target: model.Target) -> Iterator[str]:
    src = target.source
    required = {"mongodb": ("uri", src.uri), "rest": ("endpoint", src.endpoint)}
    key, value = required.get(src.kind, ("", "x"))
    if not value:
        yield f"source.{key}: required when source.kind is '{src.kind}'"
    if src.kind == "export":
        yield from _export(src)
    if src.kind == "rest" and not (src.app_id and src.master_key):
        yield "source: kind 'rest' reads the source with its app_id and master_key: set both"


def _export(src: model.Source) -> Iterator[str]:
    if bool(src.export_dir) == bool(src.export_file):
        yield ("source: source.kind is 'export': set export_dir (the unpacked export's folder) or export_file (the "
               "export's .zip), exactly one of them")
    elif src.export_file and not src.export_file.lower().endswith(".zip"):
        yield (f"source.export_file: expected the export's .zip file, got {_shown(src.export_file)}; for an "
               "unpacked export set export_dir to its folder")
    elif src.export_dir:
        yield from _path("source.export_dir", src.export_dir, directory=True)
    else:
        yield from _path("source.export_file", src.export_file, directory=False)


def _database(target: model.Target) -> Iterator[str]:
    gridfs_uri = target.files.gridfs_uri if target.files is not None else ""
    for key, uri in (("database.uri", target.database.uri), ("source.uri", target.source.uri),
                     ("files.gridfs_uri", gridfs_uri)):   # each is opened at its URI's default database
        if uri and not urlsplit(uri).path.strip("/"):
            yield f"{key}: name the database in the URI path (mongodb://host/DBNAME)"
    if target.database.tls_ca_file:
        yield from _path("database.tls_ca_file", target.database.tls_ca_file, directory=False)
    if target.database.app_user:
        yield from _app_user(target.database)


_DB_NAME = re.compile(r'[^/\\. "$*<>:|?]{1,63}|\$external')


def _app_user(database: model.Database) -> Iterator[str]:
    name, db = database.app_user_parts()
    if not name or not _DB_NAME.fullmatch(db):
        yield (f"database.app_user: expected NAME@AUTHDB, the user of the app's Parse Server databaseURI and the "
               f"database it authenticates against (its authSource; Atlas: admin), e.g. \"parse@admin\"; got "
               f"{_shown(database.app_user)}")


def _probes(target: model.Target) -> Iterator[str]:
    if target.probe_side_effects not in PROBE_SIDE_EFFECTS:
        yield (f"probe_side_effects: expected one of {', '.join(PROBE_SIDE_EFFECTS)}, "
               f"got {_shown(target.probe_side_effects)}")
    cls = target.probe_class
    if cls.startswith("_"):
        yield (f"probe_class: {_shown(cls)} is a Parse system class (names beginning with '_' are Parse Server's "
               "own): the probes need a class of their own, e.g. CutoverProbe")
    elif not _CLASS_NAME.fullmatch(cls):
        yield f"probe_class: {_shown(cls)} is not a Parse class name (a letter, then letters, digits and '_')"


def _queries(target: model.Target) -> Iterator[str]:
    for i, query in enumerate(target.queries):
        if not _ANY_CLASS.fullmatch(query.cls):
            yield f"queries[{i}].class: {_shown(query.cls)} is not a Parse class name"
        for field, order in query.sort.items():
            if order not in (1, -1):
                yield f"queries[{i}].sort.{field}: expected 1 (ascending) or -1 (descending), got {order}"


def _regions(target: model.Target) -> Iterator[str]:
    for component, text in target.regions.items():
        if component not in model.REGION_COMPONENTS:
            yield f"regions.{component}: unknown component{_close(component, model.REGION_COMPONENTS)}"
        elif problem := cloud_names.component_region(text):
            yield f"regions.{component}: {problem}"


def _files(files: model.Files) -> Iterator[str]:
    if bool(files.access_key_id) != bool(files.secret_access_key):
        given, missing = (("access_key_id", "secret_access_key") if files.access_key_id else
                          ("secret_access_key", "access_key_id"))
        yield (f"files.{missing}: empty while files.{given} is set; set both, or neither for the default AWS "
               "credential chain (environment, shared credentials file, instance role)")
    aws = files.adapter == "s3" and not files.endpoint_url
    if files.region and files.adapter != "gridfs":
        problem = (cloud_names.aws_region(files.region) if aws else
                   cloud_names.gcs_location(files.region) if files.adapter == "gcs" else "")
        if problem:
            yield f"files.region: {problem}"
    for key, bucket, store, compatible in (
            ("bucket", files.bucket, files.adapter, bool(files.endpoint_url)),
            ("source_bucket", files.source_bucket, files.source_adapter or "s3",
             bool(files.source_endpoint_url or files.endpoint_url))):
        if not bucket or store == "gridfs":
            continue
        problem = (cloud_names.gcs_bucket(bucket) if store == "gcs" else
                   cloud_names.s3_bucket(bucket, files.region if key == "bucket" else "", compatible))
        if problem:
            yield f"files.{key}: {problem}"


def _server(key: str, server: model.ParseServer) -> Iterator[str]:
    if not server.health_path.startswith("/"):
        yield f"{key}.health_path: {_shown(server.health_path)} must begin with '/' (it follows server_url)"
    if server.ca_file:
        yield from _path(f"{key}.ca_file", server.ca_file, directory=False)


def _path(key: str, value: str, directory: bool) -> Iterator[str]:
    path = Path(value).expanduser()
    kind = "directory" if directory else "file"
    if not (path.is_dir() if directory else path.is_file()):
        where = "" if path.is_absolute() else f" (a relative path is read from the working directory {Path.cwd()})"
        state = f"not a {kind}" if path.exists() else f"no such {kind}"
        yield f"{key}: {state}: {_shown(value)}{where}"


def _close(word: str, names: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, sorted(names), n=1)
    return f"; did you mean '{close[0]}'?" if close else f"; known: {', '.join(sorted(names))}"


def _shown(value: str) -> str:
    """A value as a message shows it: quoted, cut at 60 characters."""
    return repr(cut(value))
