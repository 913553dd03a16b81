"""cutover.run.evidence: evidence rendered from facts, per criterion, with a generic fallback."""
from __future__ import annotations

import json

from cutover.data.indexes import compare, normalize
from cutover.run import evidence


def test_db03_shows_both_specs_side_by_side() -> None:
    source = [normalize({"name": "ci", "key": {"name": 1}, "collation": {"locale": "en", "strength": 2}}),
              normalize({"name": "gone", "key": {"a": 1, "b": -1}})]
    target = [normalize({"name": "ci", "key": {"name": 1}, "collation": {"locale": "en", "strength": 3}})]
    facts = {"collection": "Player", "specs": json.loads(json.dumps(compare("Player", source, target).spec_facts()))}
    out = evidence.render("DB-03", facts)
    row = out.split("<tr>")[3]     # header row, then `gone` (missing), then `ci` (different)
    assert "<td>ci</td>" in row and "&quot;strength&quot;: 2" in row and "&quot;strength&quot;: 3" in row
    assert "<code>{a: 1, b: -1}</code>" in out and "<i>absent</i>" in out


def test_db02_masks_credential_fields_but_shows_ids_and_paths() -> None:
    facts = {"partition": "_User", "method": "documents", "source_docs": 2, "target_docs": 2,
             "missingOnTarget": [], "extraOnTarget": [], "totals": {"missing": 0, "extra": 0, "content": 2},
             "content": [{"_id": "u1", "fields": "_hashed_password", "source": "$2b$10$abc", "target": "$2b$10$xyz"},
                         {"_id": "u2", "fields": "score", "source": 1, "target": 2}]}
    out = evidence.render("DB-02", facts)
    assert "$2b$10$abc" not in out and "*** (masked)" in out
    assert "<td>u2</td><td>score</td><td>1</td><td>2</td>" in out


def test_tls02_names_subject_issuer_and_expiry() -> None:
    facts = {"host": "db:27017", "subject": "CN=db", "issuer": "CN=Sandbox CA", "not_after": "2026-12-10",
             "days_left": 10, "min_days": 30, "version": "TLSv1.3", "cipher": "X", "verified": True,
             "verify_error": "", "hostname_matches": True, "problems": ["expires in 10 days"]}
    out = evidence.render("TLS-02", facts)
    assert "CN=db" in out and "CN=Sandbox CA" in out and "2026-12-10 (10 days left; required 30)" in out


def test_unknown_shape_falls_back_to_every_fact() -> None:
    out = evidence.render("DB-03", {"missing": ["a_1 {a: 1}"], "new_field": {"x": 1}})   # no `specs`
    assert "a_1 {a: 1}" in out and "new_field" in out


def test_generic_renders_records_as_a_table_and_caps_listings() -> None:
    out = evidence.render("API-99", {"rows": [{"a": 1, "b": "<x>"}], "ids": list(range(evidence.LIST_CAP + 5)),
                                     "sessionToken": "r:abc"})
    assert "<th>a</th><th>b</th>" in out and "&lt;x&gt;" in out
    assert "(5 more; all in record.json)" in out
    assert "r:abc" not in out


def test_no_facts_no_block_and_one_line_html() -> None:
    assert evidence.render("DB-01", {}) == ""
    assert "\n" not in evidence.render("DB-01", {"message": "line one\nEvil line"})


def test_a_verdict_resting_on_the_stand_ins_limits_says_so_first() -> None:
    from cutover.data.queries import NO_PLANNER

    out = evidence.render("DB-05", {"label": "q", "covered": True, "stand_in": NO_PLANNER.facts()})
    limit = out.index("Rests on the stand-in's limits:")
    assert limit < out.index("<table") and "plans no queries" in out and "verified on the stand-in is not" in out
    assert "Rests on" not in evidence.render("DB-05", {"label": "q", "covered": True})   # a real server's verdict
