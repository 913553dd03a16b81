"""SEC-02: least privilege of the database user the target connects with.

Facts come from ``connectionStatus`` with ``showPrivileges``: the authenticated users and their roles.
Too broad: a cluster-wide or any-database role (``ADMIN_ROLES``), or an owner/admin role on the ``admin``
database; and the app's database itself must not be ``admin``.

When no user is authenticated, the server is asked for the collection names without credentials: if that
works, access control is off (a server started without ``--auth``, like the sandbox's stand-in). That is
reported as such and is a failure on production targets only: anyone who reaches the port owns the data,
which no role check can excuse; on staging and demo targets it is reported, not failed. If the server
refuses, access control is on but we hold no user, so the roles cannot be judged: CouldNotVerify.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cutover.errors import CouldNotVerify, UnexpectedAnswer, as_could_not_verify

ADMIN_ROLES = frozenset({"root", "__system", "clusterAdmin", "clusterManager", "hostManager",
                         "userAdminAnyDatabase", "dbAdminAnyDatabase", "readWriteAnyDatabase"})
ADMIN_DB_ROLES = frozenset({"dbOwner", "userAdmin", "dbAdmin", "readWrite"})   # held on the admin database


@dataclass(frozen=True)
class Privileges:
    database: str
    users: tuple[str, ...]                 # "user@db"
    roles: tuple[str, ...]                 # "role@db"
    access_control: bool                   # False: the server answered without any authenticated user

    @property
    def broad_roles(self) -> tuple[str, ...]:
        return tuple(r for r in self.roles if _is_broad(*r.rsplit("@", 1)))

    def facts(self) -> dict[str, object]:
        return {"database": self.database, "users": list(self.users), "roles": list(self.roles),
                "access_control": self.access_control, "broad_roles": list(self.broad_roles)}


def privileges(db: Any) -> Privileges:
    """The privilege facts of ``db``'s connection (a pymongo Database)."""
    status = _command(db, {"connectionStatus": 1, "showPrivileges": True})
    info = status.get("authInfo")
    if not isinstance(info, dict):
        raise UnexpectedAnswer(f"connectionStatus answered without authInfo: {sorted(status)}")
    users = tuple(f"{u.get('user')}@{u.get('db')}" for u in info.get("authenticatedUsers") or [])
    roles = tuple(sorted(f"{r.get('role')}@{r.get('db')}" for r in info.get("authenticatedUserRoles") or []))
    access_control = bool(users) or not _open_without_credentials(db)
    return Privileges(db.name, users, roles, access_control)


def privilege_problems(facts: Privileges, production: bool) -> list[str]:
    """What breaks least privilege (empty when nothing does)."""
    problems = []
    if facts.database == "admin":
        problems.append("the app's database is 'admin'; use a database of its own")
    if facts.broad_roles:
        problems.append(f"the user {', '.join(facts.users)} holds {', '.join(facts.broad_roles)}; "
                        "grant readWrite on the app's database only")
    if not facts.access_control and production:
        problems.append("access control is off: the server answers without any authenticated user")
    return problems


def _is_broad(role: str, db: str) -> bool:
    return role in ADMIN_ROLES or (db == "admin" and role in ADMIN_DB_ROLES)


def _open_without_credentials(db: Any) -> bool:
    """True when the server lists collections for a connection with no authenticated user."""
    try:
        db.list_collection_names()
    except Exception as exc:
        unverified = as_could_not_verify(exc)
        if unverified is not None:
            raise unverified from exc
        raise CouldNotVerify(f"the server refuses an unauthenticated connection ({exc}); "
                             "the target URI needs the app's credentials to judge its roles") from exc
    return True


def _command(db: Any, command: dict[str, Any]) -> dict[str, Any]:
    try:
        answer = db.command(command)
    except Exception as exc:
        unverified = as_could_not_verify(exc)
        if unverified is not None:
            raise unverified from exc
        raise UnexpectedAnswer(f"{next(iter(command))} failed: {exc}") from exc
    return dict(answer)
