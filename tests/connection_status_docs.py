"""``connectionStatus`` replies with ``showPrivileges: true``, shaped as MongoDB servers answer them.

Provenance:
- the reply's shape (``authInfo.{authenticatedUsers[{user, db}], authenticatedUserRoles[{role, db}],
  authenticatedUserPrivileges[{resource, actions}]}``, ``ok``): the manual's ``reference/command/connectionStatus``
  page (4.4 to 8.0 editions: unchanged); replica-set members add ``$clusterTime`` and ``operationTime``.
- resource documents (``{db, collection}`` with "" for "every", ``{cluster: true}``, ``{anyResource: true}``):
  the manual's ``reference/resource-document`` page.
- the privileges of the built-in roles: ``src/mongo/db/auth/builtin_roles.yml`` of mongodb/mongo (read,
  readWrite, readAnyDatabase, clusterMonitor; read on ``system.js`` too), as the manual's "Built-In Roles" page
  lists them. The server lists privileges grouped by resource, the actions of every role on that resource
  merged and sorted.
- a user-defined role lists exactly the privileges its ``createRole`` declared (manual: ``createRole``).
Values (user names, databases) are made up.
"""
from __future__ import annotations

from typing import Any

from bson import Timestamp

READ = ["changeStream", "collStats", "dbHash", "dbStats", "find", "killCursors", "listCollections", "listIndexes",
        "listSearchIndexes", "planCacheRead"]
READ_WRITE = sorted([*READ, "convertToCapped", "createCollection", "createIndex", "createSearchIndexes",
                     "dropCollection", "dropIndex", "dropSearchIndex", "insert", "remove", "renameCollectionSameDB",
                     "update", "updateSearchIndex"])
CLUSTER_MONITOR_CLUSTER = sorted(["connPoolStats", "getCmdLineOpts", "getDefaultRWConcern", "getLog", "getParameter",
                                  "getShardMap", "hostInfo", "listDatabases", "listSampledQueries", "listSessions",
                                  "listShards", "netstat", "operationMetrics", "replSetGetConfig", "replSetGetStatus",
                                  "serverStatus", "top", "useUUID", "inprog", "shardingState", "allCollectionStats",
                                  "shardedDataDistribution"])
CLUSTER_MONITOR_DB = ["collStats", "dbStats", "getDatabaseVersion", "getShardVersion", "indexStats"]
CLUSTER_TIME = {"$clusterTime": {"clusterTime": Timestamp(1764500000, 1), "signature": {"keyId": 0}},
                "operationTime": Timestamp(1764500000, 1)}


def reply(users: list[tuple[str, str]], roles: list[tuple[str, str]],
          privileges: list[tuple[dict[str, Any], list[str]]] | None, replica_set: bool = True) -> dict[str, Any]:
    """A connectionStatus reply; ``privileges=None``: asked without showPrivileges (the key is absent)."""
    info: dict[str, Any] = {"authenticatedUsers": [{"user": u, "db": d} for u, d in users],
                            "authenticatedUserRoles": [{"role": r, "db": d} for r, d in roles]}
    if privileges is not None:
        info["authenticatedUserPrivileges"] = [{"resource": r, "actions": sorted(a)} for r, a in privileges]
    return {"authInfo": info, "ok": 1.0, **(CLUSTER_TIME if replica_set else {})}


def db(name: str, collection: str = "") -> dict[str, Any]:
    return {"db": name, "collection": collection}


CLUSTER = {"cluster": True}

# read on the app's database plus clusterMonitor: what "read + clusterMonitor" grants, merged by resource
READ_AND_CLUSTER_MONITOR = reply(
    [("cutover", "admin")], [("clusterMonitor", "admin"), ("read", "app")],
    [(CLUSTER, CLUSTER_MONITOR_CLUSTER), (db(""), CLUSTER_MONITOR_DB), (db("app"), READ),
     (db("app", "system.js"), READ), (db("config"), sorted({*READ, *CLUSTER_MONITOR_DB})),
     (db("config", "system.js"), READ), (db("config", "system.sessions"), CLUSTER_MONITOR_DB),
     (db("local"), sorted({*READ, *CLUSTER_MONITOR_DB})), (db("local", "system.js"), READ),
     (db("local", "system.replset"), ["find"]), (db("local", "replset.election"), ["find"]),
     (db("local", "replset.minvalid"), ["find"]), (db("", "system.profile"), ["find"])])

# the app's own user, as Parse Server deployments usually have it: readWrite on its database, nothing more
APP_READ_WRITE = reply([("parse", "app")], [("readWrite", "app")],
                       [(db("app"), READ_WRITE), (db("app", "system.js"), READ_WRITE)])

# readAnyDatabase: every database's collections, and listDatabases on the cluster
READ_ANY_DATABASE = reply([("reporting", "admin")], [("readAnyDatabase", "admin")],
                          [(CLUSTER, ["listDatabases"]), (db(""), READ), (db("", "system.js"), READ)])

# a user-defined role granting find on two collections only
TWO_COLLECTIONS = reply([("partial", "admin")], [("gameScoresOnly", "admin")],
                        [(db("app", "GameScore"), ["find", "listIndexes"]), (db("app", "_User"), ["find"])])

# read, but on another database than the one the URI names
READ_ELSEWHERE = reply([("cutover", "admin")], [("read", "reporting")],
                       [(db("reporting"), READ), (db("reporting", "system.js"), READ)])

# __system: every action on every resource
SYSTEM = reply([("__system", "local")], [("__system", "admin")], [({"anyResource": True}, ["anyAction"])])

# no user authenticated (a server without --auth answers so; so does one with it, before authentication)
NO_USER = reply([], [], [], replica_set=False)

# asked without showPrivileges
WITHOUT_PRIVILEGES = reply([("cutover", "admin")], [("read", "app")], None)


def custom_role(role: str, privileges: list[dict[str, Any]], user: str = "cutover") -> dict[str, Any]:
    """The reply for a user holding one user-defined role (``privileges`` as its createRole declared them)."""
    return reply([(user, "admin")], [(role, "admin")], [(p["resource"], list(p["actions"])) for p in privileges])


# -- usersInfo {usersInfo: {user, db}, showPrivileges: true} (database.app_user) ----------------------------------
# Provenance: the manual's ``reference/command/usersInfo`` page (4.4 to 8.0 editions), "Output" and "View Specific
# Users": ``users[{_id: "db.user", userId, user, db, mechanisms, roles[{role, db}], inheritedRoles[{role, db}],
# inheritedPrivileges[{resource, actions}], inheritedAuthenticationRestrictions}]``, ``ok``; a user that does not
# exist gives ``users: []``. inheritedRoles lists every role reached through roles, the granted ones included.
def users_info(user: str, db_name: str, roles: list[tuple[str, str]],
               inherited: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    granted = [{"role": r, "db": d} for r, d in roles]
    return {"users": [{"_id": f"{db_name}.{user}", "userId": b"\x00" * 16, "user": user, "db": db_name,
                       "mechanisms": ["SCRAM-SHA-1", "SCRAM-SHA-256"], "roles": granted,
                       "inheritedRoles": [*granted, *({"role": r, "db": d} for r, d in inherited or [])],
                       "inheritedPrivileges": [], "inheritedAuthenticationRestrictions": []}],
            "ok": 1.0}


NO_SUCH_USER = {"users": [], "ok": 1.0}
