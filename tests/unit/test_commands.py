"""The command allowlist: what the guarded clients refuse before sending, and what the listener records."""
from __future__ import annotations

import time
from typing import Any

import pytest

from cutover.data.commands import ALLOWED, BLOCKING, CommandLog, check_allowed, merge_facts
from cutover.data.mongo_client import open_mongo
from cutover.errors import CommandRefused, CouldNotVerify
from cutover.sandbox.process import free_port

NEVER_SENT = ["dbHash", "validate", "fsync", "compact", "reIndex", "collMod", "createIndexes", "drop",
              "insert", "update", "delete", "findAndModify", "killOp", "profile", "setParameter"]


def test_current_op_is_refused_unless_it_asks_for_the_suites_own_operations_only() -> None:
    with pytest.raises(CommandRefused, match="refused to send currentOp to the target database without \\$ownOps"):
        check_allowed("currentOp", False, "target", {"active": True})
    check_allowed("currentOp", False, "target", {"currentOp": 1, "$ownOps": True})


@pytest.mark.parametrize("name", NEVER_SENT)
def test_blocking_and_writing_commands_are_refused(name: str) -> None:
    with pytest.raises(CommandRefused, match=f"refused to send {name} to the target database"):
        check_allowed(name, allow_blocking=False, component="target")


def test_refusal_is_a_could_not_verify_that_says_what_to_do() -> None:
    with pytest.raises(CouldNotVerify, match="allow_blocking_commands = true only for a quiesced copy"):
        check_allowed("dbHash", allow_blocking=False, component="source")


def test_only_dbhash_is_unlocked_by_the_opt_in() -> None:
    check_allowed("dbHash", allow_blocking=True, component="target")
    check_allowed("DBHASH", allow_blocking=True, component="target")
    assert set(BLOCKING) == {"dbhash"}
    for name in NEVER_SENT[1:]:
        with pytest.raises(CommandRefused):
            check_allowed(name, allow_blocking=True, component="target")


@pytest.mark.parametrize("name", ["find", "getMore", "aggregate", "listIndexes", "hello", "isMaster",
                                  "buildInfo", "serverStatus", "endSessions", "explain"])
def test_reads_and_driver_housekeeping_are_allowed(name: str) -> None:
    check_allowed(name, allow_blocking=False, component="target")


def test_the_allowlist_holds_no_command_that_writes_or_locks() -> None:
    assert not {n.lower() for n in NEVER_SENT} & set(ALLOWED)


@pytest.fixture
def unreachable() -> Any:
    """A guarded client of a port nobody listens on: sending anything would fail after the timeout."""
    client = open_mongo(f"mongodb://127.0.0.1:{free_port()}/app", timeout_s=0.5, component="target",
                        log=CommandLog())
    yield client
    client.close()


@pytest.mark.parametrize("send", [
    lambda c: c.get_default_database().command("dbHash"),
    lambda c: c.get_default_database().command({"collMod": "GameScore", "validator": {}}),
    lambda c: c.admin.command("fsync"),
    lambda c: c["app"].command("validate", "GameScore"),
    lambda c: c.get_database("app").with_options().command("compact", "GameScore"),
    lambda c: c.get_default_database()["GameScore"].database.command("reIndex", "GameScore"),
    lambda c: c.get_default_database().cursor_command("currentOp"),
    lambda c: c.get_default_database().validate_collection("GameScore"),
])
def test_guarded_client_refuses_before_sending(unreachable: Any, send: Any) -> None:
    started = time.monotonic()
    with pytest.raises(CommandRefused):
        send(unreachable)
    assert time.monotonic() - started < 0.4, "the refusal must come before any server selection"


def test_guarded_client_sends_allowed_commands(unreachable: Any) -> None:
    from pymongo.errors import ServerSelectionTimeoutError

    with pytest.raises(ServerSelectionTimeoutError):
        unreachable.get_default_database().command("ping")


def test_the_log_counts_per_component_and_flags_what_breaks_the_rules() -> None:
    log = CommandLog()
    log.record("source", "find", {"find": "C"})
    log.record("source", "find", {"find": "C"})
    log.record("target", "aggregate", {"aggregate": "C", "pipeline": [{"$match": {}}], "maxTimeMS": 5})
    log.record("target", "aggregate", {"aggregate": "C", "pipeline": [{"$group": {"_id": 1}}]})
    log.record("target", "aggregate", {"aggregate": "C", "pipeline": [{"$out": "x"}], "maxTimeMS": 5})
    log.record("gridfs", "dbHash", {"dbHash": 1})
    facts = log.facts()
    assert facts["sent"] == {"gridfs": {"dbHash": 1}, "source": {"find": 2}, "target": {"aggregate": 3}}
    assert facts["outside_allowlist"] == {"gridfs: dbHash": 1, "target: aggregate with $out/$merge": 1}
    assert facts["aggregate_without_maxTimeMS"] == {"target": 1}


def test_opted_in_dbhash_is_counted_but_not_flagged() -> None:
    log = CommandLog(allow_blocking=True)
    log.record("target", "dbHash", {"dbHash": 1})
    assert log.facts()["sent"] == {"target": {"dbHash": 1}} and not log.facts()["outside_allowlist"]


def test_facts_of_several_processes_add_up() -> None:
    one = {"sent": {"source": {"find": 2}}, "outside_allowlist": {}, "aggregate_without_maxTimeMS": {}}
    two = {"sent": {"source": {"find": 1, "aggregate": 1}, "target": {"find": 3}},
           "outside_allowlist": {"target: drop": 1}, "aggregate_without_maxTimeMS": {"target": 2}}
    assert merge_facts([one, two]) == {
        "sent": {"source": {"aggregate": 1, "find": 3}, "target": {"find": 3}},
        "outside_allowlist": {"target: drop": 1}, "aggregate_without_maxTimeMS": {"target": 2}}
