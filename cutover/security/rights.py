"""The suite's own rights: the privilege actions its database users need, and what a missing one leaves unverified.

Every command the suite may send (:data:`cutover.data.commands.ALLOWED`) needs at most one privilege action
(MongoDB's "Privilege Actions" reference): ``find`` covers find, getMore, aggregate (without ``$out``/``$merge``),
count, distinct and an ``explain`` of them; ``listCollections``, ``listIndexes`` and ``dbStats`` are database
actions; ``serverStatus``, ``hostInfo``, ``replSetGetStatus`` and ``getParameter`` are actions on the cluster
resource (none of them administers anything: they are read-only diagnostics, the part of MongoDB's
``clusterMonitor`` role the suite uses). ``connectionStatus``, ``buildInfo``, ``hello``, ``ping``, killing its own
cursors and ``currentOp`` with ``$ownOps`` need no privilege (a user may always see its own operations on a
mongod).

:data:`NEEDS` is the one table: the preflight judges a ``connectionStatus`` reply against it
(:func:`shortfalls`, pure: facts in, facts out), and the role commands in ``docs/targets.md`` and ``cutover
init`` are written from it (:mod:`cutover.security.suite_role`).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cutover.errors import UnexpectedAnswer
from cutover.run import CRITERIA
from cutover.security.privileges import ConnectionStatus, parse_connection_status

SOURCE, TARGET, GRIDFS = "source", "target", "gridfs"    # which database user (the command log's names)
DATABASE, CLUSTER = "database", "cluster"                 # where an action is granted
USER_DB = "user database"                                 # ... or on the app user's database (its authSource)
REPLICA_SET, STORAGE_QUOTA = "on a replica set", "when storage_quota_bytes is declared"
APP_USER = "when database.app_user is declared"


@dataclass(frozen=True)
class Need:
    """One privilege action one database user (source, target or GridFS) needs."""

    action: str                    # MongoDB's name of the privilege action
    atlas: str                     # the same action as Atlas custom roles name it
    scope: str                     # DATABASE (the database the URI names), CLUSTER or USER_DB
    commands: tuple[str, ...]      # what the suite sends that needs it
    side: str                      # whose user needs it
    criteria: tuple[str, ...]      # left unverified without it: their checks ERROR ("could not verify")
    when: str = ""                 # "" (always), REPLICA_SET, STORAGE_QUOTA or APP_USER
    effect: str = ""               # what else goes missing without it (a fact, no criterion)


_FIND = ("find", "getMore", "aggregate", "count", "distinct", "explain")
_TARGET_READS = ("DB-01", "DB-02", "DB-03", "DB-04", "DB-05", "DB-07", "DB-08", "FILE-01", "FILE-02", "FILE-04",
                 "API-02", "API-03", "API-04", "API-05", "API-06", "API-07", "CLI-01")
NEEDS: tuple[Need, ...] = (
    Need("find", "FIND", DATABASE, _FIND, TARGET, _TARGET_READS),
    Need("listCollections", "LIST_COLLECTIONS", DATABASE, ("listCollections",), TARGET,
         ("DB-01", "DB-02", "DB-03", "DB-04", "DB-07", "DB-08")),
    Need("listIndexes", "LIST_INDEXES", DATABASE, ("listIndexes",), TARGET, ("DB-03", "DB-04", "DB-05")),
    Need("dbStats", "DB_STATS", DATABASE, ("dbStats",), TARGET, ("DB-06",), when=STORAGE_QUOTA),
    Need("serverStatus", "SERVER_STATUS", CLUSTER, ("serverStatus",), TARGET, ("DB-06",)),
    Need("hostInfo", "HOST_INFO", CLUSTER, ("hostInfo",), TARGET, ("DB-06",)),
    Need("replSetGetStatus", "REPLSET_GET_STATUS", CLUSTER, ("replSetGetStatus",), TARGET, ("DB-06",),
         when=REPLICA_SET),
    Need("getParameter", "GET_PARAMETER", CLUSTER, ("getParameter",), TARGET, (),
         effect="DB-04's facts show the feature compatibility version as unavailable"),
    Need("viewUser", "", USER_DB, ("usersInfo",), TARGET, ("SEC-02",), when=APP_USER),
    Need("find", "FIND", DATABASE, _FIND[:4], SOURCE, ("DB-01", "DB-02", "DB-03", "DB-07", "DB-08", "API-06")),
    Need("listCollections", "LIST_COLLECTIONS", DATABASE, ("listCollections",), SOURCE,
         ("DB-01", "DB-02", "DB-03", "DB-07")),
    Need("listIndexes", "LIST_INDEXES", DATABASE, ("listIndexes",), SOURCE, ("DB-03",)),
    Need("find", "FIND", DATABASE, _FIND[:3], GRIDFS, ("FILE-01", "FILE-04", "API-04")),
)
NO_PRIVILEGE = ("connectionStatus", "buildInfo", "hello", "ping", "killCursors (its own cursors)", "endSessions",
                "currentOp with $ownOps")


@dataclass(frozen=True)
class Setting:
    """What decides which needs apply to one database user."""

    side: str                      # SOURCE, TARGET or GRIDFS
    database: str                  # the database its URI names
    replica_set: bool = False      # the server is a replica set member (replSetGetStatus is then asked)
    storage_quota: bool = False    # the target declares storage_quota_bytes (dbStats is then asked)
    app_user: str = ""             # database.app_user ("name@authdb"): SEC-02 asks usersInfo of it

    @property
    def app_user_db(self) -> str:
        return self.app_user.rpartition("@")[2]


@dataclass(frozen=True)
class Shortfall:
    """An action the user lacks: where it is needed and what it leaves unverified."""

    action: str
    resource: str                  # "app" (the database) or "the cluster"
    criteria: tuple[str, ...]
    effect: str = ""
    partial: tuple[str, ...] = ()  # collections it is granted on, when only on some


def needs_for(setting: Setting) -> tuple[Need, ...]:
    """The needs that apply to this user."""
    skipped = {REPLICA_SET: not setting.replica_set, STORAGE_QUOTA: not setting.storage_quota,
               APP_USER: not setting.app_user, "": False}
    return tuple(n for n in NEEDS if n.side == setting.side and not skipped[n.when])


def shortfalls(status: ConnectionStatus, setting: Setting) -> tuple[Shortfall, ...]:
    """Every applicable need the listed privileges do not grant (``status.privileges`` must be listed)."""
    grants = status.privileges or ()
    missing = []
    for need in needs_for(setting):
        holding = [g for g in grants if g.allows(need.action)]
        if need.scope == CLUSTER and not any(g.cluster or g.any_resource for g in holding):
            missing.append(Shortfall(need.action, "the cluster", need.criteria, need.effect))
        elif need.scope == USER_DB and setting.app_user not in status.users and not any(
                g.covers_database(setting.app_user_db) for g in holding):   # a user may always view itself
            missing.append(Shortfall(need.action, setting.app_user_db, need.criteria, need.effect))
        elif need.scope == DATABASE and not any(g.covers_database(setting.database) for g in holding):
            some = tuple(sorted(str(g.collection) for g in holding if g.db in ("", setting.database)
                                and g.collection and not g.collection.startswith("system.")))
            missing.append(Shortfall(need.action, setting.database, need.criteria, need.effect, some))
    return tuple(missing)


def unverified(found: tuple[Shortfall, ...]) -> tuple[str, ...]:
    """The criteria the shortfalls leave unverified, in catalogue order."""
    order = list(CRITERIA)
    return tuple(sorted({c for s in found for c in s.criteria}, key=lambda c: (order.index(c), c)))


@dataclass(frozen=True)
class RightsCheck:
    """The rights of one database user, as the preflight found them."""

    component: str                         # "target database", ...
    users: tuple[str, ...]                 # "user@db"; () when the URI names none
    missing: tuple[Shortfall, ...] = ()
    not_checked: str = ""                  # why the privileges could not be judged ("" when they were)
    access_control: bool = True            # False: the server answers without any user (every action allowed)

    def facts(self) -> dict[str, Any]:
        return {"users": list(self.users), "access_control": self.access_control, "not_checked": self.not_checked,
                "missing": [{"action": s.action, "on": s.resource, "criteria": list(s.criteria),
                             "granted_on_collections": list(s.partial), "effect": s.effect} for s in self.missing],
                "unverified": list(unverified(self.missing))}

    def line(self) -> str | None:
        """One warning line naming what is missing and the criteria it leaves unverified; None when nothing is."""
        if not self.missing:
            return None
        who = f"user {', '.join(self.users)}" if self.users else "connection (its URI names no user)"
        lacks = ", ".join(_lack(s) for s in self.missing)
        left = unverified(self.missing)
        text = f"cutover rights: the {self.component} {who} lacks {lacks}"
        if left:
            text += f"; not verifiable, their checks will ERROR: {', '.join(left)}"
        effects = [s.effect for s in self.missing if s.effect]
        return text + "".join(f"; {e}" for e in effects) + f"; {ROLE_HINT}"


def _without_user(status: ConnectionStatus, setting: Setting, component: str, open_: bool | None) -> RightsCheck:
    if open_ is None:
        return RightsCheck(component, (), not_checked="no user is authenticated, and the server did not say "
                                                       "whether it needs one")
    if open_:
        return RightsCheck(component, (), access_control=False)   # access control off: SEC-02's finding
    return RightsCheck(component, (), shortfalls(status, setting))


ROLE_HINT = "the role the suite needs: `cutover roles`, or docs/targets.md (\"The suite's own database user\")"


def _lack(short: Shortfall) -> str:
    where = f"{short.action} on {short.resource}"
    return f"{where} (granted only on {', '.join(short.partial)})" if short.partial else where


def judge(reply: Mapping[str, Any], setting: Setting, component: str,
          open_without_credentials: bool | None = None) -> RightsCheck:
    """The rights check of a ``connectionStatus`` (``showPrivileges: true``) reply; ``open_without_credentials``
    (asked only when no user is authenticated) says whether the server answers a connection with no user."""
    try:
        status = parse_connection_status(reply)
    except UnexpectedAnswer as exc:
        return RightsCheck(component, (), not_checked=str(exc))
    if not status.users:
        return _without_user(status, setting, component, open_without_credentials)
    if status.privileges is None:
        return RightsCheck(component, status.users, not_checked="the server did not list the user's privileges")
    if status.roles and not status.privileges:   # a real server lists the privileges of every role it grants
        return RightsCheck(component, status.users,
                           not_checked="the server listed roles but no privileges (a stand-in without privileges?)")
    return RightsCheck(component, status.users, shortfalls(status, setting))
