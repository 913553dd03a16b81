"""`_User`'s credential fields, both ways: as an export (or REST) writes them, and as Parse Server stores them.

| export / REST field       | storage field            | authority                                               |
|---------------------------|--------------------------|---------------------------------------------------------|
| ``bcryptPassword``        | ``_hashed_password``     | Parse's "Importing Data" (docs, common/data.md): a      |
|                           |                          | `_User` may carry the bcrypt hash + salt as this String |
| ``sessionToken``          | ``_session_token``       | parse-server 9.10.0 MongoTransform.js                   |
|                           |                          | (parseObjectKeyValueToMongoObjectKeyValue)              |
| ``authData.<provider>``   | ``_auth_data_<provider>``| parse-server 9.10.0 DatabaseController.js               |
|                           |                          | (transformAuthData; a null provider is not stored)      |

Parse.com's "Export data" wrote `_User` objects with ``bcryptPassword`` and the legacy ``sessionToken``; a hash
is evidence that the user can still log in, so it is compared (never only "present"). :func:`source_name`
gives the name a storage field had in the source, for messages.
"""
from __future__ import annotations

import re
from typing import Any

from cutover.errors import UnexpectedAnswer

TO_STORAGE = {"bcryptPassword": "_hashed_password", "sessionToken": "_session_token"}
FROM_STORAGE = {stored: name for name, stored in TO_STORAGE.items()}
AUTH_PREFIX = "_auth_data_"
PROVIDER = re.compile(r"^[A-Za-z0-9_]+$")      # MongoTransform's `_auth_data_[a-zA-Z0-9_]+`


class Unmappable(UnexpectedAnswer):
    """A value the REST <-> storage mapping cannot map; ``field`` is its path in the object."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"field {field}: {reason}")
        self.field, self.reason = field, reason


def is_user_field(key: str) -> bool:
    return key in TO_STORAGE or key == "authData"


def to_storage(key: str, value: Any) -> dict[str, Any]:
    """One `_User` credential field (``is_user_field(key)``) in storage form, checked."""
    if key == "authData":
        return auth_data(value)
    if not isinstance(value, str):
        raise Unmappable(key, f"is {type(value).__name__}, expected a String")
    return {TO_STORAGE[key]: value}


def auth_data(value: Any) -> dict[str, Any]:
    """``authData`` -> one ``_auth_data_<provider>`` field per linked provider (null: unlinked, not stored)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Unmappable("authData", f"is {type(value).__name__}, expected an object of providers")
    out: dict[str, Any] = {}
    for provider, data in value.items():
        if not PROVIDER.match(provider):
            raise Unmappable(f"authData.{provider}", "a provider name holds characters Parse does not store")
        if data is not None and not isinstance(data, dict):
            raise Unmappable(f"authData.{provider}", f"is {type(data).__name__}, expected an object or null")
        if data is not None:
            out[AUTH_PREFIX + provider] = data
    return out


def source_name(storage_key: str) -> str | None:
    """The name a `_User` storage field has in an export or REST object (None: the same name)."""
    top = storage_key.split(".", 1)[0]
    if top in FROM_STORAGE:
        return FROM_STORAGE[top]
    if top.startswith(AUTH_PREFIX):
        return f"authData.{top[len(AUTH_PREFIX):]}"
    return None


def describe(cls: str, path: str) -> str:
    """``path`` of a storage field, with its source name where it differs: ``_hashed_password (bcryptPassword)``."""
    name = source_name(path) if cls == "_User" else None
    return f"{path} ({name} in the source)" if name else path
