"""What a database holds: collections with their options, views, `_SCHEMA` classes, exact counts.

Facts for DB-01 (counts) and DB-07 (collection sets, options, views, `_SCHEMA` agreement). Every read goes
through :func:`guarded`, which turns driver errors into the typed :class:`CouldNotVerify` tree. DB-07 compares
options in the form every release lists them alike: collations in full form (:mod:`cutover.data.normal_form`),
numbers of any BSON type, time-series without the bucket spans a server derives from the granularity (5.0 lists
bucketMaxSpanSeconds, 6.3+ also bucketRoundingSeconds), a clustered index without its `v` and name. A collection
kind or option cutover does not know is an ERROR naming the server.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pymongo
from pymongo import errors as mongo_errors
from pymongo.database import Database

from cutover.data import normal_form
from cutover.data.internal_classes import INTERNAL_CLASSES
from cutover.data.replies import UnknownReply, wire_label
from cutover.errors import CouldNotVerify, TargetTimeout, TargetUnreachable, UnexpectedAnswer

T = TypeVar("T")

# Options that describe a collection's behaviour; the rest (uuid, idIndex) differ on every copy.
COMPARED_OPTIONS = (
    "capped", "size", "max", "validator", "validationLevel", "validationAction", "collation",
    "timeseries", "clusteredIndex", "expireAfterSeconds", "changeStreamPreAndPostImages", "recordPreImages",
    "encryptedFields",
)
# listed by some servers, not compared: storage settings, copy-specific ids, options servers no longer honour
UNCOMPARED_OPTIONS = frozenset({"uuid", "idIndex", "storageEngine", "indexOptionDefaults", "autoIndexId", "flags",
                                "temp", "viewOn", "pipeline"})
KINDS = frozenset({"collection", "view", "timeseries"})
# time-series bucketing a server derives from `granularity` (5.0 lists bucketMaxSpanSeconds, 6.3+ also rounding)
DERIVED_BUCKETS = {"seconds": (3600, 60), "minutes": (86400, 3600), "hours": (2592000, 86400)}


# Where a user raises the operation budget (:func:`within`), named in every message that says it ran out.
BUDGET_SETTING = "[targets.<name>.scans] aggregation_timeout_s (default: 60 x thresholds.timeout_s)"


class OverBudget(TargetTimeout):
    """An operation under :func:`within` outlived its budget: the class is too big (or the server too busy)
    for the configured maxTimeMS, which says nothing about the network."""

    def __init__(self, budget_s: float, cause: str) -> None:
        super().__init__(f"took longer than the operation budget of {budget_s:g} s ({cause}); raise "
                         f"{BUDGET_SETTING} if the class is this big")
        self.budget_s = budget_s


@contextmanager
def guarded(what: str) -> Iterator[None]:
    """Translate pymongo failures while fetching ``what`` into CouldNotVerify subclasses."""
    try:
        yield
    except OverBudget as exc:
        raise TargetTimeout(f"{what}: {exc}") from exc
    except mongo_errors.ExecutionTimeout as exc:
        raise TargetTimeout(f"{what}: the server did not answer in time ({exc})") from exc
    except mongo_errors.NetworkTimeout as exc:
        raise TargetTimeout(f"{what}: the server did not answer in time (NetworkTimeout: "
                            f"{str(exc).splitlines()[0][:300]}); a read outside the operation budget waits at most "
                            f"the client's socketTimeoutMS, 6 x thresholds.timeout_s") from exc
    except (mongo_errors.ServerSelectionTimeoutError, mongo_errors.AutoReconnect) as exc:
        raise TargetUnreachable(f"{what}: database unreachable ({type(exc).__name__}); check the URI "
                                f"and network") from exc
    except mongo_errors.OperationFailure as exc:
        message = (exc.details or {}).get("errmsg", str(exc))
        raise UnexpectedAnswer(f"{what}: the server refused (code {exc.code}: {message})") from exc
    except mongo_errors.PyMongoError as exc:
        raise CouldNotVerify(f"{what}: {type(exc).__name__}: {exc}") from exc


def call(what: str, fn: Callable[[], T]) -> T:
    with guarded(what):
        return fn()


def within(db: Database[Any], budget_s: float, fn: Callable[[], T]) -> T:
    """``fn`` (an aggregation or count on ``db``) under a client-side operation timeout: every command it sends
    carries maxTimeMS (what is left of the budget) and the socket waits that long instead of the client's
    socketTimeoutMS. A ping first, outside the budget: under it, server selection would wait the whole
    budget for an unreachable server instead of serverSelectionTimeoutMS. Running out of the budget (the
    server's maxTimeMS, or the socket's wait for the answer) raises :class:`OverBudget`."""
    db.command("ping", read_preference=db.read_preference)
    start = time.monotonic()
    try:
        with pymongo.timeout(budget_s):
            return fn()
    except mongo_errors.ExecutionTimeout as exc:     # the server's maxTimeMS: only the budget sets one
        raise OverBudget(budget_s, "the server stopped it: maxTimeMS") from exc
    except mongo_errors.NetworkTimeout as exc:
        if time.monotonic() - start < budget_s * 0.9:
            raise    # a connect timeout early in the budget: not the budget's doing
        raise OverBudget(budget_s, "no answer before the budget ended: NetworkTimeout") from exc


@dataclass(frozen=True)
class CollectionInfo:
    name: str
    kind: str                                  # collection | view | timeseries
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def compared_options(self) -> dict[str, Any]:
        """The options that change behaviour, in the comparable form of every server version."""
        if self.kind == "view":
            return {"viewOn": self.options.get("viewOn"), "pipeline": self.options.get("pipeline", [])}
        out = {k: normal_form.canonical(self.options[k]) for k in COMPARED_OPTIONS if k in self.options}
        if "collation" in out and (full := normal_form.collation(out.pop("collation"))) is not None:
            out["collation"] = full
        if isinstance(out.get("timeseries"), dict):
            out["timeseries"] = _bucketing(out["timeseries"])
        if isinstance(out.get("clusteredIndex"), dict):
            out["clusteredIndex"] = {k: v for k, v in out["clusteredIndex"].items() if k not in ("v", "name")}
        return out


def _bucketing(timeseries: dict[str, Any]) -> dict[str, Any]:
    """Time-series options without the bucket spans a server derives from the granularity."""
    span, rounding = DERIVED_BUCKETS.get(str(timeseries.get("granularity", "seconds")), (None, None))
    derived = {"bucketMaxSpanSeconds": span, "bucketRoundingSeconds": rounding}
    return {k: v for k, v in timeseries.items() if k not in derived or v != derived[k]}


def collection_info(spec: Mapping[str, Any], server: str = "") -> CollectionInfo:
    """One listCollections entry; UnknownReply for a kind or option cutover does not know."""
    name, options = str(spec.get("name", "")), spec.get("options") or {}
    kind = _kind(spec)
    if kind not in KINDS:
        raise UnknownReply(server, "listCollections", f"{name}.type", f"is {kind!r}, a kind cutover does not know")
    unknown = sorted(set(map(str, options)) - set(COMPARED_OPTIONS) - UNCOMPARED_OPTIONS)
    if unknown:
        raise UnknownReply(server, "listCollections", f"{name}.options.{unknown[0]}",
                           f"= {options[unknown[0]]!r} is a collection option cutover does not know")
    return CollectionInfo(name, kind, dict(options))


@dataclass(frozen=True)
class CountPair:
    """Two counts of one class that must agree: the reference (``expected``) and what was found (``found``):
    the source's count and the target's (DB-01), or the database's and the REST count (API-03)."""

    cls: str
    expected: int
    found: int

    @property
    def difference(self) -> int:
        return self.found - self.expected


def is_system(name: str) -> bool:
    return name.startswith("system.")


def collections(db: Database[Any]) -> dict[str, CollectionInfo]:
    """Every non-system collection and view of ``db``, by name."""
    server = wire_label(db)

    def fetch() -> dict[str, CollectionInfo]:
        specs = [s for s in db.list_collections() if not is_system(s["name"])]
        return {s["name"]: collection_info(s, server) for s in specs}
    return call(f"listing collections of {db.name}", fetch)


def _kind(spec: Mapping[str, Any]) -> str:
    """A view is a view whether the server says so in ``type`` or only through ``options.viewOn`` (3.2 and older
    servers, and the stand-in, list no ``type``)."""
    return "view" if "viewOn" in (spec.get("options") or {}) else str(spec.get("type", "collection"))


def data_collections(db: Database[Any]) -> list[str]:
    """Names of the collections that hold documents (views excluded), sorted."""
    return sorted(name for name, info in collections(db).items() if info.kind != "view")


def schema_classes(db: Database[Any]) -> list[str]:
    """Class names declared in `_SCHEMA` (its `_id` is the class name), sorted."""
    return call(f"reading _SCHEMA of {db.name}",
                lambda: sorted(str(doc["_id"]) for doc in db["_SCHEMA"].find({}, {"_id": 1})))


def schema_documents(db: Database[Any]) -> dict[str, dict[str, Any]]:
    return call(f"reading _SCHEMA of {db.name}", lambda: {str(d["_id"]): d for d in db["_SCHEMA"].find({})})


def class_permissions(db: Database[Any]) -> dict[str, dict[str, Any]]:
    """The class-level permissions of each `_SCHEMA` class (``{}`` where it declares none)."""
    return call(f"reading _SCHEMA of {db.name}", lambda: {
        str(d["_id"]): d.get("_metadata", {}).get("class_permissions") or {}
        for d in db["_SCHEMA"].find({}, {"_metadata.class_permissions": 1})})


def exact_count(db: Database[Any], name: str, budget_s: float, where: Mapping[str, Any] | None = None) -> int:
    """The exact number of documents (a counting scan, not the collection metadata's estimate) matching
    ``where`` (every document when None), under the operation budget ``budget_s`` (no default: a class of
    100M documents needs the budget the user configured, not a guess)."""
    return call(f"counting {name}", lambda: within(db, budget_s,
                                                     lambda: int(db[name].count_documents(dict(where or {})))))


def is_parse_class(name: str) -> bool:
    """A collection a Parse REST source can count: not internal, not GridFS, not a relation join table."""
    return name not in INTERNAL_CLASSES and "." not in name and not name.startswith("_Join:")
