"""A reply of a shape cutover does not know is an ERROR naming the server version and the field, never a pass and
never "not applicable"; only the sandbox's stand-in, which marks its replies, gets its limits stated instead.
Each case takes a real reply of the corpus and changes the one thing a future server might change."""
from __future__ import annotations

import re
from typing import Any

import pytest

from cutover.data import explain, health, indexes, inventory, longkeys, queries
from cutover.data.replies import STAND_IN, UnknownReply, is_stand_in
from cutover.errors import CouldNotVerify, UnexpectedAnswer
from cutover.model import Query
from tests.reply_corpus import one
from tests.unit.test_reply_corpus import FakeDb

Q = Query(cls="GameScore", where={"playerName": "Zoë"})
# mongoeco 4.11's explain, as it answers over the wire (its engine trace; the `cxp` section marks it)
STAND_IN_EXPLAIN = {"engine": "memory", "strategy": "python", "plan": "EqualsCondition(field='playerName')",
                    "hinted_index": None, "cxp": {"provider": "mongoeco", "interface": "database/mongodb"},
                    "explained_command": "find", "namespace": "app.GameScore", "ok": 1.0}


def raises(server: str, field: str) -> Any:
    return pytest.raises(UnknownReply, match=re.escape(server) + r": \w+ reply: .*" + re.escape(field))


def test_an_explain_without_a_winning_plan_is_an_error_naming_version_and_field() -> None:
    reply = one("7.0", "explain_find").reply()
    del reply["queryPlanner"]["winningPlan"]
    with raises("MongoDB 7.0.12", "queryPlanner.winningPlan is absent"):
        explain.read(reply)
    assert isinstance(UnknownReply("s", "c", "f"), CouldNotVerify)      # so the check ERRORs, never fails or passes


@pytest.mark.parametrize(("release", "name", "change", "field"), [
    ("8.0", "explain_find_express", lambda r: r["queryPlanner"]["winningPlan"].update(stage="EXPRESS_VECTOR"),
     "queryPlanner.winningPlan.stage is 'EXPRESS_VECTOR', a leaf stage cutover does not know"),
    ("6.0", "explain_find", lambda r: r["queryPlanner"]["winningPlan"].pop("queryPlan"),
     "queryPlanner.winningPlan.stage is absent (and no queryPlan"),
    ("5.0", "explain_aggregate", lambda r: r["stages"][0].pop("$cursor"), "stages[0].$cursor is absent"),
    ("8.0-sharded", "explain_find", lambda r: r["queryPlanner"]["winningPlan"]["shards"][1].pop("winningPlan"),
     "queryPlanner.winningPlan.shards[1].winningPlan is absent"),
    ("4.4", "explain_count", lambda r: r["queryPlanner"].pop("winningPlan"), "queryPlanner.winningPlan is absent"),
])
def test_every_explain_shape_that_changes_is_an_error(release: str, name: str, change: Any, field: str) -> None:
    fixture = one(release, name)
    reply = fixture.reply()
    change(reply)
    with raises(fixture.server, field):
        explain.read(reply)


def test_db05_on_a_real_server_without_a_plan_errors_on_the_stand_in_infers_and_says_so() -> None:
    real = FakeDb(explain={"ok": 1.0, "serverInfo": {"version": "8.0.4"}})
    with raises("MongoDB 8.0.4", "queryPlanner.winningPlan is absent"):
        queries.explain_query(real, Q)    # type: ignore[arg-type]
    verdict = queries.explain_query(_StandInDb(), Q)    # type: ignore[arg-type]
    assert verdict.method.startswith(f"inferred from the index list ({STAND_IN} plans no queries")
    assert verdict.stand_in["server"] == STAND_IN and verdict.covered and verdict.index == "player_score"


def test_db04_hinted_counts_real_server_must_show_the_plan_the_stand_in_states_its_limit() -> None:
    assert longkeys.hint_limit(FakeDb(explain=one("4.4", "explain_aggregate").reply()), "GameScore") is None  # type: ignore[arg-type]
    assert longkeys.hint_limit(FakeDb(explain=one("8.0", "explain_aggregate").reply()), "GameScore") is None  # type: ignore[arg-type]
    with raises("MongoDB 8.0.4", "queryPlanner.winningPlan is absent"):
        longkeys.hint_limit(FakeDb(explain={"ok": 1.0, "serverInfo": {"version": "8.0.4"}}), "GameScore")  # type: ignore[arg-type]
    unhinted = one("8.0", "explain_count").reply()            # a plan that does not read the hinted index
    with pytest.raises(UnexpectedAnswer, match=r"MongoDB 8\.0\.4: the plan of a count hinted through _id_ reads "
                                               r"COUNT\+COLLSCAN, not that index"):
        longkeys.hint_limit(FakeDb(explain=unhinted), "GameScore")  # type: ignore[arg-type]
    limit = longkeys.hint_limit(FakeDb(explain=STAND_IN_EXPLAIN), "GameScore")  # type: ignore[arg-type]
    assert limit is not None and limit.text().startswith(f"{STAND_IN} validates hints but plans nothing")


class _StandInDb(FakeDb):
    def __init__(self) -> None:
        super().__init__(explain=STAND_IN_EXPLAIN)

    def __getitem__(self, name: str) -> Any:
        batch = one("8.0", "listIndexes_gamescore").batch()
        return type("Coll", (), {"list_indexes": staticmethod(lambda: batch)})()


@pytest.mark.parametrize(("release", "name", "change", "read", "field"), [
    ("7.0", "serverStatus_standalone", lambda r: r.pop("globalLock"), health.lock_queue,
     "globalLock.currentQueue is absent"),
    ("5.0", "serverStatus_replset", lambda r: r["globalLock"]["currentQueue"].clear(), health.lock_queue,
     "globalLock.currentQueue.total is absent"),
    ("8.0", "serverStatus_replset", lambda r: r.pop("queues"), health.admission_queue,
     "queues.execution.{read,write}.normalPriority.queueLength is absent"),
    ("8.0", "serverStatus_standalone", lambda r: r.pop("uptimeMillis"), health.uptime_ms, "uptimeMillis is None"),
    ("7.0", "serverStatus_replset", lambda r: r["extra_info"].update(user_time_us="n/a"), health.cpu_time_us,
     "extra_info.user_time_us/system_time_us are 'n/a'"),
])
def test_server_status_figures_a_server_owes(release: str, name: str, change: Any, read: Any, field: str) -> None:
    fixture = one(release, name)
    reply = fixture.reply()
    change(reply)
    with raises(fixture.server, field):
        read(reply)


def test_genuinely_unreported_figures_stay_none() -> None:
    assert health.admission_queue(one("6.0", "serverStatus_replset").reply()) is None   # no queue lengths before 7.0
    assert health.cpu_time_us(one("4.4", "serverStatus_standalone").reply()) is None     # the manual promises none
    assert health.lock_queue(one("8.0-sharded", "serverStatus").reply()) is None         # mongos has no lock queue
    stand_in = {"version": "7.0.0", "process": "mongod", "uptimeMillis": 9, "mongoeco": {"embedded": True}}
    assert is_stand_in(stand_in) and health.lock_queue(stand_in) is None
    with raises("MongoDB 7.0.0", "globalLock.currentQueue is absent"):                  # the same, unmarked
        health.lock_queue({k: v for k, v in stand_in.items() if k != "mongoeco"})


def test_host_info_repl_set_status_hello_db_stats() -> None:
    host = one("6.0", "hostInfo").reply()
    del host["system"]["numCores"]
    with raises("MongoDB (version not reported)", "system.numCores is None"):
        health.cores(host)
    status = one("8.0", "replSetGetStatus").reply()
    status["members"][2]["optimeDate"] = status["members"][2].pop("optime")   # a future shape of the optime
    with raises("MongoDB 8.0.4", "members[2].optimeDate (db2.example.net:27017) is {'ts'"):
        health.lag_per_secondary(status, "MongoDB 8.0.4")
    hello = one("5.0", "hello_replset").reply()
    del hello["isWritablePrimary"]
    with raises("MongoDB 5.0 (wire version 13)", "isWritablePrimary is absent"):
        health.topology_of(hello)
    stats = one("7.0", "dbStats").reply()
    stats["indexSize"] = "3 MB"
    with raises("MongoDB (version not known)", "indexSize is '3 MB', not a number"):
        health.storage_used(FakeDb(dbStats=stats))  # type: ignore[arg-type]


def test_unknown_index_options_and_kinds_are_errors() -> None:
    fixture = one("8.0", "listIndexes_gamescore")
    spec = fixture.batch()[1] | {"futureOption": True}
    with raises("MongoDB 8.0.4", "player_score.futureOption = True is an index option cutover does not know"):
        indexes.normalize(spec, fixture.server)
    vector = fixture.batch()[1] | {"key": {"embedding": "vector"}}
    with raises("MongoDB 8.0.4", "key.embedding is 'vector', an index kind cutover does not know"):
        indexes.normalize(vector, fixture.server)


def test_unknown_collection_kinds_and_options_are_errors() -> None:
    fixture = one("8.0", "listCollections")
    entry = fixture.batch()[0] | {"type": "materializedView"}
    with raises("MongoDB 8.0.4", "_User.type is 'materializedView', a kind cutover does not know"):
        inventory.collection_info(entry, fixture.server)
    entry = fixture.batch()[1]
    entry["options"]["compression"] = "zstd"
    with raises("MongoDB 8.0.4", "GameScore.options.compression = 'zstd' is a collection option cutover does not"):
        inventory.collection_info(entry, fixture.server)
