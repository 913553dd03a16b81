"""The suite's own rights: connectionStatus replies (real-shaped: tests/connection_status_docs.py) judged against
the needs table, both ways; the warning line names the criteria left unverified; the documented role grants
everything the preflight asks for; the preflight over the wire records the rights and counts what it sent."""
from __future__ import annotations

from typing import Any

import pymongo
import pytest

from cutover.data import CommandLog
from cutover.data.commands import ALLOWED
from cutover.model import Database, Source, Target
from cutover.reach import SOURCE_DB, TARGET_DB, Breaker, components, run_preflight
from cutover.reach.breaker import Component
from cutover.reach.preflight import Reachability, ping_all
from cutover.reach.user_rights import uri_database
from cutover.run.criteria import CRITERIA
from cutover.security.privileges import parse_connection_status
from cutover.security.rights import (
    APP_USER,
    GRIDFS,
    NEEDS,
    NO_PRIVILEGE,
    SOURCE,
    TARGET,
    RightsCheck,
    Setting,
    judge,
    needs_for,
    shortfalls,
)
from cutover.security.suite_role import SOURCE_ROLE, privileges
from tests import connection_status_docs as docs

# every need of the target applies but viewUser (asked only when database.app_user is declared)
FULL = Setting(TARGET, "app", replica_set=True, storage_quota=True)
COMPONENT = "target database"


def missing(reply: dict[str, Any], setting: Setting = FULL) -> list[str]:
    return [s.action for s in judge(reply, setting, COMPONENT).missing]


def test_read_and_cluster_monitor_grant_everything_the_suite_needs() -> None:
    check = judge(docs.READ_AND_CLUSTER_MONITOR, FULL, COMPONENT)
    assert (check.users, check.missing, check.not_checked, check.line()) == (("cutover@admin",), (), "", None)


def test_the_apps_read_write_user_lacks_the_monitoring_actions_and_the_line_names_db06() -> None:
    check = judge(docs.APP_READ_WRITE, FULL, COMPONENT)
    assert [s.action for s in check.missing] == ["serverStatus", "hostInfo", "replSetGetStatus", "getParameter"]
    assert all(s.resource == "the cluster" for s in check.missing)
    line = check.line()
    assert line is not None and line.startswith("cutover rights: the target database user parse@app lacks "
                                                "serverStatus on the cluster, hostInfo on the cluster")
    assert "not verifiable, their checks will ERROR: DB-06;" in line
    assert "feature compatibility version as unavailable" in line and "docs/targets.md" in line
    assert check.facts()["unverified"] == ["DB-06"]


def test_needs_that_do_not_apply_are_not_asked_for() -> None:
    standalone = Setting(TARGET, "app")   # no replica set: no replSetGetStatus; no quota: no dbStats
    assert missing(docs.APP_READ_WRITE, standalone) == ["serverStatus", "hostInfo", "getParameter"]
    assert {n.action for n in needs_for(standalone)} == {n.action for n in NEEDS if n.side == TARGET} - {
        "replSetGetStatus", "dbStats", "viewUser"}


def test_a_source_user_without_read_rights_leaves_the_source_side_criteria_unverified() -> None:
    check = judge(docs.READ_ELSEWHERE, Setting(SOURCE, "legacy"), "source database")
    assert [s.action for s in check.missing] == ["find", "listCollections", "listIndexes"]
    assert check.facts()["unverified"] == ["DB-01", "DB-02", "DB-03", "DB-07", "DB-08", "API-06"]


def test_any_database_grants_cover_the_app_database_but_not_the_cluster() -> None:
    assert missing(docs.READ_ANY_DATABASE) == ["serverStatus", "hostInfo", "replSetGetStatus", "getParameter"]


def test_a_grant_on_another_database_is_no_grant_here() -> None:
    check = judge(docs.READ_ELSEWHERE, FULL, COMPONENT)
    assert [(s.action, s.resource) for s in check.missing][:4] == [
        ("find", "app"), ("listCollections", "app"), ("listIndexes", "app"), ("dbStats", "app")]
    assert check.facts()["unverified"] == [c for c in CRITERIA if c.startswith(("DB-", "FILE-", "API-", "CLI-"))
                                           and c not in ("FILE-03", "API-01", "API-08")]


def test_grants_on_some_collections_only_are_named() -> None:
    find = next(s for s in judge(docs.TWO_COLLECTIONS, FULL, COMPONENT).missing if s.action == "find")
    assert find.partial == ("GameScore", "_User")
    assert "find on app (granted only on GameScore, _User)" in (judge(docs.TWO_COLLECTIONS, FULL, COMPONENT).line()
                                                                 or "")


def test_any_action_on_any_resource_is_everything() -> None:
    assert missing(docs.SYSTEM) == []


def test_without_access_control_nothing_is_missing_and_without_a_user_everything_is() -> None:
    open_server = judge(docs.NO_USER, FULL, COMPONENT, open_without_credentials=True)
    assert (open_server.access_control, open_server.missing, open_server.line()) == (False, (), None)
    closed = judge(docs.NO_USER, FULL, COMPONENT, open_without_credentials=False)
    assert [s.action for s in closed.missing] == [n.action for n in NEEDS if n.side == TARGET and n.when != APP_USER]
    assert "target database connection (its URI names no user) lacks find on app" in (closed.line() or "")
    unknown = judge(docs.NO_USER, FULL, COMPONENT, open_without_credentials=None)
    assert unknown.not_checked and unknown.line() is None


@pytest.mark.parametrize(("reply", "why"), [
    (docs.WITHOUT_PRIVILEGES, "did not list the user's privileges"),
    (docs.reply([("cutover", "admin")], [("read", "app")], []), "listed roles but no privileges"),
    ({"ok": 1.0}, "without authInfo"),
])
def test_replies_that_cannot_be_judged_are_not_checked_never_a_warning(reply: dict[str, Any], why: str) -> None:
    check = judge(reply, FULL, COMPONENT)
    assert why in check.not_checked and check.missing == () and check.line() is None


def test_the_parser_reads_users_roles_and_resources() -> None:
    status = parse_connection_status(docs.READ_AND_CLUSTER_MONITOR)
    assert status.users == ("cutover@admin",) and status.roles == ("clusterMonitor@admin", "read@app")
    assert status.privileges is not None
    cluster = next(g for g in status.privileges if g.cluster)
    assert cluster.label() == "the cluster" and cluster.allows("serverStatus") and not cluster.allows("find")
    assert parse_connection_status(docs.WITHOUT_PRIVILEGES).privileges is None


def test_the_documented_roles_grant_exactly_what_the_preflight_asks_for() -> None:
    assert missing(docs.custom_role("cutoverReader", privileges(TARGET, "app"))) == []
    source = Setting(SOURCE, "legacy")
    assert judge(docs.custom_role(SOURCE_ROLE, privileges(SOURCE, "legacy")), source, "source database").missing == ()
    assert missing(docs.custom_role("cutoverReader", privileges(TARGET, "other"))) == [
        "find", "listCollections", "listIndexes", "dbStats"]
    gridfs = Setting(GRIDFS, "files")
    assert [s.action for s in shortfalls(parse_connection_status(docs.APP_READ_WRITE), gridfs)] == ["find"]


def test_the_table_names_real_criteria_and_allowlisted_commands() -> None:
    for need in NEEDS:
        assert set(need.criteria) <= set(CRITERIA), need
        assert all(command.lower() in ALLOWED for command in need.commands), need
    assert all(name.split()[0].lower() in ALLOWED for name in NO_PRIVILEGE)


def test_the_database_a_uri_names() -> None:
    assert uri_database("mongodb://u:p%40ss@h1:27017,h2/app?authSource=admin") == "app"
    assert uri_database("mongodb+srv://cluster0.example.net/my%20db") == "my db"
    assert uri_database("mongodb://h/?replicaSet=rs0") == "admin"


def test_the_preflight_keeps_each_users_rights_and_warns_once_per_user() -> None:
    warned = RightsCheck(COMPONENT, ("parse@app",), judge(docs.APP_READ_WRITE, FULL, COMPONENT).missing)
    fine = RightsCheck("source database", ("cutover@admin",))
    component = Component(COMPONENT, "mongodb", "mongodb://db:27017", ())
    source = Component("source database", "mongodb", "mongodb://old:27017", ())
    preflight = ping_all([(component, lambda t: warned), (source, lambda t: fine)], 1.0)
    assert preflight.rights_lines() == [warned.line()]
    facts = preflight.facts()["privileges"]
    assert facts[COMPONENT]["unverified"] == ["DB-06"] and facts["source database"]["missing"] == []
    assert isinstance(preflight.results[0], Reachability) and preflight.results[0].reachable


def test_over_the_wire_the_preflight_asks_connection_status_and_counts_it(mongoeco: pymongo.MongoClient[Any]) -> None:
    host, port = mongoeco.address
    target = Target("t", Source(uri=f"mongodb://{host}:{port}/legacy"),
                    Database(uri=f"mongodb://{host}:{port}/app", storage_quota_bytes=10**9))
    log = CommandLog()
    preflight = run_preflight(target, Breaker(components(target)),
                              {SOURCE_DB: log.listener("source"), TARGET_DB: log.listener("target")})
    rights = preflight.facts()["privileges"]
    assert rights[TARGET_DB] == {"users": [], "access_control": False, "not_checked": "", "missing": [],
                                 "unverified": []}   # the stand-in runs without access control
    assert preflight.rights_lines() == []
    sent = log.facts()["sent"]
    assert sent["target"]["connectionStatus"] == sent["source"]["connectionStatus"] == 1
    assert log.facts()["outside_allowlist"] == {}


def test_an_app_user_to_judge_needs_view_user_on_its_database_unless_it_is_the_suites_own() -> None:
    app_user = Setting(TARGET, "app", app_user="parse@admin")
    check = judge(docs.READ_AND_CLUSTER_MONITOR, app_user, COMPONENT)
    assert [(s.action, s.resource, s.criteria) for s in check.missing] == [("viewUser", "admin", ("SEC-02",))]
    assert "lacks viewUser on admin; not verifiable, their checks will ERROR: SEC-02" in (check.line() or "")
    granted = docs.reply([("cutover", "admin")], [("cutoverReader", "admin")],
                         [(docs.CLUSTER, ["hostInfo", "serverStatus", "getParameter"]), (docs.db("app"), docs.READ),
                          (docs.db("admin"), ["viewUser"])], replica_set=False)
    assert missing(granted, app_user) == []
    assert missing(docs.APP_READ_WRITE, Setting(TARGET, "app", app_user="parse@app")) == [
        "serverStatus", "hostInfo", "getParameter"]                     # a user may always view itself
    assert "viewUser" not in [n.action for n in needs_for(Setting(TARGET, "app"))]
