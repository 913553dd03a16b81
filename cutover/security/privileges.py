"""SEC-02: least privilege of the database user the target connects with.

Facts come from ``connectionStatus`` with ``showPrivileges``: the authenticated users, their roles and the
privileges those roles grant. :func:`parse_connection_status` reads a reply into :class:`ConnectionStatus`
(pure: a reply document in, facts out; the preflight's rights check reads the same facts,
:mod:`cutover.security.rights`).
Too broad: a cluster-wide or any-database role (``ADMIN_ROLES``), or an owner/admin role on the ``admin``
database; and the app's database itself must not be ``admin``.

When no user is authenticated, the server is asked for the collection names without credentials: if that
works, access control is off (a server started without ``--auth``, like the sandbox's stand-in). That is
reported as such and is a failure on production targets only: anyone who reaches the port owns the data,
which no role check can excuse; on staging and demo targets it is reported, not failed. If the server
refuses, access control is on but we hold no user, so the roles cannot be judged: CouldNotVerify.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cutover.errors import CouldNotVerify, UnexpectedAnswer, as_could_not_verify

ADMIN_ROLES = frozenset({"root", "__system", "clusterAdmin", "clusterManager", "hostManager",
                         "userAdminAnyDatabase", "dbAdminAnyDatabase", "readWriteAnyDatabase"})
ADMIN_DB_ROLES = frozenset({"dbOwner", "userAdmin", "dbAdmin", "readWrite"})   # held on the admin database
UNAUTHORIZED = 13   # the server's error code for a command the user's roles do not allow
# Privilege actions that administer more than the app's data (MongoDB's "Privilege Actions" reference), for a
# custom role that grants them directly instead of inheriting a built-in one: user and role administration on
# another database than the app's, administration of the deployment on the cluster, and writes on every database
# or on admin. Read-only diagnostics (what clusterMonitor grants) are not among them.
USER_ADMIN = frozenset({"changePassword", "createRole", "createUser", "dropRole", "dropUser", "grantRole",
                        "revokeRole", "setAuthenticationRestriction", "updateRole", "updateUser"})
CLUSTER_ADMIN = frozenset({"addShard", "removeShard", "dropConnections", "fsync", "killop", "killAnyCursor",
                           "killAnySession", "replSetConfigure", "replSetReconfig", "replSetStateChange",
                           "setFeatureCompatibilityVersion", "setParameter", "shutdown", "unlock"})
WRITES = frozenset({"insert", "update", "remove", "dropDatabase", "dropCollection", "createCollection",
                    "renameCollectionSameDB", "createIndex", "dropIndex"})


@dataclass(frozen=True)
class Grant:
    """One ``authenticatedUserPrivileges`` entry: a resource document and the actions granted on it.

    ``db`` and ``collection`` are as the server writes them ("" is "every": ``{db: "app", collection: ""}`` is
    every non-system collection of app and the database itself, ``{db: "", collection: ""}`` every database's);
    ``cluster`` is ``{cluster: true}``, ``any_resource`` ``{anyResource: true}``. Other resources (such as
    ``system_buckets``) have all four unset and match nothing the suite needs."""

    db: str | None
    collection: str | None
    cluster: bool
    any_resource: bool
    actions: frozenset[str]

    def allows(self, action: str) -> bool:
        """Whether the grant holds ``action`` (``anyAction``, as __system holds it, is every action)."""
        return action in self.actions or "anyAction" in self.actions

    def covers_database(self, database: str) -> bool:
        """Whether the grant reaches every (non-system) collection of ``database`` and the database itself."""
        return self.any_resource or (self.db in ("", database) and self.collection == "")

    def label(self) -> str:
        if self.any_resource:
            return "any resource"
        if self.cluster:
            return "the cluster"
        return f"{self.db or '*'}.{self.collection or '*'}"


@dataclass(frozen=True)
class ConnectionStatus:
    """What ``connectionStatus`` says of a connection: users ("user@db"), roles ("role@db") and, when the
    server listed them (``showPrivileges: true``), the privileges; ``None`` when it did not."""

    users: tuple[str, ...]
    roles: tuple[str, ...]
    privileges: tuple[Grant, ...] | None


def parse_connection_status(reply: Mapping[str, Any]) -> ConnectionStatus:
    """The facts of a ``connectionStatus`` reply; UnexpectedAnswer when it holds no ``authInfo``."""
    info = reply.get("authInfo")
    if not isinstance(info, Mapping):
        raise UnexpectedAnswer(f"connectionStatus answered without authInfo: {sorted(reply)}")
    users = tuple(f"{u.get('user')}@{u.get('db')}" for u in _documents(info.get("authenticatedUsers")))
    roles = tuple(sorted(f"{r.get('role')}@{r.get('db')}" for r in _documents(info.get("authenticatedUserRoles"))))
    listed = info.get("authenticatedUserPrivileges")
    grants = tuple(_grant(p) for p in _documents(listed)) if isinstance(listed, list) else None
    return ConnectionStatus(users, roles, grants)


def _documents(value: Any) -> list[Mapping[str, Any]]:
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def _grant(entry: Mapping[str, Any]) -> Grant:
    resource = entry.get("resource")
    resource = resource if isinstance(resource, Mapping) else {}
    actions = entry.get("actions")
    names = frozenset(str(a) for a in actions) if isinstance(actions, list) else frozenset()
    db, collection = resource.get("db"), resource.get("collection")
    return Grant(db if isinstance(db, str) else None, collection if isinstance(collection, str) else None,
                 resource.get("cluster") is True, resource.get("anyResource") is True, names)


@dataclass(frozen=True)
class Privileges:
    database: str
    users: tuple[str, ...]                 # "user@db"
    roles: tuple[str, ...]                 # "role@db"
    access_control: bool                   # False: the server answered without any authenticated user
    judged: str = "the user of database.uri"   # whose roles these are: or database.app_user's
    grants: tuple[Grant, ...] = ()         # the privileges those roles grant, as the server listed them

    @property
    def broad_roles(self) -> tuple[str, ...]:
        return tuple(r for r in self.roles if _is_broad(*r.rsplit("@", 1)))

    @property
    def broad_grants(self) -> tuple[str, ...]:
        """Privileges beyond the app's database, however granted ("createUser on admin.*")."""
        return tuple(found for grant in self.grants for found in _broad_actions(grant, self.database))

    def facts(self) -> dict[str, object]:
        return {"database": self.database, "judged": self.judged, "users": list(self.users),
                "roles": list(self.roles), "access_control": self.access_control,
                "broad_roles": list(self.broad_roles), "broad_privileges": list(self.broad_grants)}


def privileges(db: Any) -> Privileges:
    """The privilege facts of ``db``'s connection (a pymongo Database)."""
    status = parse_connection_status(_command(db, {"connectionStatus": 1, "showPrivileges": True}))
    access_control = bool(status.users) or not _open_without_credentials(db)
    return Privileges(db.name, status.users, status.roles, access_control, grants=status.privileges or ())


def app_user_privileges(db: Any, name: str, auth_db: str) -> Privileges:
    """The privilege facts of the app's own user ``name@auth_db`` (``database.app_user``), read with ``usersInfo``
    through ``db``'s connection; whether access control is on is still the connection's finding."""
    connection = privileges(db)
    try:
        reply = db.client[auth_db].command({"usersInfo": {"user": name, "db": auth_db}, "showPrivileges": True})
    except Exception as exc:
        unverified = as_could_not_verify(exc)
        if unverified is not None:
            raise unverified from exc
        raise CouldNotVerify(f"database.app_user {name}@{auth_db}: the server did not show the user's roles "
                             f"({_refusal(exc, auth_db)})") from exc
    roles, grants = parse_users_info(reply, name, auth_db)
    return Privileges(db.name, (f"{name}@{auth_db}",), roles, connection.access_control, "database.app_user", grants)


def _refusal(exc: Exception, auth_db: str) -> str:
    """What the server said to usersInfo, in its own words, and what to do when it was a refusal of rights."""
    details = getattr(exc, "details", None)
    said = str(details.get("errmsg")) if isinstance(details, Mapping) and details.get("errmsg") else str(exc)
    said = said.splitlines()[0]
    if getattr(exc, "code", None) == UNAUTHORIZED:
        return f"{said}; usersInfo of another user needs viewUser on {auth_db}: `cutover roles`"
    return f"usersInfo answered: {said}"


def parse_users_info(reply: Mapping[str, Any], name: str, auth_db: str) -> tuple[tuple[str, ...], tuple[Grant, ...]]:
    """The roles ("role@db", granted and inherited) of ``name@auth_db`` in a ``usersInfo`` reply (asked with
    ``showPrivileges``), and the privileges they grant (``inheritedPrivileges``)."""
    users = reply.get("users")
    if not isinstance(users, list):
        raise UnexpectedAnswer(f"usersInfo answered without users: {sorted(reply)}")
    found = [u for u in _documents(users) if u.get("user") == name and u.get("db") == auth_db]
    if not found:
        raise CouldNotVerify(f"database.app_user {name}@{auth_db}: the target server has no such user (check the "
                             "user name and the authSource of the app's databaseURI)")
    granted = [*_documents(found[0].get("roles")), *_documents(found[0].get("inheritedRoles"))]
    grants = tuple(_grant(p) for p in _documents(found[0].get("inheritedPrivileges")))
    return tuple(sorted({f"{r.get('role')}@{r.get('db')}" for r in granted})), grants


def privilege_problems(facts: Privileges, production: bool) -> list[str]:
    """What breaks least privilege (empty when nothing does)."""
    problems = []
    if facts.database == "admin":
        problems.append("the app's database is 'admin'; use a database of its own")
    if facts.broad_grants and not facts.broad_roles:
        shown = ", ".join(facts.broad_grants[:5]) + (f" (+{len(facts.broad_grants) - 5} more)"
                                                     if len(facts.broad_grants) > 5 else "")
        problems.append(f"the user {', '.join(facts.users)} is granted {shown} through {', '.join(facts.roles)}; "
                        "grant readWrite on the app's database only")
    if facts.broad_roles:
        problems.append(f"the user {', '.join(facts.users)} holds {', '.join(facts.broad_roles)}; "
                        "grant readWrite on the app's database only")
    if not facts.access_control and production:
        problems.append("access control is off: the server answers without any authenticated user")
    return problems


def _broad_actions(grant: Grant, database: str) -> list[str]:
    """The actions of ``grant`` that administer beyond ``database`` (each as "action on resource")."""
    if grant.any_resource or "anyAction" in grant.actions:
        return [f"{'anyAction' if 'anyAction' in grant.actions else ', '.join(sorted(grant.actions))} on "
                f"{grant.label()}"]
    if grant.cluster:
        broad = grant.actions & CLUSTER_ADMIN
    elif grant.db is None or grant.db == database:
        broad = frozenset()
    else:   # another database, every database (""), or admin
        broad = grant.actions & USER_ADMIN | (grant.actions & WRITES if grant.db in ("", "admin") else frozenset())
    return [f"{action} on {grant.label()}" for action in sorted(broad)]


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
