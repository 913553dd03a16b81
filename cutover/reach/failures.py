"""What a failure says about the network: whether it is a transport failure, of which client, at which address.

Only transport failures count (refused or dropped connections, timeouts of pymongo, requests, botocore and
sockets), wherever they sit in the chain of causes of the error a check met; a server-side ``maxTimeMS``
expiry, a wait for a pool connection or a "not primary" answer do not: the server answered.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

from cutover.transport import HostPort, url_host

_FAMILIES = {"pymongo": "mongodb", "requests": "http", "urllib3": "http", "botocore": "s3"}
_NOT_TRANSPORT = {"ExecutionTimeout", "WaitQueueTimeoutError", "OperationFailure",  # the server answered
                  "NotPrimaryError"}
_TRANSPORT = {"AutoReconnect", "ConnectionFailure", "ServerSelectionTimeoutError", "NetworkTimeout",
              "ConnectionError", "Timeout", "ConnectTimeout", "ReadTimeout", "SSLError",
              "EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError", "ConnectionClosedError",
              "TimeoutError", "ConnectionRefusedError", "ConnectionResetError", "ConnectionAbortedError",
              "BrokenPipeError"}


def transport_failure(exc: BaseException) -> tuple[str, str] | None:
    """(kind of component, one-line cause) when ``exc`` or what caused it is a transport failure."""
    if "is not asked again in this run" in str(exc):
        return None  # the breaker's own error: the component is already dead
    for link in chain(exc):
        names = {cls.__name__ for cls in type(link).__mro__}
        if names & _NOT_TRANSPORT:
            return None
        if names & _TRANSPORT:
            family = _FAMILIES.get(type(link).__module__.split(".")[0], "tls")
            return family, _first_line(exc)
    return None


def chain(exc: BaseException, depth: int = 6) -> Iterator[BaseException]:
    """``exc`` and what it was raised from (``__cause__``, else ``__context__``)."""
    seen: BaseException | None = exc
    while seen is not None and depth > 0:
        yield seen
        seen, depth = seen.__cause__ or seen.__context__, depth - 1


_ADDRESS = re.compile(
    r"host='(?P<h1>[^']+)', port=(?P<p1>\d+)"                      # urllib3
    r"|\('(?P<h2>[^']+)', (?P<p2>\d+)\)"                          # pymongo's topology description
    r"|(?P<url>[a-z][a-z0-9+.-]*://[^\s/'\"]+)"                   # a URL
    r"|(?<![\w.-])(?P<h3>\[[0-9a-fA-F:]+\]|[\w-]+(?:\.[\w-]+)*):(?P<p3>\d{1,5})\b")


def addresses_in(exc: BaseException) -> set[HostPort]:
    """Every host:port the messages of ``exc`` and its causes name."""
    found: set[HostPort] = set()
    for link in chain(exc):
        for match in _ADDRESS.finditer(str(link)):
            found |= _address(match)
    return found


def _address(match: re.Match[str]) -> set[HostPort]:
    if match["url"]:
        try:
            parts = urlsplit(match["url"])
            return {url_host(match["url"])} if parts.hostname else set()
        except ValueError:
            return set()
    host = match["h1"] or match["h2"] or match["h3"]
    port = match["p1"] or match["p2"] or match["p3"]
    return {HostPort(host.strip("[]").lower(), int(port))}


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:400]
