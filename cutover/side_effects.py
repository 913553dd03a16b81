"""Side effects of probes: what the app's triggers wrote to other classes while probes were written.

A side effect is an object created (Parse stamps ``_created_at``) since the probes were written that
references one of them: a pointer (also inside an Array), a relation row, or an ACL naming a probe user.
A class that appeared in ``_SCHEMA`` since the run began (and that the source does not hold) is one too,
with every object in it. They are found by reading the target database (filters run on the server; the
probe's own records, the probe class and probe sessions, are left out) and, unless the target says
``probe_side_effects = "report"``, undone through the REST API with the master key: relation rows removed
from their owner, objects deleted, then each class the probe phase created dropped once it is empty.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cutover import probe_marks as marks
from cutover.errors import CouldNotVerify
from cutover.inventory import VOLATILE_CLASSES, call
from cutover.parse_compare import pointer
from cutover.parse_rest import ParseClient, results
from cutover.probes import Cleanup, merge, remove_object

CLOCK_SKEW = timedelta(minutes=10)   # our clock against the database server's: widen the window, never narrow
CAP = 1000                           # side-effect objects listed per class
NEW_CLASS = "class created during the probe phase"
LEFT = "left in place (probe_side_effects = report)"
_NO_CLASS = 103


@dataclass(frozen=True)
class SideEffect:
    cls: str
    object_id: str
    link: str                         # how it is tied to a probe, without ids: "pointer user -> probe user"
    relation: tuple[str, ...] = ()    # a relation row: (field, target class, related id)


@dataclass(frozen=True)
class Effects:
    """What one probe run's side-effect check found, and what became of it."""

    found: tuple[SideEffect, ...] = ()
    new_classes: tuple[str, ...] = ()
    mode: str = "undo"
    undone: int = 0
    left: tuple[str, ...] = ()        # what could not be undone, with the server's answer
    error: str = ""                   # the side effects could not be looked for

    def rows(self) -> list[dict[str, Any]]:
        """Facts: one row per class and link, with a count and what was done."""
        action = LEFT if self.mode == "report" else ("undone" if not self.left else "undo incomplete")
        counts = Counter((e.cls, e.link) for e in self.found)
        rows = [{"class": c, "count": n, "link": link, "action": action} for (c, link), n in sorted(counts.items())]
        rows += [{"class": c, "count": 0, "link": NEW_CLASS, "action": action}
                 for c in self.new_classes if c not in {e.cls for e in self.found}]
        return rows

    def describe(self) -> str:
        return "; ".join(f"{r['count']} {r['class']} ({r['link']})" for r in self.rows())


def total_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of several probe runs as one list, per class, link and action. Counts add up, but for a class
    created during the probe phase and left in place (report mode): each later probe run lists the whole
    class again, so its largest listing is the total."""
    totals: Counter[tuple[str, str, str]] = Counter()
    for row in rows:
        key = (str(row["class"]), str(row["link"]), str(row["action"]))
        relisted = row["link"] == NEW_CLASS and row["action"] == LEFT
        totals[key] = max(totals[key], int(row["count"])) if relisted else totals[key] + int(row["count"])
    return [{"class": c, "count": n, "link": link, "action": action} for (c, link, action), n in sorted(totals.items())]


class SideEffectWatch:
    """Set up before a check writes probes; :meth:`settle` finds and (by default) undoes the side effects."""

    def __init__(self, client: ParseClient, db: Any, probe_class: str, baseline: frozenset[str] | None,
                 mode: str = "undo", foreign: frozenset[str] = frozenset()) -> None:
        self.client, self.db, self.probe_class, self.mode = client, db, probe_class, mode
        self.since = datetime.now(UTC) - CLOCK_SKEW
        self.foreign = foreign                 # classes the source holds: never "created by the probes"
        self.before = baseline if baseline is not None else self._baseline()

    def _baseline(self) -> frozenset[str] | None:
        try:
            return frozenset(schemas(self.client))
        except CouldNotVerify:
            return None

    def settle(self, objects: frozenset[str], users: frozenset[str]) -> Effects:
        try:
            found, new = self.find(objects, users)
        except CouldNotVerify as exc:
            return Effects(mode=self.mode, error=str(exc))
        if self.mode == "report" or not (found or new):
            return Effects(found, new, self.mode)
        done = undo(self.client, found, new)
        return Effects(found, new, self.mode, done.removed, done.left)

    def find(self, objects: frozenset[str], users: frozenset[str]) -> tuple[tuple[SideEffect, ...], tuple[str, ...]]:
        """Side-effect objects and relation rows, and the classes created since the baseline."""
        if self.before is None:
            raise CouldNotVerify("the classes before the probes were written are not known (GET /schemas failed)")
        specs = schemas(self.client)
        new = tuple(sorted(c for c in specs if c not in self.before and c not in self.foreign
                           and not marks.is_probe_collection(c, self.probe_class)))
        ids = Probes(self.probe_class, objects, users)
        found: list[SideEffect] = []
        for cls, fields in sorted(specs.items()):
            if cls in new:
                found += _whole_class(self.db, cls)
            elif cls != self.probe_class and cls not in VOLATILE_CLASSES:
                found += _referencing(self.db, cls, fields, ids, self.since)
                found += _related(self.db, cls, fields, ids)
        return tuple(found), new


@dataclass(frozen=True)
class Probes:
    probe_class: str
    objects: frozenset[str]
    users: frozenset[str]

    def of(self, cls: str) -> frozenset[str]:
        return self.users if cls == "_User" else self.objects if cls == self.probe_class else frozenset()

    def label(self, cls: str) -> str:
        return "probe user" if cls == "_User" else "probe object"


def schemas(client: ParseClient) -> dict[str, dict[str, Any]]:
    """Every class in ``_SCHEMA`` with its fields, through ``GET /schemas`` (master key)."""
    answer = client.schemas()
    if not answer.ok:
        raise CouldNotVerify(f"GET /schemas (master key) answered {answer.describe()}")
    return {str(r["className"]): dict(r.get("fields") or {}) for r in results(answer) if "className" in r}


def _referencing(db: Any, cls: str, fields: dict[str, Any], ids: Probes, since: datetime) -> list[SideEffect]:
    terms = _terms(fields, ids)
    if not terms:
        return []
    where = {"_created_at": {"$gte": since}, "$or": [t for t, _ in terms], **marks.exclusion(cls, ids.probe_class)}
    docs = call(f"looking for side effects in {cls}", lambda: list(db[cls].find(where).limit(CAP)))
    return [SideEffect(cls, str(doc["_id"]), _link(doc, terms)) for doc in docs]


def _terms(fields: dict[str, Any], ids: Probes) -> list[tuple[dict[str, Any], str]]:
    """(filter, link) for each way an object of a class with ``fields`` can reference a probe."""
    terms: list[tuple[dict[str, Any], str]] = []
    for name, spec in sorted(fields.items()):
        target = str(spec.get("targetClass", ""))
        if spec.get("type") == "Pointer" and ids.of(target):
            refs = sorted(f"{target}${i}" for i in ids.of(target))
            terms.append(({f"_p_{name}": {"$in": refs}}, f"pointer {name} -> {ids.label(target)}"))
        elif spec.get("type") == "Array" and (ids.objects or ids.users):
            every = sorted(ids.objects | ids.users)
            terms.append(({f"{name}.objectId": {"$in": every}}, f"array {name} holds a probe"))
    if ids.users:
        for acl in ("_rperm", "_wperm"):
            terms.append(({acl: {"$in": sorted(ids.users)}}, "ACL names a probe user"))
    return terms


def _link(doc: dict[str, Any], terms: list[tuple[dict[str, Any], str]]) -> str:
    for term, link in terms:
        key, cond = next(iter(term.items()))
        value = doc.get(key) if "." not in key else [v.get("objectId") for v in doc.get(key.split(".")[0]) or []
                                                      if isinstance(v, dict)]
        values = value if isinstance(value, list) else [value]
        if set(map(str, values)) & set(cond["$in"]):
            return link
    return terms[0][1]


def _related(db: Any, cls: str, fields: dict[str, Any], ids: Probes) -> list[SideEffect]:
    """Relation rows of ``cls`` that hold a probe (related) or belong to one (owning)."""
    found: list[SideEffect] = []
    for name, spec in sorted(fields.items()):
        target = str(spec.get("targetClass", ""))
        ors = [{"relatedId": {"$in": sorted(ids.of(target))}}] if ids.of(target) else []
        ors += [{"owningId": {"$in": sorted(ids.of(cls))}}] if ids.of(cls) else []
        if spec.get("type") != "Relation" or not ors:
            continue
        table = f"_Join:{name}:{cls}"
        rows = call(f"looking for side effects in {table}", lambda t=table, o=ors: list(  # type: ignore[misc]
            db[t].find({"$or": o}).limit(CAP)))
        found += [SideEffect(cls, str(r["owningId"]), f"relation {name} holds a probe",
                             (name, target, str(r["relatedId"]))) for r in rows]
    return found


def _whole_class(db: Any, cls: str) -> list[SideEffect]:
    docs = call(f"listing {cls}", lambda: list(db[cls].find({}, {"_id": 1}).limit(CAP)))
    return [SideEffect(cls, str(d["_id"]), NEW_CLASS) for d in docs]


def undo(client: ParseClient, found: tuple[SideEffect, ...], new: tuple[str, ...]) -> Cleanup:
    """Relation rows first (from their owner), then objects, then each new class once it is empty."""
    rows = [e for e in found if e.relation and e.cls not in new]
    objects = sorted({(e.cls, e.object_id) for e in found if not e.relation and e.cls not in new})
    outcome = merge(*(_unrelate(client, e) for e in rows),
                    *(remove_object(client, cls, oid) for cls, oid in objects))
    return merge(outcome, *(_drop_new(client, cls) for cls in new))


def _unrelate(client: ParseClient, effect: SideEffect) -> Cleanup:
    name, target, related = effect.relation
    change = {name: {"__op": "RemoveRelation", "objects": [pointer(target, related)]}}
    answer = client.update(effect.cls, effect.object_id, change)
    if answer.ok:
        return Cleanup(1, ())
    return Cleanup(0, (f"{effect.cls}/{effect.object_id}.{name} relation row: {answer.describe()}",))


def _drop_new(client: ParseClient, cls: str) -> Cleanup:
    """A class the probe phase created: whatever objects remain (created since), then the class."""
    left = [str(r["objectId"]) for r in results(client.query(cls, keys="objectId", limit=CAP))]
    outcome = merge(*(remove_object(client, cls, oid) for oid in left))
    answer = client.drop_class(cls)
    if answer.ok or answer.code == _NO_CLASS:    # gone already: another process undid it
        return merge(outcome, Cleanup(1 if answer.ok else 0, ()))
    return merge(outcome, Cleanup(0, (f"class {cls}: {answer.describe()}",)))
