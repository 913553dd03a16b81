"""API-02, API-04 and API-07 again, through the official Parse JavaScript SDK against the target's public URL.

The steps are those of :mod:`cutover.rest.flows`; the SDK makes every request as an app does (a POST whose
body tunnels the method, the keys, the installation id and the session token), so a front or a server that
serves REST but not the SDK fails here, naming the step, the SDK call and what came back over HTTP. CRUD and
files use the master key, as the REST round-trips do (a Node.js app may); the user round-trip is a client's:
the JavaScript key and the session the SDK keeps.

Probes are the REST probes': every object, file and user the SDK creates carries the reserved names and the
markers (:mod:`cutover.probe_marks`, the installation id included) and is handed to the check's
:class:`ProbeRun` at once, which removes it through REST with the master key (also when a step fails),
settles the side effects of the app's triggers, and leaves ledger rows for the sweep of a killed run.
"""
from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from cutover import probe_marks as marks
from cutover.notation import shell
from cutover.rest.client import results
from cutover.rest.compare import pointer, sample_object
from cutover.rest.flows import Flow, Steps, ids, run_steps, same, updates
from cutover.rest.probes import RUN_FIELD, ProbeRun
from cutover.rest.sdk_client import SdkAnswer, SdkClient

CLIENT = "JS SDK"
CLIENT_FIELD, CLIENT_VALUE = "probeClient", "js-sdk"   # which client wrote a probe object (probes only)
_INVALID_SESSION = 209
_OBJECT_NOT_FOUND = 101


def _sdk(s: Steps, step: str, answer: SdkAnswer) -> Any:
    """The answer's result; the step fails naming the SDK call and what came back when the call failed."""
    s.need(step, answer.ok, answer.describe())
    return answer.result


def _start(s: Steps, sdk: SdkClient, installation_id: str, master: bool = True) -> None:
    _sdk(s, "init", sdk.start(installation_id, master=master))


# -- API-02 ----------------------------------------------------------------------------------------------------
def crud_round_trip(run: ProbeRun, sdk: SdkClient) -> Flow:
    """upload, create, get, query, relation, update, increment, AddUnique, delete, each an SDK call."""
    return run_steps(f"API-02 {CLIENT}", _crud, run, sdk)


def _crud(s: Steps, run: ProbeRun, sdk: SdkClient) -> None:
    _start(s, sdk, run.new_installation())
    upload = _upload(s, run, sdk, b"cutover API-02 probe file (JS SDK)\n", "text/plain", binary=True)
    mark = {**run.marker, CLIENT_FIELD: CLIENT_VALUE}
    anchor = _create(s, run, sdk, {"role": "anchor", **mark})
    moment = datetime(2021, 3, 4, 5, 6, 7, 890000, tzinfo=UTC)
    sent = {**sample_object(run.cls, anchor, upload["name"], moment, str(upload.get("url", ""))), **mark}
    oid = _create(s, run, sdk, sent)
    call = _caller(sdk, run.cls, oid)
    same(s, "get", sent, _sdk(s, "get", call("get")))
    found = _sdk(s, "query", sdk.call("find", cls=run.cls, equal={RUN_FIELD: run.run_id, "tString": sent["tString"]},
                                      master=True))
    s.need("query", ids(found) == [oid], f"Parse.Query equalTo tString found {shell(ids(found))}, "
           f"expected {shell([oid])}")
    same(s, "query", sent, found[0])
    _relation(s, run, call, anchor)
    _updates(s, call, sent)
    _sdk(s, "delete", call("destroy"))
    gone = call("get")
    s.need("delete", gone.code == _OBJECT_NOT_FOUND, f"the destroyed object is still found: "
           f"{gone.result if gone.ok else gone.describe()}")


def _caller(sdk: SdkClient, cls: str, oid: str) -> Callable[..., SdkAnswer]:
    """An SDK call on the object ``cls/oid`` with the master key."""
    return lambda op, **args: sdk.call(op, cls=cls, objectId=oid, master=True, **args)


def _create(s: Steps, run: ProbeRun, sdk: SdkClient, fields: dict[str, Any]) -> str:
    saved = _sdk(s, "create", sdk.call("save", cls=run.cls, set=fields, master=True))
    s.need("create", bool(saved.get("objectId")), f"Parse.Object#save gave no objectId: {shell(saved)}")
    run.keep("objects", str(saved["objectId"]), saved.get("createdAt"))
    return str(saved["objectId"])


def _relation(s: Steps, run: ProbeRun, call: Callable[..., SdkAnswer], anchor: str) -> None:
    got = ids(_sdk(s, "relation", call("related", key="tRelation")))
    s.need("relation", got == [anchor], f"Parse.Relation query of tRelation found {shell(got)}, "
           f"expected {shell([anchor])}")
    remove = {"tRelation": {"__op": "RemoveRelation", "objects": [pointer(run.cls, anchor)]}}
    _sdk(s, "relation", call("save", set=remove))
    left = ids(_sdk(s, "relation", call("related", key="tRelation")))
    s.need("relation", left == [], f"after relation.remove the tRelation query still finds {shell(left)}")


def _updates(s: Steps, call: Callable[..., SdkAnswer], sent: dict[str, Any]) -> None:
    for step, change, expected in updates(sent):
        _sdk(s, step, call("save", set=change))
        sent = {**sent, **expected}
        same(s, step, sent, _sdk(s, step, call("get")))


# -- API-04 ----------------------------------------------------------------------------------------------------
def file_round_trip(run: ProbeRun, sdk: SdkClient, in_store: Callable[[str], str]) -> Flow:
    """Parse.File saved from base64 (the browser SDK's JSON upload), read back with getData, in the store."""
    return run_steps(f"API-04 {CLIENT}", _files, run, sdk, in_store)


def _files(s: Steps, run: ProbeRun, sdk: SdkClient, in_store: Callable[[str], str]) -> None:
    _start(s, sdk, run.new_installation())
    data = b"cutover API-04 JS SDK " + secrets.token_bytes(48) + b"\x00\xff end"
    upload = _upload(s, run, sdk, data, "application/octet-stream", binary=False)
    got = sdk.call("download", name=upload["name"], url=upload["url"])
    status = got.http[-1].get("status") if got.http else None   # getData makes one request (redirects followed)
    s.need("resolve", got.ok and status == 200, got.describe() if not got.ok else
           f"Parse.File#getData of the returned URL answered {status}: {_exchanges(got)}")
    served = base64.b64decode(got.result.get("base64") or "")
    s.need("bytes", served == data, f"the URL served {len(served)} bytes that differ from the {len(data)} uploaded")
    where = in_store(upload["name"])
    s.need("store", not where, f"{upload['name']} {where}")


def _upload(s: Steps, run: ProbeRun, sdk: SdkClient, data: bytes, kind: str, binary: bool) -> dict[str, Any]:
    """A probe file saved by the SDK (raw bytes from a Buffer, or JSON with base64), kept by the probe run."""
    saved = _sdk(s, "upload", sdk.call("upload", name=marks.file_name(run.run_id), type=kind, binary=binary,
                                       base64=base64.b64encode(data).decode(), master=True))
    s.need("upload", bool(saved.get("name")) and bool(saved.get("url")), f"Parse.File#save gave {shell(saved)}")
    run.keep_file(str(saved["name"]))
    return dict(saved)


# -- API-07 ----------------------------------------------------------------------------------------------------
def user_round_trip(run: ProbeRun, sdk: SdkClient) -> Flow:
    """signUp, the session it keeps (revocable, its installation id), logIn, current, become (users/me),
    logOut, and the old session token refused by become."""
    return run_steps(f"API-07 {CLIENT}", _user, run, sdk)


def _user(s: Steps, run: ProbeRun, sdk: SdkClient) -> None:
    username, password, installation = run.new_user()
    _start(s, sdk, installation, master=False)
    user = _sdk(s, "sign-up", sdk.call("signUp", username=username, password=password, email=marks.email(username)))
    s.need("sign-up", bool(user.get("objectId")), f"Parse.User#signUp gave no objectId: {_shown(user)}")
    run.keep("users", str(user["objectId"]), user.get("createdAt"))
    _session(s, run, str(user["objectId"]), str(user.get("sessionToken") or ""), installation)
    token = str(_sdk(s, "log-in", sdk.call("logIn", username=username, password=password)).get("sessionToken") or "")
    s.need("log-in", bool(token), "Parse.User.logIn gave no session token")
    current = _sdk(s, "current", sdk.call("current")) or {}
    s.need("current", current.get("username") == username and current.get("sessionToken") == token,
           f"Parse.User.current() is {shell(current.get('username'))}, expected {shell(username)} with the "
           "log-in's session")
    me = _sdk(s, "users/me", sdk.call("become", sessionToken=token)) or {}
    s.need("users/me", me.get("username") == username, f"Parse.User.become (users/me) gave "
           f"{shell(me.get('username'))}, expected {shell(username)}")
    _log_out(s, sdk, token)


def _session(s: Steps, run: ProbeRun, user_id: str, token: str, installation: str) -> None:
    """The sign-up's session: revocable (``r:``), and stored with the installation id the SDK keeps."""
    s.need("session", token.startswith("r:"), f"the sign-up's session token is not revocable: it starts "
           f"{shell(token[:2])}, expected \"r:\"")
    owner = {"user": {"__type": "Pointer", "className": "_User", "objectId": user_id}}
    kept = {str(r.get("installationId")) for r in results(run.client.query("_Session", owner, keys="installationId"))}
    s.need("session", kept == {installation}, f"the user's _Session rows carry installationId {shell(kept)}, "
           f"expected the SDK's {shell(installation)}")


def _log_out(s: Steps, sdk: SdkClient, token: str) -> None:
    after = _sdk(s, "log-out", sdk.call("logOut")) or {}
    s.need("log-out", after.get("current") is None,
           f"Parse.User.current() after logOut is {_shown(after.get('current'))}")
    dead = sdk.call("become", sessionToken=token)
    s.need("log-out", dead.code == _INVALID_SESSION, "the logged-out session token still answers: "
           + (f"users/me gave {_shown(dead.result)}" if dead.ok else dead.describe()))


def _exchanges(answer: SdkAnswer) -> str:
    return "; ".join(f"{e.get('method')} {e.get('path')} {e.get('status') or e.get('error')}" for e in answer.http)


def _shown(user: Any) -> str:
    """A user's JSON for a message, without its session token."""
    return shell({k: v for k, v in user.items() if k != "sessionToken"} if isinstance(user, dict) else user)
