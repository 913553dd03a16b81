"""Every reader of a server reply, on every reply of the corpus (tests/fixtures/mongo_replies): MongoDB 3.6 to 8.0,
standalone, replica set and a sharded cluster. What each reply must give is written in the fixture (`expect`)."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from cutover.data import explain, health, indexes, inventory, queries
from cutover.model import Query
from cutover.security import rights
from cutover.security.privileges import app_user_privileges, parse_connection_status, privilege_problems, privileges
from tests.reply_corpus import RELEASES, SHARDED, SOURCE_ERA, Reply, everything, ids, of, one

EVERY_RELEASE = {"explain_find", "explain_count", "explain_count_hinted", "explain_aggregate", "hello_standalone",
                 "hello_replset", "serverStatus_standalone", "serverStatus_replset", "hostInfo", "replSetGetStatus",
                 "connectionStatus_app_user", "listIndexes_user", "listIndexes_idempotency", "listIndexes_gamescore",
                 "listIndexes_activity", "listCollections", "dbStats"}
SOURCE_CATALOGUE = {"listIndexes_user", "listIndexes_idempotency", "listIndexes_gamescore", "listCollections"}
THROUGH_MONGOS = {"explain_find", "explain_count", "explain_count_hinted", "explain_aggregate", "hello",
                  "serverStatus"}


class FakeDb:
    """A pymongo Database answering each command with the corpus reply of that command."""

    name = "app"

    def __init__(self, **replies: dict[str, Any]) -> None:
        self.replies = replies
        self.client = SimpleNamespace(topology_description=None)

    def command(self, command: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        name = command if isinstance(command, str) else next(iter(command))
        return self.replies[name]

    def list_collection_names(self) -> list[str]:
        return ["_User"]     # a server without access control answers an unauthenticated listing


def test_the_corpus_covers_every_release_topology_and_command() -> None:
    names = {release: {r.name for r in everything() if r.release == release}
             for release in (*RELEASES, *SOURCE_ERA, SHARDED)}
    for release in RELEASES:
        assert names[release] >= EVERY_RELEASE, f"{release} lacks {sorted(EVERY_RELEASE - names[release])}"
    for release in SOURCE_ERA:
        assert names[release] >= SOURCE_CATALOGUE, f"{release} lacks {sorted(SOURCE_CATALOGUE - names[release])}"
    assert names[SHARDED] >= THROUGH_MONGOS
    assert {"explain_find_express", "explain_find_clustered"} <= names["8.0"]


@pytest.mark.parametrize("reply", everything(), ids=lambda r: r.id)
def test_every_reply_names_its_server_and_sources(reply: Reply) -> None:
    prov = reply.provenance
    assert prov["server"].startswith(reply.release.split("-")[0] + "."), prov["server"]
    assert prov["topology"] and prov["command"] and prov["reproduces"] and reply.expect
    assert all(isinstance(source, str) and len(source) > 20 for source in prov["reproduces"])


@pytest.mark.parametrize("reply", of("explain"), ids=ids(of("explain")))
def test_explain_plans(reply: Reply) -> None:
    plan = explain.read(reply.reply(), reply.server)
    assert {"stages": list(plan.stages), "indexes": list(plan.indexes), "covered": plan.covered} == reply.expect
    assert explain.read(reply.reply()).stages == plan.stages       # the reply names its own server


@pytest.mark.parametrize("reply", of("explain"), ids=ids(of("explain")))
def test_db05_verdict_from_every_explain_shape(reply: Reply) -> None:
    query = Query(cls="GameScore", where={"playerName": "Zoë"}, sort={"score": -1})
    verdict = queries.verdict_from_explain(query, reply.reply(), reply.server)
    assert (verdict.covered, verdict.method, verdict.stand_in) == (reply.expect["covered"], "explain", {})
    assert verdict.index == ("+".join(reply.expect["indexes"]) if reply.expect["covered"] else "")


@pytest.mark.parametrize("reply", of("hello"), ids=ids(of("hello")))
def test_topology_from_hello(reply: Reply) -> None:
    topo = health.topology_of(reply.reply())
    assert {"kind": topo.kind, "writable_primary": topo.writable_primary} == reply.expect


READERS = {"cpu_us": health.cpu_time_us, "uptime_ms": health.uptime_ms, "lock_queue": health.lock_queue,
           "admission_queue": health.admission_queue, "tickets_available": health.tickets_available}


@pytest.mark.parametrize("reply", of("serverStatus"), ids=ids(of("serverStatus")))
def test_health_figures_from_server_status(reply: Reply) -> None:
    """None only where that server genuinely reports nothing: queues before 7.0, CPU time the manual does not
    promise, no lock manager on mongos."""
    assert {name: read(reply.reply()) for name, read in READERS.items()} == reply.expect


@pytest.mark.parametrize("reply", of("hostInfo"), ids=ids(of("hostInfo")))
def test_cores_from_host_info(reply: Reply) -> None:
    assert health.cores(reply.reply()) == reply.expect["cores"]


@pytest.mark.parametrize("reply", of("replSetGetStatus"), ids=ids(of("replSetGetStatus")))
def test_lag_from_repl_set_status(reply: Reply) -> None:
    assert health.lag_per_secondary(reply.reply(), reply.server) == reply.expect["lag"]


@pytest.mark.parametrize("reply", of("connectionStatus"), ids=ids(of("connectionStatus")))
def test_privileges_from_connection_status(reply: Reply) -> None:
    facts = privileges(FakeDb(connectionStatus=reply.reply()))
    assert {"database": facts.database, "users": list(facts.users), "roles": list(facts.roles),
            "broad_roles": list(facts.broad_roles)} == reply.expect
    assert facts.access_control
    assert bool(facts.broad_grants) == bool(reply.expect["broad_roles"]), facts.broad_grants   # root: anyAction


@pytest.mark.parametrize("reply", of("connectionStatus"), ids=ids(of("connectionStatus")))
def test_rights_from_connection_status(reply: Reply) -> None:
    """The preflight's rights check on a real server's reply: a broad role lacks nothing the suite needs; a
    database-only role (readWrite on the app's database) lacks exactly the cluster actions (DB-06's)."""
    status = parse_connection_status(reply.reply())
    assert list(status.users) == reply.expect["users"] and status.privileges
    found = rights.judge(reply.reply(), rights.Setting(rights.TARGET, reply.expect["database"]), "target database")
    assert not found.not_checked
    if reply.expect["broad_roles"]:
        assert found.missing == ()
    else:
        assert found.missing and {s.resource for s in found.missing} == {"the cluster"}
        assert "DB-06" in rights.unverified(found.missing)


@pytest.mark.parametrize("reply", of("usersInfo"), ids=ids(of("usersInfo")))
def test_the_app_users_privileges_from_users_info(reply: Reply) -> None:
    """SEC-02 with database.app_user: the app's user as usersInfo shows it (granted and inherited roles, the
    privileges they grant), judged through the suite's own connection (its connectionStatus of that release)."""
    db = FakeDb(connectionStatus=one(reply.release, "connectionStatus_app_user").reply(), usersInfo=reply.reply())
    db.client = {"admin": db}    # type: ignore[assignment]
    user, _, auth_db = reply.expect["user"].partition("@")
    facts = app_user_privileges(db, user, auth_db)
    assert {"user": facts.users[0], "roles": list(facts.roles), "broad_privileges": list(facts.broad_grants),
            "problems": privilege_problems(facts, production=True)} == reply.expect


@pytest.mark.parametrize("reply", of("listIndexes"), ids=ids(of("listIndexes")))
def test_index_specs_from_list_indexes(reply: Reply) -> None:
    specs = [indexes.normalize(spec, reply.server) for spec in reply.batch()]
    assert [spec.as_fact() for spec in specs] == reply.expect["indexes"]


@pytest.mark.parametrize("reply", of("listCollections"), ids=ids(of("listCollections")))
def test_collections_from_list_collections(reply: Reply) -> None:
    found = [inventory.collection_info(entry, reply.server) for entry in reply.batch()
             if not inventory.is_system(entry["name"])]
    assert {c.name: {"kind": c.kind, "options": c.compared_options} for c in found} == reply.expect["collections"]


@pytest.mark.parametrize("reply", of("dbStats"), ids=ids(of("dbStats")))
def test_storage_used_from_db_stats(reply: Reply) -> None:
    assert health.storage_used(FakeDb(dbStats=reply.reply())) == reply.expect["storage_used"]  # type: ignore[arg-type]


def test_every_command_of_the_corpus_has_a_reader_tested_above() -> None:
    tested = {"explain", "hello", "serverStatus", "hostInfo", "replSetGetStatus", "connectionStatus", "usersInfo",
              "listIndexes", "listCollections", "dbStats"}
    assert {r.command for r in everything()} == tested
