"""The rules a URI of a targets file must follow, checked when the file is read (no network).

MongoDB URIs follow the connection-string specification as the driver reads it (pymongo's own parser for
``mongodb://``, its option validators for ``mongodb+srv://``, whose host is only resolved when connecting): one host
without a port for ``mongodb+srv://``; a user name or password holding ``@``, ``/``, ``:`` or ``%`` percent-encoded.
An option the driver would only warn about and then ignore (``tls=maybe``) is refused here: ignored silently, it
would change what the run checks. HTTP URIs need a scheme, a host and a valid port. A problem is one phrase; the
caller names the file and the key, and never shows the URI (it may hold a password).
"""
from __future__ import annotations

import re
import warnings
from urllib.parse import parse_qsl, unquote, urlsplit

from cutover.redact import uri_password

MONGO_SCHEMES = ("mongodb", "mongodb+srv")
HTTP_SCHEMES = ("http", "https")
ENCODE = ("percent-encode the user name and password (urllib.parse.quote_plus: '@' is %40, '/' is %2F, "
          "':' is %3A, '%' is %25)")
_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def passwords(uri: str) -> list[str]:
    """The password of the URI as any reader may take it, for masking (also when it is malformed)."""
    found = [uri_password(uri)]
    userinfo = _userinfo(uri)
    if ":" in userinfo:
        found.append(userinfo.split(":", 1)[1])
    return [p for p in found if p]


def problem(uri: str, schemes: tuple[str, ...]) -> str:
    """'' when the URI is usable, else what is wrong with it, in one phrase."""
    if not uri.strip():
        return f"empty; expected a {_schemes(schemes)} URI"
    mongo = schemes == MONGO_SCHEMES
    return (_encoding(uri) if mongo else "") or _structure(uri, schemes) or (_mongo(uri) if mongo else "")


def _schemes(schemes: tuple[str, ...]) -> str:
    return " or ".join(s + "://" for s in schemes)


def _userinfo(uri: str) -> str:
    """What stands before the last '@' of the authority, read as generously as the driver reads it."""
    rest = uri.split("://", 1)[1] if "://" in uri else ""
    head = re.split(r"[?#]", rest, maxsplit=1)[0]
    return head.rpartition("@")[0] if "@" in head else ""


def _encoding(uri: str) -> str:
    """A user name or password the driver would refuse, or read as a host or a database."""
    userinfo = _userinfo(uri)
    if "/" in userinfo and not _password_before_slash(userinfo):
        return ""   # the '@' stands in the path (a database name may hold one), not after credentials
    if not userinfo:
        return ""
    unencoded = [ch for ch in "@/" if ch in userinfo]
    if userinfo.count(":") > 1:
        unencoded.append(":")
    if _ESCAPE.search(userinfo):
        unencoded.append("%")
    if unencoded:
        shown = ", ".join(f"'{ch}'" for ch in unencoded)
        return f"the user name or password holds {shown} unencoded, so the host is misread; {ENCODE}"
    return ""


def _password_before_slash(userinfo: str) -> bool:
    """``user:pa/ss`` (a password cut by its '/'), not ``host:27017/db`` or ``host/db``."""
    before = userinfo.split("/", 1)[0]
    return ":" in before and not before.rsplit(":", 1)[1].isdigit()


def _structure(uri: str, schemes: tuple[str, ...]) -> str:
    expected = f"expected a {_schemes(schemes)} URI with a host"
    try:
        parts = urlsplit(uri)
        mongo = parts.scheme in MONGO_SCHEMES
        hosts = parts.netloc.rpartition("@")[2].split(",") if mongo else [parts.netloc]
        for host in filter(None, hosts):  # a replica-set seed list names several host[:port]
            urlsplit(f"{parts.scheme}://{host}").port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return f"{expected} and a valid port, got a malformed host or port"
    if parts.scheme not in schemes or not parts.hostname or not all(hosts):
        shown = f"'{parts.scheme}://…'" if parts.scheme and "://" in uri else "a value without a scheme and host"
        return f"{expected}, got {shown}"
    if parts.scheme == "mongodb+srv" and (len(hosts) > 1 or parts.port is not None):
        return ("mongodb+srv:// takes one host name and no port (DNS gives the members and their ports); "
                "drop the port, or write mongodb://host:port,... instead")
    return ""


def _mongo(uri: str) -> str:
    """What the MongoDB driver refuses, or would warn about and ignore."""
    with warnings.catch_warnings():   # what the driver would only warn about is for the client to say, once
        warnings.simplefilter("ignore")
        return _driver_refuses(uri)


def _driver_refuses(uri: str) -> str:
    from pymongo import uri_parser
    from pymongo.errors import ConfigurationError, InvalidURI

    query = urlsplit(uri).query
    for name, value in parse_qsl(query, keep_blank_values=True):
        try:
            uri_parser.split_options(f"{name}={value}", validate=True, warn=False)
        except (ConfigurationError, ValueError, TypeError, OSError) as exc:
            text = str(exc).split(". Did you mean", 1)[0].rstrip(".")
            return f"option {unquote(name)!r}: {text or type(exc).__name__} (the driver would ignore it)"
    if uri.startswith("mongodb+srv://"):
        return ""   # its host is resolved through DNS only when the run connects
    try:
        uri_parser.parse_uri(uri, validate=True, warn=False)
    except (ConfigurationError, InvalidURI, ValueError, TypeError, OSError) as exc:
        return f"the MongoDB driver refuses it: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
    return ""
