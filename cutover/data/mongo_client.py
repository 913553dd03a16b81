"""Opening MongoDB clients the same careful way everywhere: timeouts, the command allowlist, typed errors."""
from __future__ import annotations

from typing import Any

from cutover.data.commands import CommandLog, GuardedClient
from cutover.errors import ConfigError


def open_mongo(uri: str, timeout_s: float, tls_ca_file: str = "", component: str = "MongoDB",
               log: CommandLog | None = None) -> Any:
    """A client that fails fast (server selection, connect and socket timeouts), refuses commands outside the
    allowlist (cutover.data.commands) and reports what it sends to ``log``; connection is lazy, so an unreachable
    server surfaces on first use. Blocking commands are allowed only when ``log.allow_blocking``."""
    from pymongo.errors import ConfigurationError, InvalidURI

    ms = int(timeout_s * 1000)
    kwargs: dict[str, Any] = dict(serverSelectionTimeoutMS=ms, connectTimeoutMS=ms, socketTimeoutMS=ms * 6,
                                  appname="cutover", retryWrites=False, uuidRepresentation="standard")
    if tls_ca_file:
        kwargs["tlsCAFile"] = tls_ca_file
    if log is not None:
        kwargs["event_listeners"] = [log.listener(component)]
    try:
        client = GuardedClient(uri, **kwargs)
    except (InvalidURI, ConfigurationError, ValueError) as exc:
        raise ConfigError(f"MongoDB URI is not usable: {exc}") from None
    client.component = component
    client.allow_blocking = bool(log and log.allow_blocking)
    return client
