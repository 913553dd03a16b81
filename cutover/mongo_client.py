"""Opening MongoDB clients the same careful way everywhere: timeouts, read-only intent, typed errors."""
from __future__ import annotations

from typing import Any

from cutover.errors import ConfigError


def open_mongo(uri: str, timeout_s: float, tls_ca_file: str = "") -> Any:
    """A MongoClient that fails fast (server selection, connect and socket timeouts) and reads from the
    primary-preferred member; connection is lazy, so an unreachable server surfaces on first use."""
    from pymongo import MongoClient
    from pymongo.errors import ConfigurationError, InvalidURI

    ms = int(timeout_s * 1000)
    kwargs: dict[str, Any] = dict(serverSelectionTimeoutMS=ms, connectTimeoutMS=ms, socketTimeoutMS=ms * 6,
                                  appname="cutover", retryWrites=False, uuidRepresentation="standard")
    if tls_ca_file:
        kwargs["tlsCAFile"] = tls_ca_file
    try:
        client = MongoClient(uri, **kwargs)
    except (InvalidURI, ConfigurationError, ValueError) as exc:
        raise ConfigError(f"MongoDB URI is not usable: {exc}") from None
    return client
