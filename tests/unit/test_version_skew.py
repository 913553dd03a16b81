"""Answers of two Parse Servers (two versions, or two servers of one version), normalised only as
docs/versions.md says, each normalisation proven both ways: what it forgives passes, the real difference next
to it still fails."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from cutover.errors import SandboxError
from cutover.model import Query
from cutover.rest.client import Answer
from cutover.rest.flows import differential
from cutover.run.config import load_target
from cutover.sandbox.stack import Sandbox
from cutover_pytest import startup
from cutover_testing.version_skew import answer_differences

SCORE: dict[str, Any] = {"objectId": "a1", "score": 7, "createdAt": "2024-01-01T00:00:00.000Z",
         "pic": {"__type": "File", "name": "f1_pic.png", "url": "http://127.0.0.1:1111/parse/files/app/f1_pic.png"},
         "nested": {"doc": {"__type": "File", "name": "f2_doc.pdf", "url": "https://old.example/f2_doc.pdf"}}}
ON_THE_OTHER_SERVER = {**SCORE, "pic": {**SCORE["pic"], "url": "https://new.example/parse/files/app/f1_pic.png"}}


@dataclass
class Server:
    """A stand-in ParseClient: answers every query with ``objects`` (or ``status`` with an error body)."""

    objects: list[dict[str, Any]]
    status: int = 200
    asked: list[dict[str, Any]] = field(default_factory=list)

    def query(self, cls: str, where: Any = None, **params: Any) -> Answer:
        self.asked.append({"cls": cls, "where": where, **params})
        body = {"results": self.objects} if self.status == 200 else {"code": 102, "error": "refused"}
        return Answer("GET", f"/classes/{cls}", self.status, body, "")


QUERY = Query(cls="GameScore", where={"score": {"$gt": 1}}, sort={"score": -1}, name="top")


def _differential(source: list[dict[str, Any]], target: list[dict[str, Any]], status: int = 200) -> list[str]:
    return list(differential(Server(source), Server(target, status), QUERY).differences)  # type: ignore[arg-type]


# -- API-08 (the product): a File's URL is the server's, its name is the reference ---------------------------
def test_api08_forgives_a_file_url_that_only_the_serving_server_changed() -> None:
    assert _differential([SCORE], [ON_THE_OTHER_SERVER]) == []


def test_api08_still_names_a_file_whose_name_changed() -> None:
    renamed = {**ON_THE_OTHER_SERVER, "pic": {**ON_THE_OTHER_SERVER["pic"], "name": "f9_pic.png"}}
    found = _differential([SCORE], [renamed])
    assert len(found) == 1 and found[0].startswith('a1: field \'pic.name\' came back "f9_pic.png"'), found


def test_api08_names_a_changed_value_order_and_a_refusal_whatever_the_versions() -> None:
    assert _differential([SCORE], [{**ON_THE_OTHER_SERVER, "score": 8}]) == \
        ["a1: field 'score' came back 8, sent 7"]
    other = {**SCORE, "objectId": "b2"}
    assert _differential([SCORE, other], [other, SCORE])[0].startswith('objectIds differ: source ["a1", "b2"]')
    assert _differential([SCORE], [SCORE], status=400)[0].startswith("the target server answered 400")


def test_api08_says_how_many_objects_each_answer_held_and_when_only_the_first_were_compared() -> None:
    others = [{**SCORE, "objectId": f"o{i:03}"} for i in range(3)]
    found = differential(Server(others), Server(others[:2]), QUERY)  # type: ignore[arg-type]
    assert found.compared() == {"source_objects": 3, "target_objects": 2}
    full = differential(Server(others), Server(others), QUERY, limit=3)  # type: ignore[arg-type]
    assert not full.differences and full.compared() == {
        "source_objects": 3, "target_objects": 3, "note": "the first 3 objects of each answer, in the query's order"}
    assert differential(Server([]), Server([]), QUERY).compared() == {  # type: ignore[arg-type]
        "source_objects": 0, "target_objects": 0}


def test_api08_asks_both_servers_the_same_query_in_a_total_order() -> None:
    source, target = Server([SCORE]), Server([SCORE])
    differential(source, target, QUERY)  # type: ignore[arg-type]
    assert source.asked == target.asked == [{"cls": "GameScore", "where": {"score": {"$gt": 1}},
                                             "order": "-score,objectId", "limit": 100}]


# -- the scenario's comparison of raw answers (cutover_testing.version_skew) ---------------------------------
def test_raw_answers_forgive_file_urls_and_still_name_file_names() -> None:
    assert answer_differences({"results": [SCORE]}, {"results": [ON_THE_OTHER_SERVER]}) == []
    renamed = {**SCORE, "nested": {"doc": {**SCORE["nested"]["doc"], "name": "x.pdf"}}}
    assert answer_differences(SCORE, renamed) == [".nested.doc (File f2_doc.pdf)"]


def test_raw_answers_forgive_the_reported_version_only() -> None:
    older = {"parseServerVersion": "8.6.94", "features": {"schemas": {"addField": True}}}
    current = {"parseServerVersion": "9.10.0", "features": {"schemas": {"addField": True}}}
    assert answer_differences(older, current) == []
    changed = {**current, "features": {"schemas": {"addField": False}}}
    assert answer_differences(older, changed) == [".features.schemas.addField (true, then false)"]


def test_raw_answers_forgive_a_fresh_session_token_but_not_its_absence_or_type() -> None:
    login = {"objectId": "u1", "username": "ana", "sessionToken": "r:1"}
    assert answer_differences(login, {**login, "sessionToken": "r:2"}) == []
    assert answer_differences(login, {**login, "sessionToken": 2}) == [".sessionToken (type)"]
    assert answer_differences(login, {"objectId": "u1", "username": "ana"}) == [".sessionToken (present, then absent)"]


@pytest.mark.parametrize(("older", "current", "expected"), [
    ({"a": [1, 2]}, {"a": [1, 2, 3]}, [".a (2 items, then 3)"]),
    ({"a": {"b": 1}}, {"a": {"b": 1.5}}, [".a.b (1, then 1.5)"]),
    ({"a": 1}, {"a": 1, "b": None}, [".b (absent, then present)"]),
    ([{"code": 107}], [{"code": 102}], ["[0].code (107, then 102)"]),
])
def test_raw_answers_name_every_other_difference_by_its_path(older: Any, current: Any,
                                                             expected: list[str]) -> None:
    assert answer_differences(older, current) == expected


def test_the_sandbox_runs_only_a_pinned_parse_server(tmp_path: Path) -> None:
    assert Sandbox(tmp_path, source_parse_server="8.6.94").source_parse_server == "8.6.94"
    with pytest.raises(SandboxError, match=r"runs parse-server 9\.10\.0 or 8\.6\.94, not '8'"):
        Sandbox(tmp_path, source_parse_server="8")


@pytest.mark.parametrize(("name", "version", "kind"), [("demo", "9.10.0", "mongodb"),
                                                       ("demo-skew", "8.6.94", "mongodb"),
                                                       ("demo-skew-rest", "8.6.94", "rest")])
def test_a_built_in_target_starts_its_sandbox_on_its_source_version(monkeypatch: pytest.MonkeyPatch,
                                                                     tmp_path: Path, name: str, version: str,
                                                                     kind: str) -> None:
    """`pytest --target demo-skew` reaches the sandbox with the older source (the glue, without starting it)."""
    started: list[tuple[str, str]] = []

    class Recorder:
        def __init__(self, run_dir: Path, scale: int, files_store: str, source_parse_server: str,
                     classes: int) -> None:
            self.version = source_parse_server

        def start_target(self, name: str, source_kind: str, **options: Any) -> str:
            started.append((self.version, source_kind))
            return name

        def stop(self) -> None:
            pass

    monkeypatch.setattr(startup, "_sandbox_class", lambda name: Recorder)
    config = SimpleNamespace(getoption=lambda option: None, add_cleanup=lambda stop: None)
    spec = load_target(tmp_path / "none.toml", name, required=False)
    assert startup._materialize(config, spec, tmp_path, None)[0] == name  # type: ignore[arg-type]
    assert started == [(version, kind)]
