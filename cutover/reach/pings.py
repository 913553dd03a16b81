"""One ping per kind of component, for the preflight: does it answer at all, within the timeout, once?

    MongoDB     ``ping`` through pymongo, authenticated as the URI says (no RTT monitor, no retries), then the
                user's rights (:mod:`cutover.reach.user_rights`: ``connectionStatus`` with ``showPrivileges``)
    HTTP        one GET of the health path (the server's CA file or the system store, like the checks)
    S3          one ListObjectsV2 of at most one key, signed with the target's credentials
    TLS         one handshake, unverified (TLS-01/TLS-02 judge the certificate)

A ping returns when the component answered anything (a MongoDB ping returns its user's rights), raises
TargetTimeout / TargetUnreachable when it did not, and AuthFailed (one line: component, user, auth source; never
the password) when it refused the credentials.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote

from cutover.errors import CouldNotVerify, TargetTimeout, TargetUnreachable
from cutover.model import Target
from cutover.reach.breaker import (
    GRIDFS_DB,
    PARSE,
    PUBLIC_URL,
    REST_SOURCE,
    SOURCE_DB,
    SOURCE_PARSE,
    SOURCE_STORE,
    Component,
)
from cutover.reach.user_rights import ask_rights, setting_for
from cutover.security import RightsCheck

S3_AUTH_CODES = frozenset({"InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken",
                           "TokenRefreshRequired", "InvalidClientTokenId"})
MONGO_AUTH_FAILED = 18


class AuthFailed(Exception):
    """A component refused the credentials (raised by a ping, turned into one ConfigError)."""



def warm_up() -> None:
    """Import the client libraries before the clock starts: a first import of boto3 takes a second or more."""
    import boto3  # noqa: F401
    import pymongo  # noqa: F401
    import requests  # noqa: F401


def ping_for(target: Target, c: Component,
              listeners: Mapping[str, Any] | None = None) -> Callable[[float], RightsCheck | None]:
    """The ping of ``c``; ``listeners`` (component name -> pymongo command listener) count what it sends."""
    if c.kind == "tls":
        host, port = c.addresses[0].host, c.addresses[0].port
        return lambda t: _tls(host, port, t)
    if c.kind == "mongodb":
        uri, ca_file = _mongo_settings(target, c.name)
        listener = (listeners or {}).get(c.name)
        return lambda t: _mongo(c, uri, ca_file, t, setting_for(target, c, uri), listener)
    if c.kind == "s3":
        return lambda t: _s3(target, c, t)
    url, ca_file = _http_settings(target, c.name)
    return lambda t: _http(url, ca_file, t)


def _mongo_settings(target: Target, name: str) -> tuple[str, str]:
    if name == SOURCE_DB:
        return target.source.uri, ""
    if name == GRIDFS_DB:
        assert target.files is not None
        return target.files.gridfs_uri, target.database.tls_ca_file
    return target.database.uri, target.database.tls_ca_file


def _http_settings(target: Target, name: str) -> tuple[str, str]:
    if name == REST_SOURCE:
        return target.source.endpoint.rstrip("/") + "/health", ""
    server = target.source_parse if name == SOURCE_PARSE else target.parse
    assert server is not None and name in (PARSE, PUBLIC_URL, SOURCE_PARSE)
    base = server.public_url if name == PUBLIC_URL else server.server_url
    return base.rstrip("/") + (server.health_path or "/health"), server.ca_file


def _tls(host: str, port: int, timeout_s: float) -> None:
    from cutover.transport import handshake

    handshake(host, port, timeout_s, verify=False)  # a failed handshake is an answer: TLS-01 judges it


def _http(url: str, ca_file: str, timeout_s: float) -> None:
    import requests

    try:
        requests.get(url, timeout=timeout_s, verify=ca_file or True, allow_redirects=False).close()
    except requests.exceptions.SSLError:
        return  # the server answered the handshake; whether it should be trusted is TLS-02's verdict
    except requests.Timeout as exc:
        raise TargetTimeout(f"did not answer in time (nothing within {timeout_s:g} s)") from exc
    except requests.RequestException as exc:
        raise TargetUnreachable(f"unreachable ({_reason(exc)})") from exc


def _mongo(c: Component, uri: str, ca_file: str, timeout_s: float, setting: Any,
           listener: Any = None) -> RightsCheck | None:
    from pymongo import MongoClient
    from pymongo.errors import OperationFailure, PyMongoError

    ms = int(timeout_s * 1000)
    options: dict[str, Any] = dict(serverSelectionTimeoutMS=ms, connectTimeoutMS=ms, socketTimeoutMS=ms,
                                   serverMonitoringMode="poll", retryReads=False, retryWrites=False,
                                   appname="cutover-preflight")
    if ca_file:
        options["tlsCAFile"] = ca_file
    if listener is not None:
        options["event_listeners"] = [listener]
    client: MongoClient[Any] | None = None
    try:
        client = MongoClient(uri, **options)  # a mongodb+srv name is resolved here
        client.admin.command("ping")
        return ask_rights(client, c, setting)
    except OperationFailure as exc:
        if exc.code == MONGO_AUTH_FAILED:
            raise AuthFailed(mongo_auth_message(c, uri)) from None
        return None
    except PyMongoError as exc:
        raise _mongo_failure(exc, timeout_s) from None
    finally:
        if client is not None:
            client.close()


def _mongo_failure(exc: Exception, timeout_s: float) -> CouldNotVerify:
    text = str(exc).split(" (configured timeouts", 1)[0].splitlines()[0][:300]
    if "timed out" in text or "No servers found yet" in text:  # the latter: no hello answered at all
        return TargetTimeout(f"did not answer in time (nothing within {timeout_s:g} s: {text})")
    return TargetUnreachable(f"unreachable ({text})")


def mongo_auth_message(c: Component, uri: str) -> str:
    """One line: which component refused which user in which auth source (the password is never named)."""
    user, source = mongo_user(uri)
    return (f"{c.name} {c.location}: authentication failed for user '{user}' (auth source '{source}'); "
            f"check the user name and password of its URI in the targets file")


def mongo_user(uri: str) -> tuple[str, str]:
    """(user, auth source) as a MongoDB URI states them; the auth source defaults like the driver's."""
    head, _, query = uri.partition("?")
    authority, _, path = head.partition("://")[2].partition("/")
    userinfo = authority.rpartition("@")[0]
    user = unquote(userinfo.partition(":")[0]) if userinfo else "(none)"
    options = {k.lower(): v for k, v in parse_qsl(query)}
    return user, options.get("authsource") or path or "admin"


def _s3(target: Target, c: Component, timeout_s: float) -> None:
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    from cutover.session import open_s3

    files = target.files
    assert files is not None
    source = c.name == SOURCE_STORE
    endpoint = (files.source_endpoint_url or files.endpoint_url) if source else files.endpoint_url
    client = open_s3(endpoint, files.region, files.access_key_id, files.secret_access_key, timeout_s, retries=0)
    bucket = files.source_bucket if source else files.bucket
    try:
        client.list_objects_v2(Bucket=bucket, MaxKeys=1)
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in S3_AUTH_CODES:
            raise AuthFailed(s3_auth_message(c, files.access_key_id, code)) from None
    except NoCredentialsError:
        raise AuthFailed(s3_auth_message(c, "", "no credentials")) from None
    except BotoCoreError as exc:
        timeout = "timeout" in type(exc).__name__.lower()
        raise (TargetTimeout if timeout else TargetUnreachable)(
            f"did not answer in time ({exc})" if timeout else f"unreachable ({exc})") from None
    finally:
        client.close()


def s3_auth_message(c: Component, key_id: str, code: str) -> str:
    who = f"access key '{key_id}'" if key_id else "the environment's AWS credentials"
    return (f"{c.name} {c.location}: authentication failed for {who} ({code}); check files.access_key_id "
            "and files.secret_access_key in the targets file")


def _reason(exc: BaseException) -> str:
    """The innermost reason of a requests error, short (``Connection refused``)."""
    text = str(exc)
    for marker in ("] ", "): "):
        if marker in text:
            text = text.rsplit(marker, 1)[1]
    return text.strip(" '\")")[:200] or type(exc).__name__


