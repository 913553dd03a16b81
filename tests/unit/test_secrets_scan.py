"""SEC-01 scan: literal secrets and MongoDB URIs with passwords in text files, masked; noise skipped."""
from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from cutover.errors import CouldNotVerify
from cutover.model import Database, Files, ParseServer, Source, Target
from cutover.redact import MASK
from cutover.sandbox.stack import APP_DIR
from cutover.security.secrets_scan import MAX_BYTES, scan_target, scan_text, scan_tree, secrets_of

MASTER = "3f9a1c0d5e7b44a2b8c6d0e1f2a3b4c5"
FILE_KEY = "fk-7d3e2a1b0c9f8e7d"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"


def make_target(app_dir: Path | str = "") -> Target:
    return Target(name="t", source=Source(uri="mongodb://s/a"), database=Database(uri="mongodb://d/a"),
                  parse=ParseServer(server_url="https://p/parse", app_id="a", master_key=MASTER, file_key=FILE_KEY),
                  files=Files(bucket="b", secret_access_key=AWS_SECRET), app_source_dir=str(app_dir))


@pytest.fixture
def app(tmp_path: Path) -> Path:
    root = tmp_path / "app"
    shutil.copytree(APP_DIR, root)
    return root


def test_demo_app_is_clean(app: Path) -> None:
    result = scan_target(make_target(app))
    assert result.findings == () and result.files_scanned >= 3


def test_planted_master_key_in_index_js_is_found_and_masked(app: Path) -> None:
    index = app / "index.js"
    index.write_text(index.read_text() + f"\nParse.masterKey = '{MASTER}';\n")
    (finding,) = scan_target(make_target(app)).findings
    assert (finding.path, finding.kind) == ("index.js", "master key")
    assert finding.line == len(index.read_text().splitlines())
    assert finding.excerpt == f"Parse.masterKey = '{MASK}';" and MASTER not in repr(finding)


def test_every_kind_is_found(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "prod.json").write_text(
        f'{{"fileKey": "{FILE_KEY}",\n "aws": "{AWS_SECRET}",\n'
        ' "db": "mongodb+srv://app:S3cr3tPw@cluster0.example.net/app"}\n')
    found = scan_tree(tmp_path, secrets_of(make_target())).findings
    assert [(f.path, f.line, f.kind) for f in found] == [
        ("config/prod.json", 1, "file key"), ("config/prod.json", 2, "AWS secret access key"),
        ("config/prod.json", 3, "MongoDB URI with password")]
    assert "S3cr3tPw" not in found[2].excerpt and "mongodb+srv://app:***@cluster0" in found[2].excerpt


@pytest.mark.parametrize("uri", [
    "mongodb://app:${DB_PASSWORD}@h/app", "mongodb://app:<password>@h/app", "mongodb://app:{{pw}}@h/app",
    "mongodb://app:***@h/app", "mongodb://h1,h2/app", "mongodb://user@h/app", "mongodb://app:$PW@h/app",
])
def test_placeholders_and_passwordless_uris_are_not_secrets(uri: str) -> None:
    assert list(scan_text(f"const uri = '{uri}';", "x.js", {})) == []


def test_node_modules_git_binary_and_huge_files_are_skipped(tmp_path: Path) -> None:
    for folder in ("node_modules/parse", ".git/objects"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "leak.js").write_text(MASTER)
    (tmp_path / "logo.png").write_bytes(b"\x89PNG\0\0" + MASTER.encode())
    (tmp_path / "dump.sql").write_bytes(MASTER.encode() + b"\n" + b"x" * MAX_BYTES)
    (tmp_path / "ok.js").write_text("// nothing here\n")
    result = scan_tree(tmp_path, secrets_of(make_target()))
    assert result.findings == () and result.files_scanned == 1
    assert result.skipped == {"node_modules": 1, ".git": 1, "binary": 1, "huge": 1}


def test_short_or_empty_values_are_not_searched() -> None:
    target = dataclasses.replace(make_target(), parse=ParseServer(server_url="x", app_id="a", master_key="abc"))
    assert "master key" not in secrets_of(target)


def test_long_lines_are_trimmed(tmp_path: Path) -> None:
    (tmp_path / "min.js").write_text("a" * 500 + MASTER + "b" * 500)
    (finding,) = scan_tree(tmp_path, {"master key": MASTER}).findings
    assert len(finding.excerpt) == 160 and finding.excerpt.endswith("...")


def test_missing_directory_or_none_declared_cannot_be_verified(tmp_path: Path) -> None:
    with pytest.raises(CouldNotVerify, match="does not exist"):
        scan_target(make_target(tmp_path / "nope"))
    with pytest.raises(CouldNotVerify, match="no app_source_dir"):
        scan_target(make_target())
