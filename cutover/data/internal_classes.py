"""Parse Server's internal classes: collections the server keeps for itself, never the app's data.

Provenance: parse-server 9.10.0 (the version the sandbox pins), read from its installed package:

- ``lib/Controllers/SchemaController.js`` ``volatileClasses``: ``_JobStatus``, ``_PushStatus``, ``_Hooks``,
  ``_GlobalConfig``, ``_GraphQLConfig``, ``_JobSchedule``, ``_Audience``, ``_Idempotency`` (their schemas are
  in memory, ``VolatileClassesSchemas``; the server writes them as it runs: push and job status, cloud hooks,
  the dashboard's config, request ids for idempotency);
- ``lib/Adapters/Storage/Mongo/MongoStorageAdapter.js``: ``_SCHEMA``, where the schemas themselves live.

No export holds them (Parse.com's, a host's or the Dashboard's export objects of the app's classes), a REST
source's ``/schemas`` lists them or not depending on the server's version and history, and a target writes
them as soon as its Parse Server runs (``DatabaseController.performInitialization`` creates ``_Idempotency``
and its `_SCHEMA` entry at start). So against a REST or export source they are never "missing" or "extra":
they are left out on both sides, and the checks record what was left out (:func:`left_out`).

``STARTED_BY_SERVER``: app classes that ``performInitialization`` creates on an empty database (``_User``,
``_Role``, with their `_SCHEMA` entries and indexes): on a target they exist before any import, so one the
source does not name and the target holds no object of is the server's doing, not the migration's.
"""
from __future__ import annotations

from collections.abc import Iterable

INTERNAL_CLASSES = frozenset({
    "_SCHEMA", "_Hooks", "_GlobalConfig", "_GraphQLConfig", "_JobSchedule", "_JobStatus", "_PushStatus",
    "_Audience", "_Idempotency",
})
STARTED_BY_SERVER = frozenset({"_User", "_Role"})
PROVENANCE = ("parse-server 9.10.0: SchemaController.js volatileClasses and the _SCHEMA collection "
              "(MongoStorageAdapter.js)")
REASON = ("Parse Server's internal classes (the server writes them itself; no export holds them): "
          "never missing or extra against a REST or export source")


def is_internal(name: str) -> bool:
    """True for a class Parse Server keeps for itself (never the app's data)."""
    return name in INTERNAL_CLASSES


def left_out(names: Iterable[str]) -> list[str]:
    """The internal classes among ``names``, sorted: what a check leaves out and says so."""
    return sorted({name for name in names if is_internal(name)})


def without_internal(names: Iterable[str]) -> set[str]:
    return {name for name in names if not is_internal(name)}
