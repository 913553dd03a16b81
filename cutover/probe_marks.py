"""What makes a probe the suite's own: a reserved name prefix AND a marker carrying the run id and a time.

Nothing that lacks either is ever removed (:mod:`cutover.rest.sweep`) or left out of a count:

=================  ==================================  ====================================================
probe              name (reserved)                     marker
=================  ==================================  ====================================================
probe object       the probe class (``CutoverProbe``)  ``cutoverRun`` (run id) and ``cutoverAt`` (a Date)
probe user         username ``cutover-probe-<run>-<x>`` e-mail ``<username>@probe.cutover.invalid``
probe session      installationId ``cutover-probe-``   the installationId carries the run id
probe file         ``cutover-probe-<run>.txt``          a ledger row (kind ``file``) in the probe class
relation rows      ``_Join:<field>:<probe class>``     owned by probe objects
=================  ==================================  ====================================================

A run id starts with the UTC time the run began (``20261125T230718Z-3fa9c1``), so every marker carries a
time; the sweep also requires Parse's own ``createdAt`` to be older than the grace period. The user's
marker is its e-mail, not an extra field: a field would change the production ``_User`` schema (which DB-02
compares and a locked ``addField`` permission refuses). The ``.invalid`` top-level domain is reserved
(RFC 2606): a verification or welcome mail to a probe user can never reach anyone.

The MongoDB filters below use the field names Parse stores, which are also its REST names for these
fields, so the same filter serves a database count and a REST ``where``.
"""
from __future__ import annotations

import re
from typing import Any

NAME_PREFIX = "cutover-probe-"
RUN_FIELD = "cutoverRun"
AT_FIELD = "cutoverAt"
EMAIL_DOMAIN = "probe.cutover.invalid"
RUN_ID_PATTERN = r"\d{8}T\d{6}Z-[0-9a-f]{6}"
_RUN_ID = re.compile(f"^{RUN_ID_PATTERN}$")
_PREFIX = f"^{re.escape(NAME_PREFIX)}"
USER_MATCH: dict[str, Any] = {
    "username": {"$regex": f"{_PREFIX}{RUN_ID_PATTERN}-"},
    "email": {"$regex": f"{_PREFIX}{RUN_ID_PATTERN}-[0-9a-f]+@{re.escape(EMAIL_DOMAIN)}$", "$options": "i"},
}
SESSION_MATCH: dict[str, Any] = {"installationId": {"$regex": f"{_PREFIX}{RUN_ID_PATTERN}-", "$options": "i"}}
OBJECT_MATCH: dict[str, Any] = {RUN_FIELD: {"$regex": f"^{RUN_ID_PATTERN}$"}, AT_FIELD: {"$exists": True}}


def is_run_id(text: Any) -> bool:
    return isinstance(text, str) and bool(_RUN_ID.match(text))


def username(run_id: str, suffix: str) -> str:
    """A probe user's name: the prefix, the run id, a random hex suffix."""
    return f"{NAME_PREFIX}{run_id}-{suffix}"


def email(probe_username: str) -> str:
    return f"{probe_username}@{EMAIL_DOMAIN}"


def installation_id(run_id: str, suffix: str) -> str:
    """The installation id a probe user's sessions carry (Parse stores it on every ``_Session``)."""
    return f"{NAME_PREFIX}{run_id}-{suffix}".lower()


def file_name(run_id: str) -> str:
    """The name a probe file is uploaded under (the server adds a random prefix)."""
    return f"{NAME_PREFIX}{run_id}.txt"


def is_probe_user(doc: dict[str, Any]) -> bool:
    """Both the reserved username and the marker e-mail (as Parse returns a user over REST)."""
    name, mail = str(doc.get("username", "")), str(doc.get("email", ""))
    return bool(re.match(USER_MATCH["username"]["$regex"], name)) and mail.lower() == email(name).lower()


def is_probe_object(doc: dict[str, Any]) -> bool:
    """Both marker fields of an object of the probe class (the class is the reserved name)."""
    return is_run_id(doc.get(RUN_FIELD)) and AT_FIELD in doc


def is_probe_collection(name: str, probe_class: str) -> bool:
    """The probe class and its relation tables: reserved to the suite, never data of the app."""
    return name == probe_class or (name.startswith("_Join:") and name.rsplit(":", 1)[-1] == probe_class)


def probe_match(cls: str, probe_class: str) -> dict[str, Any]:
    """A filter matching the probes stored in ``cls`` ({} when ``cls`` holds none)."""
    if cls == "_User":
        return dict(USER_MATCH)
    if cls == "_Session":
        return dict(SESSION_MATCH)
    if cls == "_SCHEMA":
        return {"_id": probe_class}
    return {}


def exclusion(cls: str, probe_class: str) -> dict[str, Any]:
    """A filter that leaves the probes of ``cls`` out ({} when ``cls`` holds none): for counts and scans."""
    match = probe_match(cls, probe_class)
    return {"$nor": [match]} if match else {}
