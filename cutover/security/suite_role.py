"""The least-privilege role of the suite's own database users, written out from :data:`cutover.security.rights.NEEDS`.

mongosh commands for a self-hosted MongoDB, the Atlas CLI commands and the Atlas Admin API request. The text
between the ``suite-role`` markers of ``docs/targets.md`` is :func:`markdown` (a unit test keeps the two equal:
regenerate with ``cutover roles``); ``cutover init`` and ``cutover roles`` print it. The role and the
preflight's rights check come from the same table, so the role always grants what the preflight asks for.
"""
from __future__ import annotations

import json

from cutover.security.rights import CLUSTER, DATABASE, GRIDFS, NEEDS, NO_PRIVILEGE, SOURCE, TARGET, USER_DB, Need

ROLE, SOURCE_ROLE, USER = "cutoverReader", "cutoverSourceReader", "cutover"
TARGET_DB, SOURCE_DB = "app", "legacy"     # stand-ins for the databases the URIs name
ATLAS_MEDIA_TYPE = "application/vnd.atlas.2023-01-01+json"


def actions(side: str, scope: str) -> list[str]:
    """The privilege actions ``side``'s user needs on ``scope`` (DATABASE or CLUSTER), in table order."""
    return [n.action for n in NEEDS if n.side == side and n.scope == scope]


def privileges(side: str, database: str) -> list[dict[str, object]]:
    """The ``privileges`` of ``side``'s role, as createRole takes them."""
    documents: list[dict[str, object]] = [{"resource": {"db": database, "collection": ""},
                                           "actions": actions(side, DATABASE)}]
    if actions(side, CLUSTER):
        documents.append({"resource": {"cluster": True}, "actions": actions(side, CLUSTER)})
    return documents


def mongosh(role: str, side: str, database: str) -> str:
    """createRole and createUser on one server (run as a user administrator)."""
    return "\n".join(['const admin = db.getSiblingDB("admin")', *_create_role(role, side, database),
                      _create_user(role)])


def _create_role(role: str, side: str, database: str) -> list[str]:
    lines = ["admin.createRole({", f'  role: "{role}",', "  privileges: ["]
    documents = privileges(side, database)
    for i, document in enumerate(documents):
        comma = "," if i < len(documents) - 1 else ""
        lines.append(f"    {{ resource: {_js(document['resource'])}, actions: {_js(document['actions'])} }}{comma}")
    return [*lines, "  ],", "  roles: []", "})"]


def _create_user(role: str) -> str:
    return f'admin.createUser({{ user: "{USER}", pwd: passwordPrompt(), roles: [{{ role: "{role}", db: "admin" }}] }})'


def _js(value: object) -> str:
    """A JSON value written as mongosh code: unquoted keys, spaces inside braces."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k}: {_js(v)}" for k, v in value.items()) + " }"
    return json.dumps(value)


def atlas_actions(target_db: str = TARGET_DB) -> list[str]:
    """The target role's actions as the Atlas CLI's --privilege takes them (no @database: the cluster)."""
    return [f"{n.atlas}@{target_db}" if n.scope == DATABASE else n.atlas for n in _in_role(TARGET)]


def _in_role(side: str) -> list[Need]:
    """The needs the role grants: all but the app user's (viewUser is granted apart, and only when needed)."""
    return [n for n in NEEDS if n.side == side and n.scope != USER_DB]


def atlas_cli(target_db: str = TARGET_DB) -> str:
    return "\n".join([
        f"atlas customDbRoles create {ROLE} \\",
        f"  --privilege {','.join(atlas_actions(target_db))}",
        f"atlas dbusers create --username {USER} --role {ROLE}@admin    # asks for the password",
    ])


def atlas_api_body(target_db: str = TARGET_DB) -> dict[str, object]:
    """The Admin API's request body (POST /api/atlas/v2/groups/{groupId}/customDBRoles/roles)."""
    entries: list[dict[str, object]] = []
    for need in _in_role(TARGET):
        resource = {"db": target_db, "collection": ""} if need.scope == DATABASE else {"cluster": True}
        entries.append({"action": need.atlas, "resources": [resource]})
    return {"roleName": ROLE, "actions": entries, "inheritedRoles": []}


def atlas_api(target_db: str = TARGET_DB) -> str:
    return "\n".join([
        'curl --user "$ATLAS_PUBLIC_KEY:$ATLAS_PRIVATE_KEY" --digest \\',
        f'  --header "Accept: {ATLAS_MEDIA_TYPE}" --header "Content-Type: application/json" \\',
        '  --request POST "https://cloud.mongodb.com/api/atlas/v2/groups/$ATLAS_PROJECT_ID/customDBRoles/roles" \\',
        "  --data @- <<'JSON'", _json_lines(atlas_api_body(target_db)), "JSON",
    ])


def _json_lines(body: dict[str, object]) -> str:
    """The request body as JSON, one action per line."""
    entries = body["actions"]
    assert isinstance(entries, list)
    head = json.dumps({k: v for k, v in body.items() if k != "actions"})[:-1]
    items = ",\n".join(f"  {json.dumps(entry)}" for entry in entries)
    return f'{head}, "actions": [\n{items}\n]}}'


def needs_table() -> str:
    """What each action is for: the commands that need it and the criteria left unverified without it."""
    rows = ["| user | privilege action | granted on | what the suite sends | without it |", "|---|---|---|---|---|"]
    for need in NEEDS:
        where = {CLUSTER: "the cluster", USER_DB: "the app user's database (its authSource)"}.get(
            need.scope, "the database the URI names")
        rows.append(f"| {_side(need)} | {need.action} | {where} | {', '.join(need.commands)} | {_without(need)} |")
    return "\n".join([*rows, "", f"No privilege is needed for {', '.join(NO_PRIVILEGE)}."])


def _side(need: Need) -> str:
    name = {SOURCE: "source", TARGET: "target", GRIDFS: "GridFS (when separate)"}[need.side]
    return f"{name} ({need.when})" if need.when else name


def _without(need: Need) -> str:
    if need.criteria:
        return f"not verifiable (ERROR): {', '.join(need.criteria)}"
    return need.effect


def markdown(target_db: str = TARGET_DB, source_db: str = SOURCE_DB) -> str:
    """The table and the commands, as docs/targets.md holds them and `cutover roles` prints them."""
    gridfs = ", ".join(actions(GRIDFS, DATABASE))
    return "\n".join([needs_table(), "",
        f"Self-hosted MongoDB, on the target's server (mongosh, as a user administrator; `{target_db}` stands for "
        "the database named in the path of `database.uri`):", "",
        "```js", mongosh(ROLE, TARGET, target_db), "```", "",
        f"On the source's server (`source.kind = \"mongodb\"`; `{source_db}` stands for the database named in "
        "`source.uri`):", "",
        "```js", mongosh(SOURCE_ROLE, SOURCE, source_db), "```", "",
        f"A separate GridFS database (`files.gridfs_uri`) needs {gridfs} on that database: add it to "
        f"`{ROLE}`'s privileges. When source and target share a server, create both roles there and one "
        "user holding both.", "",
        "When `database.app_user` is declared (SEC-02 then judges the app's own database user instead of the "
        "suite's), the suite's user also needs viewUser on that user's database (`usersInfo` of another user), "
        "granted apart because it shows every user of that database (`admin` stands for the authSource of the "
        "app's databaseURI):", "",
        "```js", 'db.getSiblingDB("admin").grantPrivilegesToRole("' + ROLE + '", '
        '[{ resource: { db: "admin", collection: "" }, actions: ["viewUser"] }])', "```", "",
        "Atlas's custom roles offer no user-management action, so there the suite cannot read another user's roles: "
        "leave `database.app_user` unset and give one run the app's own URI in `database.uri` (or read the app "
        "user's roles with `atlas dbusers describe NAME`).", "",
        "Atlas CLI (custom roles are per project; a database user authenticates against `admin`):", "",
        "```sh", atlas_cli(target_db), "```", "",
        "Atlas Admin API (then add the user in the UI or with `atlas dbusers create` as above):", "",
        "```sh", atlas_api(target_db), "```", "",
    ])
