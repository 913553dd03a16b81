"""The archived run: redaction of every written file, and a manifest that detects any change."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from cutover.redact import MASK
from cutover.run.run_directory import MANIFEST, redact_tree, sha256_of, verify_manifest, write_json, write_manifest

SECRET = 'Zq9&<"sec>ret\\7'


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    run = tmp_path / "run"
    (run / "sub").mkdir(parents=True)
    write_json(run / "record.json", {"tests": [{"id": "a", "outcome": "passed"}]})
    (run / "report.html").write_text("<html>ok</html>\n", encoding="utf-8")
    (run / "sub" / "data.bin").write_bytes(bytes(range(256)))
    return run


def test_manifest_lists_every_file_with_its_sha256(run_dir: Path) -> None:
    write_manifest(run_dir, {"run_id": "r1"})
    manifest = json.loads((run_dir / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["run_id"] == "r1"
    assert set(manifest["files"]) == {"record.json", "report.html", "sub/data.bin"}
    for rel, entry in manifest["files"].items():
        assert entry["sha256"] == sha256_of(run_dir / rel)
        assert entry["bytes"] == (run_dir / rel).stat().st_size
    assert verify_manifest(run_dir) == []


def test_sha256_of_known_content(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"abc")
    assert sha256_of(path) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_one_altered_byte_is_detected(run_dir: Path) -> None:
    write_manifest(run_dir, {})
    data = bytearray((run_dir / "sub" / "data.bin").read_bytes())
    data[100] ^= 1
    (run_dir / "sub" / "data.bin").write_bytes(bytes(data))
    assert verify_manifest(run_dir) == ["sub/data.bin: changed (sha256 differs from the manifest)"]


def test_an_unlisted_file_is_detected(run_dir: Path) -> None:
    write_manifest(run_dir, {})
    (run_dir / "sub" / "extra.txt").write_text("added later", encoding="utf-8")
    assert verify_manifest(run_dir) == ["sub/extra.txt: not in the manifest"]


def test_a_deleted_file_is_detected(run_dir: Path) -> None:
    write_manifest(run_dir, {})
    (run_dir / "report.html").unlink()
    assert verify_manifest(run_dir) == ["report.html: missing"]


@pytest.mark.parametrize("content", ["{not json", "[]", '{"files": 3}', '{"files": {"record.json": 1}}'])
def test_a_broken_manifest_is_reported_not_raised(run_dir: Path, content: str) -> None:
    (run_dir / MANIFEST).write_text(content, encoding="utf-8")
    problems = verify_manifest(run_dir)
    assert problems and all(isinstance(p, str) for p in problems)


def test_missing_manifest_is_reported(run_dir: Path) -> None:
    assert verify_manifest(run_dir)[0].endswith("unreadable ([Errno 2] No such file or directory: "
                                                f"'{run_dir / MANIFEST}')")


def test_redact_tree_masks_secrets_in_text_files_and_keeps_binary(run_dir: Path) -> None:
    write_json(run_dir / "record.json", {"message": f"found {SECRET} in mongodb://u:pw1234@h/db"})
    (run_dir / "junit.xml").write_text("<x>Zq9&amp;&lt;&quot;sec&gt;ret\\7</x>\r\n", encoding="utf-8")
    (run_dir / "report.html").write_text('data="Zq9&amp;&lt;\\&#34;sec&gt;ret\\\\7"', encoding="utf-8")
    binary = (run_dir / "sub" / "data.bin").read_bytes()
    assert redact_tree(run_dir, [SECRET]) == 3
    record = json.loads((run_dir / "record.json").read_text(encoding="utf-8"))
    assert record["message"] == f"found {MASK} in mongodb://u:{MASK}@h/db"
    assert (run_dir / "junit.xml").read_bytes() == f"<x>{MASK}</x>\r\n".encode()
    assert (run_dir / "report.html").read_text(encoding="utf-8") == f'data="{MASK}"'
    assert (run_dir / "sub" / "data.bin").read_bytes() == binary


def test_redact_tree_leaves_clean_files_untouched(run_dir: Path) -> None:
    before = {p: p.read_bytes() for p in run_dir.rglob("*") if p.is_file()}
    assert redact_tree(run_dir, ["nowhere-to-be-found"]) == 0
    assert {p: p.read_bytes() for p in run_dir.rglob("*") if p.is_file()} == before


def test_redact_then_manifest_verifies(run_dir: Path) -> None:
    (run_dir / "log.txt").write_text(f"secret {SECRET}\n", encoding="utf-8")
    redact_tree(run_dir, [SECRET])
    write_manifest(run_dir, {})
    assert verify_manifest(run_dir) == []
    assert all(SECRET.encode() not in p.read_bytes() for p in run_dir.rglob("*") if p.is_file())
