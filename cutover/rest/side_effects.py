"""Side effects of probes: what the app's triggers wrote to other classes while probes were written.

A side effect is an object created since the probe run's first write (Parse stamps ``_created_at``; the
window starts at the ``createdAt`` Parse gave that write, so no client clock is involved) that references
one of its probes: a pointer (also inside an Array), a relation row, or an ACL naming a probe user. So is
every object created in the window in a class that appeared in ``_SCHEMA`` since the run began and that the
source does not hold; such a class is the probe run's own, to drop, only when none of its objects is older.
They are found by reading the target database (filters run on the server; the probe's own records, the probe
class and probe sessions, are left out) and, unless the target says ``probe_side_effects = "report"``,
undone through the REST API with the master key: relation rows removed from their owner, objects deleted,
then each class the probe run created dropped once it is empty.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cutover import probe_marks as marks
from cutover.data import INTERNAL_CLASSES, call
from cutover.errors import CouldNotVerify, CutoverError
from cutover.rest.client import ParseClient, results
from cutover.rest.compare import pointer
from cutover.rest.probes import Cleanup, merge, remove_object

MARGIN = timedelta(seconds=1)        # triggers save in-process (same clock); a little slack for a second server
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
    new_classes: tuple[str, ...] = ()     # classes the probe run created (dropped by the undo)
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

    def problem(self) -> str:
        """API-05's finding ("" when none): side effects left in report mode, or an undo that failed."""
        if self.mode == "report" and self.rows():
            return (f"when probes were written the app's Cloud Code wrote {self.describe()}; left in place "
                    f'(probe_side_effects = "report")')
        if self.left:
            return (f"the app's Cloud Code wrote {self.describe()}; {len(self.left)} could not be undone: "
                    f"{'; '.join(self.left[:5])}")
        return ""


def total_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of several probe runs as one list, counts added up per class, link and action (each probe
    run lists only what was created in its own window, so nothing is counted twice)."""
    totals: Counter[tuple[str, str, str]] = Counter()
    for row in rows:
        totals[(str(row["class"]), str(row["link"]), str(row["action"]))] += int(row["count"])
    return [{"class": c, "count": n, "link": link, "action": action} for (c, link, action), n in sorted(totals.items())]


class SideEffectWatch:
    """Set up before a check writes probes; :meth:`settle` finds and (by default) undoes the side effects."""

    def __init__(self, client: ParseClient, db: Any, probe_class: str, baseline: frozenset[str] | None,
                 mode: str = "undo", foreign: frozenset[str] = frozenset(),
                 seen: set[SideEffect] | None = None, drop_classes: bool = True) -> None:
        self.client, self.db, self.probe_class, self.mode = client, db, probe_class, mode
        self.drop_classes = drop_classes   # False in one of several processes: the run's end drops them
        self.foreign = foreign                 # classes the source holds: never "created by the probes"
        self.seen = seen if seen is not None else set()   # listed by an earlier probe run: never twice
        self.before = baseline if baseline is not None else self._baseline()

    def _baseline(self) -> frozenset[str] | None:
        try:
            return frozenset(schemas(self.client))
        except CouldNotVerify:
            return None

    def settle(self, objects: frozenset[str], users: frozenset[str], first_write: datetime) -> Effects:
        """Find, and unless in report mode undo, the side effects of these probes, written from
        ``first_write`` (Parse's ``createdAt`` of the first) on."""
        try:
            found, own = self.find(objects, users, first_write - MARGIN)
        except CouldNotVerify as exc:
            return Effects(mode=self.mode, error=str(exc))
        found = tuple(e for e in found if e not in self.seen)
        self.seen.update(found)
        if self.mode == "report" or not (found or own):
            return Effects(found, own, self.mode)
        try:
            done = undo(self.client, found, own, drop=self.drop_classes)
        except CutoverError as exc:   # the server went away half-way
            return Effects(found, own, self.mode, 0, (f"the undo stopped: {exc}",))
        return Effects(found, own, self.mode, done.removed, done.left)

    def find(self, objects: frozenset[str], users: frozenset[str],
             since: datetime) -> tuple[tuple[SideEffect, ...], tuple[str, ...]]:
        """Side-effect objects and relation rows, and the classes the probe run created."""
        if self.before is None:
            raise CouldNotVerify("the classes before the probes were written are not known (GET /schemas failed)")
        specs = schemas(self.client)
        ids = Probes(self.probe_class, objects, users)
        found: list[SideEffect] = []
        own: list[str] = []
        for cls, fields in sorted(specs.items()):
            if self._new(cls):
                in_window, older = _in_new_class(self.db, cls, since)
                found += in_window
                own += [] if older else [cls]
            elif cls != self.probe_class and cls not in INTERNAL_CLASSES:
                found += _referencing(self.db, cls, fields, ids, since)
                found += _related(self.db, cls, fields, ids)
        return tuple(found), tuple(own)

    def _new(self, cls: str) -> bool:
        """A class created since the run began: not before it, not on the source, not the probe class."""
        assert self.before is not None
        return cls not in self.before and cls not in self.foreign and not marks.is_probe_collection(
            cls, self.probe_class)


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


def _in_new_class(db: Any, cls: str, since: datetime) -> tuple[list[SideEffect], bool]:
    """The objects of a new class created in the window, and whether it holds any older one (then the class
    is not this probe run's: an earlier run's, or the app's)."""
    window = {"_created_at": {"$gte": since}}
    docs = call(f"listing {cls}", lambda: list(db[cls].find(window, {"_id": 1}).limit(CAP)))
    older = call(f"listing {cls}", lambda: db[cls].find_one({"_created_at": {"$not": {"$gte": since}}}, {"_id": 1}))
    return [SideEffect(cls, str(d["_id"]), NEW_CLASS) for d in docs], older is not None


def undo(client: ParseClient, found: tuple[SideEffect, ...], own: tuple[str, ...], drop: bool = True) -> Cleanup:
    """Relation rows first (from their owner), then objects, then each class the probe run created (emptied
    only, without ``drop``)."""
    rows = [e for e in found if e.relation]
    objects = sorted({(e.cls, e.object_id) for e in found if not e.relation})
    outcome = merge(*(_unrelate(client, e) for e in rows),
                    *(remove_object(client, cls, oid) for cls, oid in objects))
    return merge(outcome, *(_drop_new(client, cls, drop) for cls in own))


def _unrelate(client: ParseClient, effect: SideEffect) -> Cleanup:
    name, target, related = effect.relation
    change = {name: {"__op": "RemoveRelation", "objects": [pointer(target, related)]}}
    answer = client.update(effect.cls, effect.object_id, change)
    if answer.ok:
        return Cleanup(1, ())
    return Cleanup(0, (f"{effect.cls}/{effect.object_id}.{name} relation row: {answer.describe()}",))


def _drop_new(client: ParseClient, cls: str, drop: bool = True) -> Cleanup:
    """A class the probe run created: objects its triggers added since it was listed, then the class."""
    left = [str(r["objectId"]) for r in results(client.query(cls, keys="objectId", limit=CAP))]
    outcome = merge(*(remove_object(client, cls, oid) for oid in left))
    if not drop:
        return outcome
    answer = client.drop_class(cls)
    if answer.ok or answer.code == _NO_CLASS:    # gone already: another process undid it
        return merge(outcome, Cleanup(1 if answer.ok else 0, ()))
    return merge(outcome, Cleanup(0, (f"class {cls}: {answer.describe()}",)))
