"""What a run sends to the databases: a full run (serially and on two xdist workers, asserted by
:func:`assert_only_allowlisted_commands` on test_scale_out's runs) sends nothing outside the command allowlist,
every aggregation carries maxTimeMS, and no dbHash goes anywhere; the opt-in sends dbHash and says so; the
polite-scan settings are stated in DB-02's facts."""
from __future__ import annotations

import dataclasses
import json
from typing import Any

from cutover.model import Scans
from cutover.sandbox.stack import Sandbox

BLOCKING = {"dbhash", "validate", "fsync", "compact", "reindex", "collmod"}


def _content_facts(record: dict[str, Any]) -> list[dict[str, Any]]:
    return [json.loads(json.dumps(t.get("facts", {}))) for t in record["tests"] if t["criterion"] == "DB-02"]


def assert_only_allowlisted_commands(record: dict[str, Any]) -> None:
    """A full run's record: nothing outside the allowlist, maxTimeMS on every aggregation, no blocking command,
    and DB-02 compared documents (no server digest). Called on the full runs of tests/scenarios/test_scale_out.py
    (serial and two xdist workers), which run every check; a third full run here would only repeat them."""
    data = [t for t in record["tests"] if str(t["criterion"]).startswith("DB-")]
    assert data and all(t["outcome"] in ("passed", "skipped") for t in data), [
        (t["label"], t.get("message")) for t in data if t["outcome"] not in ("passed", "skipped")]
    commands = record["mongo_commands"]
    assert commands["outside_allowlist"] == {} and commands["aggregate_without_maxTimeMS"] == {}, commands
    assert commands["allow_blocking_commands"] is False
    sent = commands["sent"]
    assert {"source", "target"} <= set(sent), sent
    assert all(sent[side].get("find", 0) > 0 and sent[side].get("aggregate", 0) > 0 for side in ("source", "target"))
    assert not {name.lower() for names in sent.values() for name in names} & BLOCKING, sent
    facts = _content_facts(record)
    assert facts and all(f["method"] == "documents" and f["digest"].startswith("unavailable: ") for f in facts)


def test_the_opt_in_sends_dbhash_and_says_so(sandbox: Sandbox, run_checks: Any) -> None:
    target = dataclasses.replace(sandbox.target(), allow_blocking_commands=True, cloud_functions=())
    result = run_checks(target, "-k", "test_content", only=("test_data.py",))
    commands = result.record["mongo_commands"]
    assert commands["allow_blocking_commands"] is True and commands["outside_allowlist"] == {}
    assert commands["sent"]["source"]["dbHash"] == commands["sent"]["target"]["dbHash"] > 0
    methods = {f["method"] for f in _content_facts(result.record)}
    assert methods == {"server dbHash equal (allow_blocking_commands = true)"}, methods
    assert "allow_blocking_commands = true" in (result.run_dir / "report.html").read_text()


def test_polite_scans_are_stated_and_still_find_nothing_wrong(sandbox: Sandbox, run_checks: Any) -> None:
    target = dataclasses.replace(sandbox.target(), cloud_functions=(),
                                 scans=Scans(read_preference="secondaryPreferred", max_docs_per_s=50_000,
                                             aggregation_timeout_s=120))
    result = run_checks(target, "-k", "test_content or test_no_long_index_keys",
                        only=("test_data.py", "test_indexes.py"))
    assert not result.failing(), result.failing()
    facts = _content_facts(result.record)
    assert facts and all(f["read_preference"] == "secondaryPreferred" and f["max_docs_per_s"] == 50_000
                         for f in facts)
    assert "read preference secondaryPreferred; at most 50000 documents/s" in (
        result.run_dir / "report.html").read_text()
