"""The REST criteria as sequences of steps; each flow returns a :class:`Flow` naming the first failed step.

Flows write only probes (through :class:`cutover.rest.probes.ProbeRun`, which removes them) and read the
databases and the file store to prove where the server really writes.
"""
from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cutover import probe_marks
from cutover.data import CountPair
from cutover.errors import UnexpectedAnswer
from cutover.model import Query
from cutover.notation import shell
from cutover.rest.client import Answer, ParseClient, results
from cutover.rest.compare import differences, pointer, sample_object
from cutover.rest.probes import RUN_FIELD, ProbeRun


@dataclass(frozen=True)
class Flow:
    """The steps that passed, and the first failure ("" when every step passed)."""

    steps: tuple[str, ...]
    failure: str = ""

    @property
    def ok(self) -> bool:
        return not self.failure


class _Failed(Exception):
    pass


class Steps:
    """The steps of one flow that passed so far; :meth:`need` ends the flow at the first failed one."""

    def __init__(self, criterion: str) -> None:
        self.criterion = criterion
        self.done: list[str] = []

    def need(self, step: str, ok: bool, problem: str) -> None:
        if not ok:
            raise _Failed(f"{self.criterion} {step}: {problem}")
        if step not in self.done:
            self.done.append(step)

    def answered(self, step: str, answer: Answer, *expected: int) -> Any:
        good = answer.status in expected if expected else answer.ok
        self.need(step, good, f"{answer.method} {answer.path} answered {answer.describe()}")
        return answer.body

    def flow(self, failure: str = "") -> Flow:
        return Flow(tuple(self.done), failure)


def run_steps(criterion: str, body: Any, *args: Any) -> Flow:
    """``body(steps, *args)`` as a :class:`Flow` whose failure is ``"<criterion> <step>: <problem>"``."""
    steps = Steps(criterion)
    try:
        body(steps, *args)
    except _Failed as failed:
        return steps.flow(str(failed))
    return steps.flow()


# -- API-02 ------------------------------------------------------------------------------------------------
def crud_round_trip(run: ProbeRun) -> Flow:
    """create, get, query, relation, update, Increment, AddUnique, delete on an object of every type."""
    return run_steps("API-02", _crud, run)


def _crud(s: Steps, run: ProbeRun) -> None:
    upload = s.answered("upload", run.upload(b"cutover API-02 probe file\n"))
    anchor = s.answered("create", run.create({"role": "anchor"}))["objectId"]
    sent = sample_object(run.cls, anchor, upload["name"], datetime(2021, 3, 4, 5, 6, 7, 890000, tzinfo=UTC),
                         str(upload.get("url", "")))
    oid = s.answered("create", run.create(sent))["objectId"]
    sent = {**sent, **run.marker}
    same(s, "get", sent, s.answered("get", run.client.get(run.cls, oid)))
    found = results(run.client.query(run.cls, {RUN_FIELD: run.run_id, "tString": sent["tString"]}))
    s.need("query", [r.get("objectId") for r in found] == [oid], f"where on tString found {shell(ids(found))}, "
           f"expected {shell([oid])}")
    same(s, "query", sent, found[0])
    related = {"$relatedTo": {"object": pointer(run.cls, oid), "key": "tRelation"}}
    got = results(run.client.query(run.cls, related))
    s.need("relation", ids(got) == [anchor],
           f"$relatedTo tRelation found {shell(ids(got))}, expected {shell([anchor])}")
    # RemoveRelation before the delete: Parse keeps the join rows of a deleted object
    remove = {"tRelation": {"__op": "RemoveRelation", "objects": [pointer(run.cls, anchor)]}}
    s.answered("relation", run.client.update(run.cls, oid, remove))
    left = ids(results(run.client.query(run.cls, related)))
    s.need("relation", left == [], f"after RemoveRelation $relatedTo tRelation still finds {shell(left)}")
    _updates(s, run, oid, sent)
    s.answered("delete", run.client.delete(run.cls, oid))
    gone = run.client.get(run.cls, oid)
    s.need("delete", gone.status == 404, f"the deleted object still answers {gone.describe()}")


def _updates(s: Steps, run: ProbeRun, oid: str, sent: dict[str, Any]) -> None:
    for step, change, expected in updates(sent):
        s.answered(step, run.client.update(run.cls, oid, change))
        sent = {**sent, **expected}
        same(s, step, sent, s.answered(step, run.client.get(run.cls, oid)))


def updates(sent: dict[str, Any]) -> tuple[tuple[str, dict[str, Any], dict[str, Any]], ...]:
    """API-02's updates of the probe object ``sent``, in order (REST and the JS SDK make the same ones):
    (step, the change sent, the fields it reads back with afterwards)."""
    changes: dict[str, Any] = {"tString": "updated ✓", "tNumber": 9, "tBoolean": True}
    return (("update", changes, changes),
            ("increment", {"tNumber": {"__op": "Increment", "amount": 3}}, {"tNumber": 9 + 3}),
            ("addunique", {"tArray": {"__op": "AddUnique", "objects": ["two", "new"]}},
             {"tArray": [*sent["tArray"], "new"]}))


def same(s: Steps, step: str, sent: dict[str, Any], got: Any) -> None:
    """The step fails unless ``got`` reads back as what was ``sent`` (:func:`cutover.rest.compare.differences`)."""
    diffs = differences(sent, got if isinstance(got, dict) else {})
    s.need(step, not diffs, "; ".join(diffs))


def ids(found: list[dict[str, Any]]) -> list[str]:
    return [str(r.get("objectId")) for r in found]


# -- API-03 ------------------------------------------------------------------------------------------------
def wiring(run: ProbeRun, target_db: Any, source_db: Any = None) -> Flow:
    """An object created through REST must be in the target database (read directly with pymongo)."""
    return run_steps("API-03", _wiring, run, target_db, source_db)


def _wiring(s: Steps, run: ProbeRun, target_db: Any, source_db: Any) -> None:
    marker = secrets.token_hex(8)
    oid = s.answered("create", run.create({"wiring": marker}))["objectId"]
    doc = target_db[run.cls].find_one({"_id": oid}, {"wiring": 1})
    if doc is None and source_db is not None and source_db[run.cls].find_one({"_id": oid}) is not None:
        s.need("direct read", False, f"the probe {run.cls}/{oid} written through REST is in the SOURCE "
               f"database '{source_db.name}', not in the target database '{target_db.name}': the server "
               "runs on the source (staging) database")
    s.need("direct read", doc is not None, f"the probe {run.cls}/{oid} written through REST is not in the "
           f"target database '{target_db.name}': the server runs on another database")
    s.need("direct read", doc.get("wiring") == marker, f"{run.cls}/{oid} in the target database holds "
           f"wiring={shell(doc.get('wiring'))}, sent {shell(marker)}")


def count_pair(client: ParseClient, target_db: Any, cls: str, probe_class: str = "", tries: int = 3,
               budget_s: float = 600.0) -> CountPair:
    """The target database's count of ``cls`` (expected) and the REST count (found, with the master key), the
    suite's probes left out of both (the same filter serves as the REST ``where``); re-read a few times while
    they move."""
    pair = CountPair(cls, 0, -1)
    where = probe_marks.exclusion(cls, probe_class)
    for _ in range(tries):
        answer = client.count(cls, where)
        body = answer.body if isinstance(answer.body, dict) else {}
        if not answer.ok or not isinstance(body.get("count"), int):
            raise UnexpectedAnswer(f"API-03 count {cls}: the server refused to count: {answer.describe()}")
        pair = CountPair(cls, target_db[cls].count_documents(where, maxTimeMS=int(budget_s * 1000)), body["count"])
        if pair.found == pair.expected:
            break
    return pair


# -- API-04 ------------------------------------------------------------------------------------------------
def file_round_trip(run: ProbeRun, in_store: Callable[[str], str]) -> Flow:
    """Upload through /files, GET the returned URL, same bytes, and ``in_store(name)`` holds it."""
    return run_steps("API-04", _files, run, in_store)


def _files(s: Steps, run: ProbeRun, in_store: Callable[[str], str]) -> None:
    data = b"cutover API-04 " + secrets.token_bytes(48) + b"\x00\xff end"
    body = s.answered("upload", run.upload(data, "application/octet-stream"), 201)
    s.need("upload", bool(body.get("url")) and bool(body.get("name")),
           f"the answer has no url/name: {shell(body, limit=200)}")
    status, got = run.client.get_url(body["url"])
    s.need("resolve", status == 200, f"GET of the returned URL answered {status}")
    s.need("bytes", got == data, f"the URL served {len(got)} bytes that differ from the {len(data)} uploaded")
    where = in_store(body["name"])
    s.need("store", not where, f"{body['name']} {where}")


# -- API-06 / API-07 ---------------------------------------------------------------------------------------
def acl_hidden(run: ProbeRun) -> Flow:
    """A probe object readable by nobody (ACL {}) is invisible to a client without the master key."""
    return run_steps("API-06", _acl, run)


def _acl(s: Steps, run: ProbeRun) -> None:
    oid = s.answered("create", run.create({"secret": "acl probe", "ACL": {}}))["objectId"]
    got = run.client.get(run.cls, oid, auth="client")
    s.need("acl get", got.status == 404, f"GET of the ACL-protected {run.cls}/{oid} without the master "
           f"key answered {got.describe()}, expected 404 object not found")
    listed = run.client.query(run.cls, {"objectId": oid}, auth="client")
    s.need("acl query", oid not in ids(results(listed)), f"a query without the master key returned the "
           f"ACL-protected {run.cls}/{oid}")


def user_round_trip(run: ProbeRun) -> Flow:
    """sign-up, log-in, users/me, log-out (and the token is dead after it) on a probe user."""
    return run_steps("API-07", _user, run)


def _user(s: Steps, run: ProbeRun) -> None:
    answer, username, password = run.sign_up()
    s.need("sign-up token", bool(s.answered("sign-up", answer, 201).get("sessionToken")), "no sessionToken")
    token = s.answered("log-in", run.log_in(username, password)).get("sessionToken", "")
    s.need("log-in", bool(token), "the log-in answer has no sessionToken")
    me = s.answered("users/me", run.client.me(token))
    s.need("users/me", me.get("username") == username, f"users/me is {shell(me.get('username'))}, "
           f"expected {shell(username)}")
    s.answered("log-out", run.client.log_out(token))
    after = run.client.me(token)
    s.need("log-out", after.code == 209, f"the logged-out session token still answers {after.describe()}")


# -- API-05: what the app's triggers do to probes ---------------------------------------------------------
def trigger_writes(run: ProbeRun) -> Flow:
    """The writes whose side effects API-05 looks for: a sign-up, log-in and log-out, a probe object created,
    updated and deleted. Every write is tried; ``failure`` lists each one the server refused."""
    done: list[str] = []
    refused: list[str] = []

    def step(name: str, answer: Answer) -> Answer:
        if answer.ok:
            done.append(name)
        else:
            refused.append(f"{name}: {answer.method} {answer.path} answered {answer.describe()}")
        return answer

    signed, username, password = run.sign_up()
    if step("sign-up", signed).ok:
        token = step("log-in", run.log_in(username, password)).body or {}
        if isinstance(token, dict) and token.get("sessionToken"):
            step("log-out", run.client.log_out(str(token["sessionToken"])))
    created = step("create", run.create({"trigger": "API-05 side effects"}))
    if created.ok:
        oid = str(created.body["objectId"])
        step("update", run.client.update(run.cls, oid, {"trigger": "updated"}))
        step("delete", run.client.delete(run.cls, oid))
    return Flow(tuple(done), "; ".join(refused))


# -- API-05 / API-08 ---------------------------------------------------------------------------------------
def order_of(query: Query) -> str:
    """Parse's ``order`` parameter for a declared sort, with objectId as the tie-breaker."""
    keys = [f"-{k}" if direction < 0 else k for k, direction in query.sort.items()]
    return ",".join([*keys, "objectId"])


DIFFERENTIAL_LIMIT = 100   # objects asked of each server per declared query, in the query's order


@dataclass(frozen=True)
class Differential:
    """API-08's comparison of one declared query: what differs (at most 10 lines; () when alike) and how many
    objects each server answered (at most ``limit``: the first ones in the query's order)."""

    differences: tuple[str, ...]
    source_objects: int = 0
    target_objects: int = 0
    limit: int = DIFFERENTIAL_LIMIT

    def compared(self) -> dict[str, Any]:
        """The fact that says what the verdict rests on: a query both servers answer with nothing agrees too."""
        fact: dict[str, Any] = {"source_objects": self.source_objects, "target_objects": self.target_objects}
        if max(self.source_objects, self.target_objects) >= self.limit:
            fact["note"] = f"the first {self.limit} objects of each answer, in the query's order"
        return fact


def differential(source: ParseClient, target: ParseClient, query: Query,
                 limit: int = DIFFERENTIAL_LIMIT) -> Differential:
    """How the target's answer to ``query`` differs from the source's."""
    answers = [c.query(query.cls, query.where, order=order_of(query), limit=limit) for c in (source, target)]
    for side, answer in zip(("source", "target"), answers, strict=True):
        if not answer.ok:
            return Differential((f"the {side} server answered {answer.describe()}",), limit=limit)
    old, new = (results(a) for a in answers)
    counted = {"source_objects": len(old), "target_objects": len(new), "limit": limit}
    if ids(old) != ids(new):
        return Differential((f"objectIds differ: source {shell(ids(old)[:10])}, target {shell(ids(new)[:10])} "
                             "(first 10)",), **counted)
    return Differential(tuple([f"{o['objectId']}: {d}" for o, n in zip(old, new, strict=True)
                               for d in differences(o, n, ignore=frozenset())][:10]), **counted)
