"""cutover.run.remediation: which files the failed checks call for, their exact content, and determinism."""
from __future__ import annotations

import csv
import io
import json
import random

from cutover.data.indexes import compare, normalize
from cutover.run.remediation import ID_CAP, Finding, create_index, plan, write

SOURCE = [normalize({"name": "_id_", "key": {"_id": 1}}),
          normalize({"name": "player_score", "key": {"playerName": 1, "score": -1}, "unique": True}),
          normalize({"name": "name_ci", "key": {"name": 1}, "collation": {"locale": "en", "strength": 2}})]
TARGET = [SOURCE[0], normalize({"name": "name_ci", "key": {"name": 1}, "collation": {"locale": "en", "strength": 3}})]


def _db03() -> Finding:
    result = compare("GameScore", SOURCE, TARGET)
    return Finding("DB-03", "DB-03[GameScore]", "failed",
                   {"collection": "GameScore", "database": "app", "specs": json.loads(json.dumps(result.spec_facts())),
                    "parse_required_missing": ["username unique"]})


def _db02(label: str, missing: list[str], total: int) -> Finding:
    return Finding("DB-02", f"DB-02[{label}]", "failed", {
        "cls": "GameScore", "partition": label, "missingOnTarget": missing, "extraOnTarget": [],
        "content": [{"_id": "c1", "fields": "score", "source": "secret-ish", "target": 2}],
        "totals": {"missing": total, "extra": 0, "content": 1}})


def test_db03_script_creates_missing_indexes_with_key_order_and_options() -> None:
    (script,) = plan([_db03()])
    assert script.name == "remediation/DB-03-create-indexes.js"
    lines = script.text.splitlines()
    assert 'db = db.getSiblingDB("app");' in lines
    assert ('db.getCollection("GameScore").createIndex({"playerName": 1, "score": -1}, '
            '{"name": "player_score", "unique": true});') in lines
    # a different index: drop and create, commented (dropping an index is a decision, not a copy job)
    assert '// db.getCollection("GameScore").dropIndex("name_ci");' in lines
    assert ('// db.getCollection("GameScore").createIndex({"name": 1}, {"name": "name_ci", "collation": '
            '{"locale": "en", "strength": 2}});') in lines
    assert any("username unique" in line and line.startswith("//") for line in lines)


def test_create_index_keeps_compound_key_order() -> None:
    spec = {"name": "b_a", "key": [["b", 1], ["a", -1]], "options": {}}
    assert create_index("C", spec) == 'db.getCollection("C").createIndex({"b": 1, "a": -1}, {"name": "b_a"});'


def test_db02_lists_ids_per_class_without_values_with_totals() -> None:
    (ids,) = plan([_db02("GameScore:p2of2", ["b"], 5), _db02("GameScore:p1of2", ["a"], 3)])
    doc = json.loads(ids.text)["classes"]["GameScore"]
    assert doc["missing"] == ["a", "b"], "partitions in _id order (p1 before p2)"
    assert doc["totals"]["missing"] == 8 and doc["listed"]["missing"] == 2 and doc["capped"] is True
    assert doc["different"] == [{"_id": "c1", "fields": "score"}, {"_id": "c1", "fields": "score"}]
    assert "secret-ish" not in ids.text


def test_db02_listing_is_capped_per_class() -> None:
    many = [str(i) for i in range(ID_CAP + 10)]
    (ids,) = plan([_db02("GameScore", many, len(many))])
    doc = json.loads(ids.text)["classes"]["GameScore"]
    assert len(doc["missing"]) == ID_CAP and doc["totals"]["missing"] == ID_CAP + 10


def test_file01_csv_for_a_copy_job_keeps_extra_columns() -> None:
    failure = {"cls": "GameScore", "object_id": "g1", "field": "avatar", "path": "avatar",
               "url": "http://s3/bucket/abc_my%20pic.png", "status": 404, "reason": "404", "outcome": "missing",
               "source_sha256": "aa"}
    (sheet,) = plan([Finding("FILE-01", "FILE-01[GameScore.avatar]", "failed", {"failures": [failure]})])
    (row,) = csv.DictReader(io.StringIO(sheet.text))
    assert row["class"] == "GameScore" and row["objectId"] == "g1" and row["name"] == "abc_my pic.png"
    assert row["source_sha256"] == "aa" and row["status"] == "404"


def test_file02_csv_lists_legacy_names() -> None:
    ref = {"cls": "GameScore", "object_id": "g2", "field": "avatar", "path": "avatar", "name": "tfss-x.png", "url": ""}
    (sheet,) = plan([Finding("FILE-02", "FILE-02[GameScore]", "failed", {"cls": "GameScore", "listed": [ref]})])
    (row,) = csv.DictReader(io.StringIO(sheet.text))
    assert (row["class"], row["objectId"], row["name"]) == ("GameScore", "g2", "tfss-x.png")


def test_tls02_says_what_to_renew_and_when() -> None:
    facts = {"host": "db:27017", "link": "target database", "subject": "CN=db", "issuer": "CN=CA",
             "not_after": "2026-12-10T00:00:00+00:00", "days_left": 10, "min_days": 30,
             "problems": ["certificate expires in 10 days"]}
    (text,) = plan([Finding("TLS-02", "TLS-02[db]", "failed", facts)])
    assert "CN=db" in text.text and "CN=CA" in text.text
    assert "renew:   now (it needed renewing by 2026-11-10)" in text.text


def test_passes_errors_and_unknown_criteria_write_nothing() -> None:
    passed = Finding("DB-03", "DB-03[X]", "passed", _db03().facts)
    error = Finding("DB-02", "DB-02[X]", "error", {})
    assert plan([passed, error, Finding("API-01", "API-01", "failed", {"status": 500})]) == ()


def test_same_findings_in_any_order_give_the_same_bytes(tmp_path: object) -> None:
    findings = [_db03(), _db02("GameScore:p1of2", ["a"], 1), _db02("GameScore:p2of2", ["b"], 1)]
    shuffled = findings[:]
    random.Random(7).shuffle(shuffled)
    assert plan(findings) == plan(shuffled)


def test_write_puts_files_under_the_run_directory(tmp_path: object) -> None:
    from pathlib import Path

    run_dir = Path(str(tmp_path))
    (path,) = write(run_dir, plan([_db03()]))
    assert path == run_dir / "remediation" / "DB-03-create-indexes.js" and path.read_text().startswith("// DB-03")


def test_failures_without_recorded_facts_write_nothing() -> None:
    bare = [Finding(cid, f"{cid}[x]", "failed", {}) for cid in ("DB-02", "DB-03", "FILE-01", "FILE-02", "TLS-02")]
    assert plan(bare) == ()
