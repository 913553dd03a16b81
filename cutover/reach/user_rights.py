"""The preflight's second question to each MongoDB that answered: which rights does the user of its URI hold?

One ``connectionStatus`` with ``showPrivileges: true`` on the ping's own connection, right after its ``ping``
(no second connection, the same timeout). When no user is authenticated, one ``listCollections`` tells whether
the server answers without one (access control off: every action allowed) or refuses. What is missing is
judged by :func:`cutover.security.rights.judge` and reported as a warning before any check runs: the checks
that need a missing right then ERROR as "could not verify" when they meet it. A failure here is never a reason
to call the component dead: its rights are "not checked", with the reason.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from cutover.errors import UnexpectedAnswer
from cutover.model import Target
from cutover.reach.breaker import GRIDFS_DB, SOURCE_DB, Component
from cutover.security import (
    GRIDFS,
    SOURCE,
    TARGET,
    UNAUTHORIZED,
    RightsCheck,
    Setting,
    judge,
    parse_connection_status,
)

SIDES = {SOURCE_DB: SOURCE, GRIDFS_DB: GRIDFS}   # every other MongoDB component is the target database


def ask_rights(client: Any, component: Component, setting: Setting) -> RightsCheck:
    """The rights check of ``client``'s user (a pymongo client that just answered a ping)."""
    from pymongo.errors import PyMongoError

    db = client[setting.database]
    try:
        reply = db.command({"connectionStatus": 1, "showPrivileges": True})
    except PyMongoError as exc:
        return RightsCheck(component.name, (), not_checked=f"connectionStatus failed: {_first_line(exc)}")
    opened = None if _users(reply) else _open_without_credentials(db)
    return judge(reply, _with_topology(setting, client), component.name, opened)


def _users(reply: Mapping[str, Any]) -> tuple[str, ...]:
    """The authenticated users of a connectionStatus reply; () for a reply without authInfo (judge says why)."""
    try:
        return parse_connection_status(reply).users
    except UnexpectedAnswer:
        return ()


def setting_for(target: Target, component: Component, uri: str) -> Setting:
    side = SIDES.get(component.name, TARGET)
    quota = side == TARGET and target.database.storage_quota_bytes > 0
    return Setting(side, uri_database(uri), storage_quota=quota,
                   app_user=target.database.app_user if side == TARGET else "")


def uri_database(uri: str) -> str:
    """The database a MongoDB URI names in its path ("admin" when it names none, as the driver's auth source)."""
    path = uri.partition("?")[0].partition("://")[2].partition("/")[2]
    return unquote(path) or "admin"


def _with_topology(setting: Setting, client: Any) -> Setting:
    """The setting, told whether the server is a replica set member (from the hello the ping's connection read)."""
    servers = client.topology_description.server_descriptions().values()
    replica_set = any(server.replica_set_name for server in servers)
    return dataclasses.replace(setting, replica_set=replica_set)


def _open_without_credentials(db: Any) -> bool | None:
    """True when the server lists collections for a connection without a user, False when it refuses, None when
    neither could be told."""
    from pymongo.errors import OperationFailure, PyMongoError

    try:
        db.list_collection_names()
    except OperationFailure as exc:
        return False if exc.code == UNAUTHORIZED else None
    except PyMongoError:
        return None
    return True


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:200]
