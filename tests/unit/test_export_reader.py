"""The streaming export reader (both file shapes, chunk boundaries, damaged files) and the sorted-run reader."""
from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from cutover.data import export_reader, json_stream
from cutover.data.export_reader import ExportReader
from cutover.data.sources import ExportSource
from cutover.errors import UnexpectedAnswer

OBJECTS = [{"objectId": f"id{i:04d}", "n": i, "x": i + 0.5, "s": "é\t\n" * (i % 3), "big": 10**15 + i}
           for i in range(300)]


@pytest.fixture(autouse=True)
def tiny_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(json_stream, "CHUNK", 7)       # every value straddles a chunk boundary


@pytest.mark.parametrize("shape", ["results", "array", "results-with-more-keys"])
def test_both_export_shapes_stream_exactly_what_json_loads_reads(tmp_path: Path, shape: str) -> None:
    body = {"results": json.dumps({"results": OBJECTS}, indent=1), "array": json.dumps(OBJECTS),
            "results-with-more-keys": json.dumps({"className": "C", "results": OBJECTS, "count": 300})}[shape]
    (tmp_path / "C.json").write_text(body, encoding="utf-8")
    assert list(json_stream.objects(tmp_path / "C.json")) == OBJECTS


@pytest.mark.parametrize(("text", "said"), [
    ('{"results": [{"objectId": "a"}, {"objectId": "b"', "truncated"),
    ('{"results": [{"objectId": "a"},', "truncated"),
    ('{"results": [{"objectId": "a"} {"objectId": "b"}]}', "never closes"),
    ('{"results": [1, 2]}', "not an object"),
    ('{"rows": []}', "no results list"),
    ("", "the end of the file"),
])
def test_a_damaged_file_is_one_clear_error_naming_file_and_byte(tmp_path: Path, text: str, said: str) -> None:
    (tmp_path / "GameScore.json").write_text(text, encoding="utf-8")
    with pytest.raises(UnexpectedAnswer, match=rf"export file GameScore\.json: .*{said}.* at byte \d+"):
        list(json_stream.objects(tmp_path / "GameScore.json"))


def test_export_source_counts_by_streaming_and_leaves_join_tables_out(tmp_path: Path) -> None:
    (tmp_path / "C.json").write_text(json.dumps({"results": OBJECTS}))
    (tmp_path / "_Join:likes:C.json").write_text(json.dumps({"results": [{"owningId": "id0001", "relatedId": "u"}]}))
    src = ExportSource(tmp_path)
    assert (src.class_names(), src.count("C")) == (["C"], 300)


def test_sorted_runs_give_objectid_ranges_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export_reader, "RUN", 40)
    monkeypatch.setattr(export_reader, "STRIDE", 3)
    shuffled = OBJECTS[:]
    random.Random(3).shuffle(shuffled)
    (tmp_path / "C.json").write_text(json.dumps({"results": shuffled}))
    (tmp_path / "_Join:likes:C.json").write_text(json.dumps({"results": [
        {"owningId": "id0001", "relatedId": "u1"}, {"owningId": "id0200", "relatedId": "u2"}]}))
    reader = ExportReader(tmp_path)
    try:
        assert [d["_id"] for d in reader.documents("C", None, None)] == [o["objectId"] for o in OBJECTS]
        assert [d["_id"] for d in reader.documents("C", "id0100", "id0117")] == [f"id{i:04d}" for i in range(100, 117)]
        assert len(reader.runs("C")) == 8
        assert sorted(reader.fetch("C", ["id0007", "nope"])) == ["id0007"]
        assert list(reader.relation_rows("C", "likes", ["id0001", "id0002"])) == [("id0001", "u1")]
        assert reader.schemas()["C"].relations() == [("likes", "")]
    finally:
        reader.close()
