"""Every form of export a team holds (tests/fixtures/exports): Parse.com's zip read in place and unpacked,
Back4App's (U+A789 in relation names), the Dashboard's per-class export in parts; every stand-in for ':'."""
from __future__ import annotations

import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest

from cutover.data.export_files import export_files
from cutover.data.export_layout import layout
from cutover.data.export_reader import ExportReader
from cutover.data.sources import ExportSource
from cutover.errors import ConfigError, UnexpectedAnswer
from tests.fixtures.exports import parse_com_2014 as parse_com

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "exports"
PARSE_COM_CLASSES = ["Article", "Tag", "_Installation", "_Role", "_User"]


def read_all(location: Path) -> dict[str, Any]:
    """What a reader makes of an export: classes, counts, storage documents, relation rows, schema relations."""
    reader, source = ExportReader(location), ExportSource(location)
    try:
        classes = source.class_names()
        docs = {cls: list(reader.documents(cls, None, None)) for cls in classes}
        rows = {f"{cls}.{name}": sorted(reader.relation_rows(cls, name, [str(d["_id"]) for d in docs[cls]]))
                for cls, schema in reader.schemas().items() for name, _ in schema.relations()}
        return {"classes": classes, "counts": {c: source.count(c) for c in classes}, "docs": docs, "rows": rows}
    finally:
        reader.close()


def test_parse_com_zip_is_read_in_place_exactly_as_its_unpacked_folder(tmp_path: Path) -> None:
    archive = parse_com.write_zip(tmp_path / "newsroom.zip")
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(tmp_path / "unpacked")
    in_place, unpacked = read_all(archive), read_all(tmp_path / "unpacked")
    assert in_place == unpacked
    assert in_place["classes"] == PARSE_COM_CLASSES
    assert in_place["counts"] == {"Article": 3, "Tag": 3, "_Installation": 2, "_Role": 1, "_User": 3}
    assert in_place["rows"] == {"Article.tags": sorted(parse_com.TAGGED), "_Role.users": sorted(parse_com.EDITOR_USERS)}
    ada = next(d for d in in_place["docs"]["_User"] if d["_id"] == parse_com.ADA)
    assert ada["_hashed_password"] == parse_com.USERS[0]["bcryptPassword"]
    assert ada["_session_token"] == parse_com.USERS[0]["sessionToken"] and "bcryptPassword" not in ada
    higgs = next(d for d in in_place["docs"]["Article"] if d["_id"] == parse_com.HIGGS)
    assert (higgs["_p_author"], higgs["cover"], "tags" in higgs) == (f"_User${parse_com.ADA}", parse_com.COVER, False)


def test_a_zip_of_a_folder_with_archiver_litter_is_the_same_export(tmp_path: Path) -> None:
    archive = parse_com.write_zip(tmp_path / "newsroom.zip", folder="Newsroom/")
    with zipfile.ZipFile(archive, "a") as zf:
        zf.writestr("__MACOSX/Newsroom/._Article.json", b"\x00\x05\x16\x07")
        zf.writestr("Newsroom/.DS_Store", b"\x00")
        zf.writestr("Newsroom/README.txt", "exported by Parse")
    assert read_all(archive) == read_all(parse_com.write_zip(tmp_path / "flat.zip"))


def test_a_utf8_member_name_without_the_zip_utf8_flag_keeps_its_lookalike_colon(tmp_path: Path) -> None:
    name = "_Join\ua789tags\ua789Article.json"
    archive = tmp_path / "b4a.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("Article.json", '{"results": [{"objectId": "a1"}]}')
        zf.writestr(name, '{"results": [{"owningId": "a1", "relatedId": "t1"}]}')
    raw = bytearray(archive.read_bytes())
    for signature, flags in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):    # local headers, central directory
        at = raw.find(signature)
        while at >= 0:
            raw[at + flags + 1] &= 0xF7           # bit 11 of the general purpose flags: the name is UTF-8
            at = raw.find(signature, at + 4)
    archive.write_bytes(raw)
    with zipfile.ZipFile(archive) as zf:
        assert name not in zf.namelist()      # Python reads the unflagged name as CP437
    assert [f.name for f in export_files(archive)] == ["Article.json", name]
    assert list(layout(export_files(archive)).relations) == [("Article", "tags")]


def test_a_damaged_zip_member_is_one_error_naming_the_file(tmp_path: Path) -> None:
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:      # stored, so the text is in the archive as written
        zf.writestr("Article.json", '{"results": [{"objectId": "a1", "title": "intact"}]}')
    archive.write_bytes(archive.read_bytes().replace(b"intact", b"broken"))   # the CRC no longer matches
    with pytest.raises(UnexpectedAnswer, match=r"export file Article\.json is unreadable: Bad CRC-32"):
        ExportSource(archive).count("Article")


def test_back4app_export_relation_file_named_with_u_a789_is_the_relation(tmp_path: Path) -> None:
    found = read_all(FIXTURES / "back4app_2022")
    assert found["classes"] == ["Article", "Tag", "_User"]
    assert found["rows"] == {"Article.tags": [("Qe8wRt5yUi", "Hx4dGq7sTe"), ("Qe8wRt5yUi", "Jm9pFw2cUo"),
                                              ("Zx1cVb7nMa", "Hx4dGq7sTe"), ("Zx1cVb7nMa", "Lq6tZr3bNi")]}
    seps = layout(export_files(FIXTURES / "back4app_2022")).separators
    assert seps == {"_Join\ua789tags\ua789Article.json": "U+A789 MODIFIER LETTER COLON (Back4App's exports)"}
    assert all("_hashed_password" not in d for d in found["docs"]["_User"])


def test_dashboard_parts_are_one_class_and_its_marker_is_no_field(tmp_path: Path) -> None:
    found = read_all(FIXTURES / "dashboard_parts")
    assert found["classes"] == ["Comment", "_User"]
    assert found["counts"]["Comment"] == 5
    assert [d["_id"] for d in found["docs"]["Comment"]] == ["Cm0aZ7Lk2P", "Cm1bY6Kj3Q", "Cm2cX5Hi4R", "Cm3dW4Gh5S",
                                                              "Cm4eV3Fg6T"]
    assert not any("className" in d for docs in found["docs"].values() for d in docs)
    kai = next(d for d in found["docs"]["_User"] if d["_id"] == "Dr6tYu1IoP")
    assert kai["_auth_data_anonymous"] == {"id": "b1e0c7d2-6f3a-4e9b-8c5d-2a1f0e9d8c7b"}
    names = [f.name for f in layout(export_files(FIXTURES / "dashboard_parts")).class_files("Comment")]
    assert names == ["Comment.json", "Comment (1).json", "Comment (2).json"]


@pytest.mark.parametrize("stem", ["Comment(1)", "Comment-1", "Comment (12)"])
def test_every_browser_numbering_of_a_part_is_a_part(tmp_path: Path, stem: str) -> None:
    (tmp_path / "Comment.json").write_text('[{"objectId": "a", "className": "Comment"}]')
    (tmp_path / f"{stem}.json").write_text('[{"objectId": "b", "className": "Comment"}]')
    assert (ExportSource(tmp_path).class_names(), ExportSource(tmp_path).count("Comment")) == (["Comment"], 2)


@pytest.mark.parametrize(("sep", "said"), [
    (":", "the colon itself"), ("\ua789", "U+A789"), ("\uff1a", "U+FF1A FULLWIDTH COLON"), ("\u2236", "U+2236 RATIO"),
    ("\u02d0", "U+02D0"), ("\ufe55", "U+FE55 SMALL COLON"), ("%3A", "percent-encoding"), ("%3a", "percent-encoding"),
    ("-", "U+002D HYPHEN-MINUS"), (" ", "U+0020 SPACE"),
])
def test_a_relation_file_is_found_whatever_stands_for_the_colon(tmp_path: Path, sep: str, said: str) -> None:
    (tmp_path / "Article.json").write_text('{"results": [{"objectId": "a1"}, {"objectId": "a2"}]}')
    name = f"_Join{sep}tags{sep}Article.json"
    (tmp_path / name).write_text('{"results": [{"owningId": "a1", "relatedId": "t1"}]}')
    found = layout(export_files(tmp_path))
    assert list(found.relations) == [("Article", "tags")] and said in found.separators[name]
    reader = ExportReader(tmp_path)
    assert list(reader.relation_rows("Article", "tags", ["a1", "a2"])) == [("a1", "t1")]
    assert reader.schemas()["Article"].relations() == [("tags", "")]
    assert ExportSource(tmp_path).class_names() == ["Article"]


@pytest.mark.parametrize(("name", "said"), [
    ("_Join_tags_Article.json", "looks like a relation file"),
    ("_Join:tags\ua789Article.json", "looks like a relation file"),
    ("_Join:tags.json", "looks like a relation file"),
    ("_Join.json", "looks like a relation file"),
    ("Articles export.json", "is not named for a Parse class"),
    ("_Comment.json", "is not named for a Parse class"),
])
def test_a_file_that_cannot_be_read_as_part_of_an_export_is_an_error_naming_it(tmp_path: Path, name: str,
                                                                              said: str) -> None:
    (tmp_path / "Article.json").write_text('{"results": []}')
    (tmp_path / name).write_text('{"results": []}')
    for read in (ExportSource(tmp_path).class_names, ExportReader(tmp_path).schemas):
        with pytest.raises(UnexpectedAnswer, match=rf"export: {name.replace('.', '[.]')} {said}"):
            read()


def test_json_files_in_several_folders_or_none_are_a_configuration_error(tmp_path: Path) -> None:
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "Article.json").write_text('{"results": []}')
    with pytest.raises(ConfigError, match=r"several folders \(a, b\)"):
        export_files(tmp_path)
    shutil.rmtree(tmp_path / "b")
    assert [f.name for f in export_files(tmp_path)] == ["Article.json"]     # the one folder that holds them
    with pytest.raises(ConfigError, match="neither a directory nor a zip file"):
        export_files(tmp_path / "a" / "Article.json")
    (tmp_path / "a" / "Article.json").unlink()
    with pytest.raises(ConfigError, match=r"holds no \.json file"):
        export_files(tmp_path)
    with pytest.raises(ConfigError, match="does not exist"):
        export_files(tmp_path / "missing.zip")


def test_a_class_file_saved_with_a_byte_order_mark_is_read_as_without(tmp_path: Path) -> None:
    """Windows editors (Notepad, Excel's JSON export) begin UTF-8 files with U+FEFF; JSON itself has no BOM."""
    archive = parse_com.write_zip(tmp_path / "newsroom.zip")
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(tmp_path / "plain")
        zf.extractall(tmp_path / "bom")
    for name in ("Tag.json", "_User.json"):
        path = next((tmp_path / "bom").rglob(name))
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert read_all(tmp_path / "bom") == read_all(tmp_path / "plain")
