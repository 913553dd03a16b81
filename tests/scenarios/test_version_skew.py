"""Version skew (issue 28, demo-skew): the source Parse Server on the older pinned major (8.6.94), the target on
9.10.0, over one sandbox of its own.

Both servers answer what the suite reads alike on the same migrated data, apart from what ``docs/versions.md``
lists (and the differences that table claims really are there); a clean migration passes every criterion
with the source read from its database and through its REST API; planted defects are still caught, from both
source kinds, and API-08 still names a target server that answers differently on intact data.
"""
from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from pymongo import ASCENDING

from cutover.data.rest_reader import RestReader
from cutover.model import Query
from cutover.sandbox.node_env import CURRENT_PARSE
from cutover.sandbox.parse_server import DEFAULT_CLOUD
from cutover.sandbox.seed import APP_ID, PASSWORD
from cutover.sandbox.sources import with_source
from cutover.sandbox.stack import SOURCE_BUCKET, Sandbox
from cutover_testing.defects import DEFECTS, Handles
from cutover_testing.variants import forked_server
from cutover_testing.version_skew import answer_differences, ask, reads
from tests.scenarios.conftest import SCENARIO_SCALE
from tests.scenarios.test_data_defects import _named
from tests.scenarios.test_rest_source import GROUPS as REST_GROUPS
from tests.scenarios.test_rest_source import assert_caught_from_a_rest_source

OLDER = "8.6.94"
Checks = Callable[..., Any]
DIFFERENTIAL = ("-k", "test_data or test_indexes or answer_alike")
ANSWERING = ("GameScore of a player", "_User by email")
PLANTED_QUERY = "Player by country"   # a demo query: the forked server's afterFind changes one of its objects


@pytest.fixture(scope="module")
def skew(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    box = Sandbox(tmp_path_factory.mktemp("skew"), scale=SCENARIO_SCALE, source_parse_server=OLDER)
    with box:
        yield box


def _headers(box: Sandbox, auth: str) -> dict[str, str]:
    key = ("X-Parse-Master-Key", box.keys["master_key"]) if auth == "master" else \
        ("X-Parse-REST-API-Key", box.keys["rest_key"])
    return {"X-Parse-Application-Id": APP_ID, key[0]: key[1]}


def _both(box: Sandbox, read: Any) -> tuple[tuple[int, Any], tuple[int, Any]]:
    headers = _headers(box, read.auth)
    return ask(box.ep.source_parse_url, read, headers), ask(box.ep.parse_url, read, headers)


def answering_queries(box: Sandbox) -> tuple[Query, ...]:
    """Declared queries whose answers hold objects, through indexes (DB-05): the demo's ``GameScore by player``
    and ``_User by username`` match no seeded object, so alone they would leave API-08 comparing empty answers."""
    score = box.db(box.ep.source_uri)["GameScore"].find_one({"_p_player": {"$exists": True}}, sort=[("_id", 1)])
    assert score is not None
    player = {"__type": "Pointer", "className": "Player", "objectId": score["_p_player"].partition("$")[2]}
    return (Query(cls="GameScore", where={"player": player}, sort={"score": -1}, name="GameScore of a player"),
            Query(cls="_User", where={"email": "player1@example.com"}, name="_User by email"))


def _username(box: Sandbox) -> str:
    user = box.db(box.ep.source_uri)["_User"].find_one({}, sort=[("_id", 1)])
    assert user is not None
    return str(user["username"])


def test_both_versions_answer_every_read_alike(skew: Sandbox) -> None:
    """Every class in objectId order (with and without the master key: a class closed to the public is refused
    alike), counts, /schemas, the declared queries, /config and /serverInfo: equal but for the version and File
    URLs, with each server on its own version."""
    schemas = requests.get(f"{skew.ep.parse_url}/schemas", headers=_headers(skew, "master"), timeout=20).json()
    classes = sorted(c["className"] for c in schemas["results"])
    assert {"_User", "_Role", "_Session", "_Installation", "GameScore", "Post", "Player"} <= set(classes)
    found = {}
    queries = (*skew.target().queries, *answering_queries(skew))
    for read in reads(classes, queries):
        (status_8, body_8), (status_9, body_9) = _both(skew, read)
        assert status_8 == status_9 and (status_8 == 200 or read.auth == "client"), (read.label, body_8, body_9)
        found[read.label] = answer_differences(body_8, body_9)
        if read.label.startswith("query ") and read.label.removeprefix("query ") in ANSWERING:
            assert body_9["results"], f"{read.label} found nothing: it would prove nothing"
        if read.label == "serverInfo":
            assert (body_8["parseServerVersion"], body_9["parseServerVersion"]) == (OLDER, CURRENT_PARSE)
    assert {label: diffs for label, diffs in found.items() if diffs} == {}
    assert len(found) >= 3 * len(classes)


def test_the_rest_source_reader_reads_both_versions_alike(skew: Sandbox) -> None:
    """What DB-01/02/03/07 read from a REST source (schemas, every object in storage form, relation rows) is the
    same from 8.6.94 as from 9.10.0 on the same data."""
    readers = [RestReader(url, APP_ID, skew.keys["master_key"], page=250)
               for url in (skew.ep.source_parse_url, skew.ep.parse_url)]
    old, new = (reader.schemas() for reader in readers)
    assert old == new and {"_User", "_Role", "_Session", "Post", "GameScore"} <= set(old)
    relation_rows = 0
    for cls in sorted(old):
        documents = [list(reader.documents(cls, None, None)) for reader in readers]
        assert documents[0] == documents[1], cls
        for field, _target in old[cls].relations():
            owners = [d["_id"] for d in documents[0]]
            rows = [set(reader.relation_rows(cls, field, owners)) for reader in readers]
            assert rows[0] == rows[1], (cls, field)
            relation_rows += len(rows[0])
    assert relation_rows > 0


# docs/versions.md, "Differences found": each row's request and what each version answers (status, Parse code).
DOCUMENTED = {
    "a where that is not JSON": ({"where": "{bad"}, "master", (500, 1), (400, 107)),
    "a $regex that is not a string": ({"where": json.dumps({"playerName": {"$regex": 5}})}, "master",
                                      (400, 107), (400, 102)),
    "explain without the master key": ({"explain": "true", "limit": 1}, "client", (200, None), (400, 102)),
}


@pytest.mark.parametrize("row", sorted(DOCUMENTED))
def test_the_documented_differences_are_real(skew: Sandbox, row: str) -> None:
    params, auth, older, current = DOCUMENTED[row]
    answers = [requests.get(f"{url}/classes/GameScore", params=params, headers=_headers(skew, auth), timeout=20)
               for url in (skew.ep.source_parse_url, skew.ep.parse_url)]
    found = [(a.status_code, a.json().get("code")) for a in answers]
    assert found == [older, current], [a.text[:200] for a in answers]


def test_a_log_in_answers_alike_on_both_versions(skew: Sandbox) -> None:
    """Log-in and users/me give the same user from both versions (the session token aside); each session is
    logged out again, so the data the other scenarios compare is as migrated."""
    before = [skew.db(uri)["_Session"].count_documents({}) for uri in (skew.ep.source_uri, skew.ep.target_uri)]
    answers = []
    for url in (skew.ep.source_parse_url, skew.ep.parse_url):
        login = requests.post(f"{url}/login", json={"username": _username(skew), "password": PASSWORD},
                              headers=_headers(skew, "client"), timeout=20).json()
        session = {**_headers(skew, "client"), "X-Parse-Session-Token": login["sessionToken"]}
        me = requests.get(f"{url}/users/me", headers=session, timeout=20).json()
        assert requests.post(f"{url}/logout", headers=session, timeout=20).status_code == 200
        answers.append([login, me])
    assert answer_differences(answers[0], answers[1]) == []
    assert [skew.db(uri)["_Session"].count_documents({}) for uri in (skew.ep.source_uri, skew.ep.target_uri)] \
        == before


@pytest.mark.parametrize("source_kind", ["mongodb", "rest"])
def test_a_clean_skewed_migration_passes_every_criterion(skew: Sandbox, run_checks: Checks,
                                                         source_kind: str) -> None:
    base = skew.target(f"skew-{source_kind}")
    base = dataclasses.replace(base, queries=(*base.queries, *answering_queries(skew)))
    result = run_checks(with_source(skew, base, source_kind))
    assert result.exit_code == 0 and "GATE: PASS" in result.output, result.output[-3000:]
    verdicts = {cid: c["verdict"] for cid, c in result.record["criteria"].items()}
    assert set(verdicts.values()) <= {"pass", "not applicable"}, verdicts
    reasons = {cid: c["reason"] for cid, c in result.record["criteria"].items() if c["verdict"] != "pass"}
    assert all(reasons.values()), reasons
    assert {"DB-01", "DB-02", "DB-03", "DB-07", "API-08"} <= {c for c, v in verdicts.items() if v == "pass"}
    api08 = [t for t in result.record["tests"] if t["criterion"] == "API-08"]
    assert {t["label"] for t in api08} == {f"API-08[{q.label}]" for q in base.queries}
    assert all(t["facts"]["parse_server_versions"] == {"source": OLDER, "target": CURRENT_PARSE} for t in api08)


def _answer_changing_cloud(box: Sandbox, object_id: str) -> Path:
    """The sandbox's Cloud Code plus an afterFind that raises one Player's level in every answer: a target server
    that answers differently on intact data (a Cloud Code or server behaviour change, not a data defect)."""
    cloud = box.run_dir / "variants" / "cloud-after-find.js"
    cloud.parent.mkdir(parents=True, exist_ok=True)
    cloud.write_text(f"require({json.dumps(str(DEFAULT_CLOUD))});\n"
                     "Parse.Cloud.afterFind('Player', (request) => {\n"
                     f"  for (const o of request.objects) if (o.id === {json.dumps(object_id)}) "
                     "o.set('level', o.get('level') + 1);\n"
                     "  return request.objects;\n});\n")
    return cloud


def test_planted_defects_and_an_answer_difference_are_caught_across_versions(skew: Sandbox,
                                                                             run_checks: Checks) -> None:
    """On a fork served by its own 9.10.0 server: a missing and a changed document and a dropped index fail
    DB-01/02/03 naming them; the server's afterFind fails API-08 naming the object, the field and both
    versions, while the data of that object passes DB-02. Nothing else fails. (Every object a trigger saw also
    comes back with ``className``, as triggers.js encodes them, on both versions alike: named too, rightly, as
    the source has no such trigger.)"""
    player = skew.db(skew.ep.target_uri)["Player"].find_one({"country": "JP"}, sort=[("_id", ASCENDING)])
    assert player is not None
    target = forked_server(skew, "skew_answers", _answer_changing_cloud(skew, player["_id"]))
    target = dataclasses.replace(target, cloud_functions=())
    handles = Handles(skew.db(skew.ep.source_uri), skew.db(target.database.uri), skew.s3, SOURCE_BUCKET,
                      target.files.bucket if target.files else "")
    defects = ("missing_document", "changed_value", "dropped_index")
    planted = [DEFECTS[d].plant(handles) for d in defects]
    result = run_checks(target, *DIFFERENTIAL)
    failures = [(t["criterion"], t["label"], t.get("message", "")) for t in result.record["tests"]
                if t["outcome"] in ("failed", "error")]
    allowed = {"API-08", *(c for d in defects for c in DEFECTS[d].criteria)}
    assert {f[0] for f in failures} <= allowed, f"criteria beyond {sorted(allowed)} failed: {failures}"
    for p in planted:
        for criterion in DEFECTS[p.defect].criteria:
            text = " ".join(f[2] for f in failures if f[0] == criterion)
            assert all(n in text for n in _named(p, criterion)), (p.defect, criterion, failures)
    message = next(m for _, label, m in failures if label == f"API-08[{PLANTED_QUERY}]")
    assert all(part in message for part in (player["_id"], "level", f"source parse-server {OLDER}",
                                            f"target {CURRENT_PARSE}")), message
    assert "DB-02[Player]" not in {label for _, label, _ in failures}


def test_planted_defects_are_caught_from_a_rest_source_on_the_older_major(skew: Sandbox,
                                                                          run_checks: Checks) -> None:
    """demo-rest's planted data defects (both groups on one fork, to keep the run count small), read through
    the 8.6.94 server: each named under its criterion."""
    groups = REST_GROUPS["DB-02"] + REST_GROUPS["DB-03+DB-07+DB-08"]   # DB-08 read through 8.6.94's /schemas too
    assert_caught_from_a_rest_source(skew, run_checks, "skew_rest", groups)

