"""A small Parse Server REST client: every call has a timeout and returns an :class:`Answer` (a fact).

The client never judges an answer; checks do. Connection failures and timeouts become
:class:`TargetUnreachable` / :class:`TargetTimeout`. Every JSON answer is scanned for password fields
(``password``, ``_hashed_password``), so API-06/API-07 can prove none ever came back.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ReadTimeoutError
from urllib3.util.retry import Retry

from cutover.errors import TargetTimeout, TargetUnreachable, UnexpectedAnswer
from cutover.model import ParseServer
from cutover.redact import host_of

PASSWORD_KEYS = frozenset({"password", "_hashed_password"})
MAX_LIMIT = 1000
_TEXT_CAP = 300


@dataclass(frozen=True)
class Answer:
    """What the server answered to one request: status, parsed JSON body (None if not JSON), short text."""

    method: str
    path: str
    status: int
    body: Any
    text: str

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def code(self) -> int | None:
        """The Parse error code of an error answer (``{"code": 119, "error": ...}``), if any."""
        return self.body.get("code") if isinstance(self.body, dict) else None

    def describe(self) -> str:
        """One line for a failure message: ``403 {"error":"unauthorized"}``."""
        return f"{self.status} {self.text}" if self.text else str(self.status)


@dataclass(frozen=True)
class Identity:
    """API-01: whether the mount path, the app id and the master key are accepted."""

    path_found: bool
    app_id_accepted: bool
    master_key_accepted: bool
    answer: Answer            # the answer that decided


@dataclass
class ParseClient:
    """One Parse Server (``cutover.model.ParseServer``) over REST."""

    server: ParseServer
    timeout: float = 10.0
    http: requests.Session = field(default_factory=requests.Session, repr=False)
    leaks: list[str] = field(default_factory=list)     # "GET /users: password" for every answer holding one
    idle_s: float = 2.0    # after this long without a request, pooled connections are dropped before the next

    def __post_init__(self) -> None:
        self.http.verify = self.server.ca_file or True
        # Node closes idle keep-alive connections after 5 s: a pooled socket may die under a request.
        # Safe methods are retried; POST/PUT are not (a retried Increment or create would apply twice), so
        # after an idle gap the next request opens a fresh connection instead of risking a stale one.
        self._last_request = time.monotonic()
        retry = Retry(total=2, connect=2, read=1, status=0, backoff_factor=0.1,
                      allowed_methods=frozenset({"GET", "HEAD", "DELETE", "OPTIONS"}))
        for scheme in ("http://", "https://"):
            self.http.mount(scheme, HTTPAdapter(max_retries=retry))
        self.base = self.server.server_url.rstrip("/")

    def close(self) -> None:
        self.http.close()

    # -- low level ------------------------------------------------------------------------------------
    def request(self, method: str, path: str, *, auth: str = "master", session_token: str = "",
                json_body: Any = None, params: dict[str, Any] | None = None, data: bytes | None = None,
                content_type: str = "application/json", installation_id: str = "") -> Answer:
        """``method`` on ``<server_url><path>``; ``auth`` is "master", "client" (REST/JS key) or "none"."""
        headers = {**self._keys(auth), "Content-Type": content_type}
        if session_token:
            headers["X-Parse-Session-Token"] = session_token
        if installation_id:  # Parse stores it on the sessions this request creates
            headers["X-Parse-Installation-Id"] = installation_id
        payload = data if data is not None else (None if json_body is None else json.dumps(json_body))
        return self._send(method, self.base + path, path, headers=headers, params=params, data=payload)

    def get_url(self, url: str) -> tuple[int, bytes]:
        """GET an absolute URL (a file URL the server returned): status and body bytes."""
        response = self._raw("GET", url, headers={})
        return response.status_code, response.content

    def _keys(self, auth: str) -> dict[str, str]:
        headers = {"X-Parse-Application-Id": self.server.app_id}
        if auth == "master" and self.server.master_key:
            headers["X-Parse-Master-Key"] = self.server.master_key
        elif auth == "client" and self.server.rest_key:
            headers["X-Parse-REST-API-Key"] = self.server.rest_key
        elif auth == "client" and self.server.javascript_key:
            headers["X-Parse-Javascript-Key"] = self.server.javascript_key
        return headers

    @property
    def has_client_key(self) -> bool:
        return bool(self.server.rest_key or self.server.javascript_key)

    def _send(self, method: str, url: str, path: str, **kwargs: Any) -> Answer:
        response = self._raw(method, url, **kwargs)
        body = _json_or_none(response)
        answer = Answer(method, path.split("?")[0], response.status_code, body, _short(response.text))
        for key in sorted(_password_keys(body)):
            self.leaks.append(f"{method} {answer.path}: {key}")
        return answer

    def _raw(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        if time.monotonic() - self._last_request > self.idle_s:
            self.http.close()   # the adapters stay mounted; their pools reconnect on the next request
        try:
            return self.http.request(method, url, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            if not _timed_out(exc):
                raise TargetUnreachable(f"Parse Server {host_of(url)} unreachable ({type(exc).__name__}); "
                                        "check server_url and that the server runs") from exc
            raise TargetTimeout(f"Parse Server {host_of(url)} did not answer {method} within "
                                f"{self.timeout:g} s; check that it runs and is not overloaded") from exc
        finally:
            self._last_request = time.monotonic()

    # -- health and identity (API-01) ---------------------------------------------------------------
    def health(self) -> Answer:
        path = self.server.health_path or "/health"
        return self._send("GET", self.base + path, path, headers={})

    def identify(self) -> Identity:
        """Tell a wrong mount path (404, not Parse) from a wrong app id (403) from a wrong master key."""
        if self.server.master_key:
            answer = self.request("GET", "/serverInfo", auth="master")
        else:
            answer = self.request("GET", "/config", auth="client")
        if answer.ok:
            return Identity(True, True, bool(self.server.master_key), answer)
        if answer.status >= 500:  # the server failed: nothing can be told about path, app id or key
            raise UnexpectedAnswer(f"{answer.describe()}: the server failed, so the mount path, app id and keys "
                                   "could not be checked")
        if not isinstance(answer.body, dict):
            return Identity(False, False, False, answer)
        if not (self.server.master_key and self.has_client_key):
            return Identity(True, False, False, answer)
        client = self.request("GET", "/config", auth="client")
        return Identity(True, client.ok, False, answer if client.ok else client)

    def server_version(self) -> str:
        """The ``parseServerVersion`` ``/serverInfo`` reports (master key); "" when the server does not say."""
        answer = self.request("GET", "/serverInfo", auth="master")
        body = answer.body if answer.ok and isinstance(answer.body, dict) else {}
        return str(body.get("parseServerVersion") or "")

    # -- objects -------------------------------------------------------------------------------------
    def create(self, cls: str, fields: dict[str, Any], auth: str = "master") -> Answer:
        return self.request("POST", class_path(cls), auth=auth, json_body=fields)

    def get(self, cls: str, object_id: str, auth: str = "master") -> Answer:
        return self.request("GET", f"{class_path(cls)}/{quote(object_id, safe='')}", auth=auth)

    def update(self, cls: str, object_id: str, changes: dict[str, Any], auth: str = "master") -> Answer:
        return self.request("PUT", f"{class_path(cls)}/{quote(object_id, safe='')}", auth=auth,
                            json_body=changes)

    def delete(self, cls: str, object_id: str, auth: str = "master") -> Answer:
        return self.request("DELETE", f"{class_path(cls)}/{quote(object_id, safe='')}", auth=auth)

    def query(self, cls: str, where: dict[str, Any] | None = None, *, order: str = "", limit: int = 100,
              keys: str = "", auth: str = "master") -> Answer:
        params: dict[str, Any] = {"limit": min(limit, MAX_LIMIT)}
        if where:
            params["where"] = json.dumps(where)
        if order:
            params["order"] = order
        if keys:
            params["keys"] = keys
        return self.request("GET", class_path(cls), auth=auth, params=params)

    def count(self, cls: str, where: dict[str, Any] | None = None, auth: str = "master") -> Answer:
        params: dict[str, Any] = {"count": 1, "limit": 0}
        if where:
            params["where"] = json.dumps(where)
        return self.request("GET", class_path(cls), auth=auth, params=params)

    # -- schemas, files, functions, users -----------------------------------------------------------
    def schemas(self, auth: str = "master") -> Answer:
        return self.request("GET", "/schemas", auth=auth)

    def drop_class(self, cls: str) -> Answer:
        return self.request("DELETE", f"/schemas/{quote(cls, safe='')}", auth="master")

    def upload_file(self, name: str, data: bytes, content_type: str = "text/plain") -> Answer:
        return self.request("POST", f"/files/{quote(name, safe='')}", auth="master", data=data,
                            content_type=content_type)

    def delete_file(self, name: str) -> Answer:
        return self.request("DELETE", f"/files/{quote(name, safe='')}", auth="master")

    def call_function(self, name: str, params: dict[str, Any], auth: str = "client") -> Answer:
        return self.request("POST", f"/functions/{quote(name, safe='')}", auth=auth, json_body=params)

    def sign_up(self, username: str, password: str, email: str = "", installation_id: str = "") -> Answer:
        body = {**_credentials(username, password), **({"email": email} if email else {})}
        return self.request("POST", "/users", auth="client", json_body=body, installation_id=installation_id)

    def log_in(self, username: str, password: str, installation_id: str = "") -> Answer:
        return self.request("POST", "/login", auth="client", json_body=_credentials(username, password),
                            installation_id=installation_id)

    def me(self, session_token: str) -> Answer:
        return self.request("GET", "/users/me", auth="client", session_token=session_token)

    def log_out(self, session_token: str) -> Answer:
        return self.request("POST", "/logout", auth="client", session_token=session_token)


def class_path(cls: str) -> str:
    """The REST path of a class (``/classes/_User`` works with the master key for system classes too)."""
    return f"/classes/{quote(cls, safe='')}"


def results(answer: Answer) -> list[dict[str, Any]]:
    """The ``results`` list of a query answer ([] when the answer holds none)."""
    body = answer.body
    found = body.get("results") if isinstance(body, dict) else None
    return [r for r in found if isinstance(r, dict)] if isinstance(found, list) else []


def _timed_out(exc: requests.RequestException) -> bool:
    """A timeout, also when retries wrapped it (requests reports a retried timeout as ConnectionError)."""
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(exc, requests.Timeout) or isinstance(reason, TimeoutError | ReadTimeoutError)


def _credentials(username: str, password: str) -> dict[str, str]:
    return {"username": username, "password": password}


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _short(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _TEXT_CAP else flat[:_TEXT_CAP] + "..."


def _password_keys(value: Any) -> set[str]:
    """Keys holding a password or hash (a value, not a field definition such as /schemas' {"type": ...})."""
    if isinstance(value, dict):
        found = {k for k, v in value.items() if k in PASSWORD_KEYS and not isinstance(v, dict)}
        for item in value.values():
            found |= _password_keys(item)
        return found
    if isinstance(value, list):
        return set().union(*(_password_keys(item) for item in value)) if value else set()
    return set()
