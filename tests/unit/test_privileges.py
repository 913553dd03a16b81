"""SEC-02: roles judged from connectionStatus; a server without access control said so, over the wire."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pymongo
import pytest

from cutover.errors import CouldNotVerify, UnexpectedAnswer
from cutover.sandbox.cache_dir import default_cache_dir
from cutover.sandbox.process import free_port
from cutover.security import suite_role
from cutover.security.privileges import Privileges, app_user_privileges, privilege_problems, privileges
from cutover.security.rights import TARGET
from tests import connection_status_docs as docs

REPO = Path(__file__).resolve().parents[2]
CACHE = default_cache_dir()  # $CUTOVER_CACHE_DIR, else the per-user cache


def facts(*roles: str, database: str = "app", access_control: bool = True) -> Privileges:
    return Privileges(database, ("app@admin",) if access_control else (), roles, access_control)


def test_read_write_on_the_app_database_is_fine() -> None:
    assert privilege_problems(facts("readWrite@app"), production=True) == []


@pytest.mark.parametrize("role", ["root@admin", "clusterAdmin@admin", "userAdminAnyDatabase@admin",
                                  "readWriteAnyDatabase@admin", "dbOwner@admin", "readWrite@admin"])
def test_broad_roles_fail(role: str) -> None:
    (problem,) = privilege_problems(facts("readWrite@app", role), production=False)
    assert role in problem and "readWrite@app," not in problem


def test_db_owner_on_the_app_database_is_not_cluster_wide() -> None:
    assert privilege_problems(facts("dbOwner@app"), production=True) == []


def test_admin_database_fails() -> None:
    assert privilege_problems(facts("readWrite@admin", database="admin"), production=False)[0].startswith(
        "the app's database is 'admin'")


def test_access_control_off_fails_on_production_only() -> None:
    off = facts(access_control=False)
    assert privilege_problems(off, production=False) == []
    assert privilege_problems(off, production=True) == [
        "access control is off: the server answers without any authenticated user"]


class FakeDb:
    """A pymongo-Database stand-in answering a fixed connectionStatus (to reach branches a live server can't)."""

    name = "app"

    def __init__(self, answer: dict[str, Any], listing: Exception | None = None) -> None:
        self.answer, self.listing = answer, listing

    def command(self, command: dict[str, Any]) -> dict[str, Any]:
        return self.answer

    def list_collection_names(self) -> list[str]:
        if self.listing:
            raise self.listing
        return []


def test_roles_are_read_from_connection_status() -> None:
    answer = {"authInfo": {"authenticatedUsers": [{"user": "app", "db": "admin"}],
                           "authenticatedUserRoles": [{"role": "root", "db": "admin"},
                                                      {"role": "readWrite", "db": "app"}]}, "ok": 1}
    got = privileges(FakeDb(answer))
    assert got.users == ("app@admin",) and got.roles == ("readWrite@app", "root@admin")
    assert got.access_control and got.broad_roles == ("root@admin",)


def test_auth_on_without_credentials_cannot_be_verified() -> None:
    empty = {"authInfo": {"authenticatedUsers": [], "authenticatedUserRoles": []}, "ok": 1}
    refused = pymongo.errors.OperationFailure("command listCollections requires authentication", 13)
    with pytest.raises(CouldNotVerify, match="needs the app's credentials"):
        privileges(FakeDb(empty, refused))


def test_answer_without_auth_info_is_unexpected() -> None:
    with pytest.raises(UnexpectedAnswer, match="authInfo"):
        privileges(FakeDb({"ok": 1}))


@pytest.fixture(scope="module")
def server_db(mongoeco: pymongo.MongoClient[Any]) -> Any:
    return mongoeco["app"]


def test_server_without_auth_reports_access_control_off(server_db: Any) -> None:
    got = privileges(server_db)
    assert (got.database, got.users, got.roles, got.access_control) == ("app", (), (), False)
    assert privilege_problems(got, production=True) and not privilege_problems(got, production=False)


def test_unreachable_server_cannot_be_verified() -> None:
    client: Any = pymongo.MongoClient(f"mongodb://127.0.0.1:{free_port()}/x", serverSelectionTimeoutMS=300)
    with pytest.raises(CouldNotVerify):
        privileges(client["x"])
    client.close()


# -- database.app_user: the app's own user judged through usersInfo ----------------------------------------------
class AppUserDb(FakeDb):
    """The suite's connection (connectionStatus: the suite's least-privilege user) and usersInfo on ``client``."""

    def __init__(self, users_info: dict[str, Any] | Exception) -> None:
        super().__init__(docs.READ_AND_CLUSTER_MONITOR)
        self.users_info = users_info
        self.asked: list[tuple[str, dict[str, Any]]] = []
        self.client = self

    def __getitem__(self, name: str) -> Any:
        outer = self

        class _Db:
            def command(self, command: dict[str, Any]) -> dict[str, Any]:
                outer.asked.append((name, command))
                if isinstance(outer.users_info, Exception):
                    raise outer.users_info
                return outer.users_info
        return _Db()


def test_the_apps_user_is_judged_not_the_suites_own() -> None:
    """The suite's own reader passes least privilege; the app's user, root through a custom role, does not."""
    db = AppUserDb(docs.users_info("parse", "admin", [("parseApp", "admin")], inherited=[("root", "admin")]))
    got = app_user_privileges(db, "parse", "admin")
    assert db.asked == [("admin", {"usersInfo": {"user": "parse", "db": "admin"}, "showPrivileges": True})]
    assert (got.users, got.roles, got.judged) == (("parse@admin",), ("parseApp@admin", "root@admin"),
                                                  "database.app_user")
    assert privilege_problems(got, production=True) == [
        "the user parse@admin holds root@admin; grant readWrite on the app's database only"]
    fine = app_user_privileges(AppUserDb(docs.users_info("parse", "app", [("readWrite", "app")])), "parse", "app")
    assert privilege_problems(fine, production=True) == [] and fine.facts()["judged"] == "database.app_user"


def test_an_app_user_the_server_does_not_hold_or_will_not_show_is_not_verified() -> None:
    with pytest.raises(CouldNotVerify, match="parse@admin: the target server has no such user"):
        app_user_privileges(AppUserDb(docs.NO_SUCH_USER), "parse", "admin")
    refused = pymongo.errors.OperationFailure("not authorized on admin to execute command { usersInfo: ... }", 13)
    with pytest.raises(CouldNotVerify, match=r"not authorized on admin to execute command .*; usersInfo of another "
                                             r"user needs viewUser on admin: `cutover roles`"):
        app_user_privileges(AppUserDb(refused), "parse", "admin")
    with pytest.raises(UnexpectedAnswer, match="usersInfo answered without users"):
        app_user_privileges(AppUserDb({"ok": 1}), "parse", "admin")


def test_the_stand_in_cannot_show_another_users_roles(server_db: Any) -> None:
    """Over the wire: a server without usersInfo leaves SEC-02 unverified, never passed."""
    with pytest.raises(CouldNotVerify, match=r"database\.app_user parse@admin: the server did not show"):
        app_user_privileges(server_db, "parse", "admin")


# -- privileges granted directly by a custom role, not by a broad built-in one -------------------------------------
def judged(reply: dict[str, Any]) -> list[str]:
    return privilege_problems(privileges(FakeDb(reply)), production=True)


def test_the_documented_built_in_roles_grant_nothing_beyond_the_app_database() -> None:
    for reply in (docs.APP_READ_WRITE, docs.READ_AND_CLUSTER_MONITOR, docs.READ_ANY_DATABASE, docs.TWO_COLLECTIONS):
        assert privileges(FakeDb(reply)).broad_grants == () and judged(reply) == [], reply
    owner = docs.reply([("parse", "app")], [("dbOwner", "app")],
                       [(docs.db("app"), ["createUser", "dropUser", "grantRole", "insert", "dropDatabase"])])
    assert judged(owner) == []            # user administration of the app's own database is dbOwner's, allowed
    view_user = {"resource": {"db": "admin", "collection": ""}, "actions": ["viewUser"]}
    suite = docs.custom_role("cutoverReader", [*suite_role.privileges(TARGET, "app"), view_user])
    assert judged(suite) == []            # the suite's own role, viewUser included, is least-privileged too


@pytest.mark.parametrize(("privilege", "named"), [
    ((docs.db("admin"), ["createUser", "find"]), "createUser on admin.*"),
    ((docs.db(""), ["insert", "find"]), "insert on *.*"),
    ((docs.db("admin", "system.users"), ["update"]), "update on admin.system.users"),
    ((docs.CLUSTER, ["serverStatus", "shutdown"]), "shutdown on the cluster"),
    (({"anyResource": True}, ["find"]), "find on any resource"),
    ((docs.db("app"), ["anyAction"]), "anyAction on app.*"),
])
def test_a_custom_role_granting_administration_directly_fails(privilege: tuple[dict[str, Any], list[str]],
                                                              named: str) -> None:
    custom = docs.reply([("parse", "admin")], [("parseApp", "admin")],
                        [(docs.db("app"), docs.READ_WRITE), privilege])
    (problem,) = judged(custom)
    assert problem.startswith(f"the user parse@admin is granted {named} through parseApp@admin;"), problem


def test_the_app_users_privileges_come_from_users_info() -> None:
    info = docs.users_info("parse", "admin", [("parseApp", "admin")])
    info["users"][0]["inheritedPrivileges"] = [{"resource": {"db": "", "collection": ""}, "actions": ["remove"]}]
    (problem,) = privilege_problems(app_user_privileges(AppUserDb(info), "parse", "admin"), production=True)
    assert "is granted remove on *.* through parseApp@admin" in problem
