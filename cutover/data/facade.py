"""The data area's facade (``session.data``): what the DB-* and CLI-01 checks ask, computed once per session.

Every fact comes from the session's clients through the modules of this package; the heavy reads (DB-02,
DB-04) go through :meth:`DataFacade.scan_db` (``scans.read_preference``), are bounded by
:attr:`DataFacade.budget_s` (maxTimeMS) and pay for what they read at :meth:`DataFacade.pace`. The suite's
probes are never data of the app (:mod:`cutover.probe_marks`).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any

from pymongo import read_preferences
from pymongo.database import Database

from cutover import probe_marks
from cutover.data import (
    clients,
    digest,
    health,
    indexes,
    internal_classes,
    inventory,
    live_counts,
    longkeys,
    queries,
    schema_types,
    source_plan,
    stored_types,
)
from cutover.data.content import ContentDiff, Partition, compare_partition, compare_sample, server_hash
from cutover.data.inventory import CountPair, call, within
from cutover.data.live_content import live_partition
from cutover.data.live_content import policy as live_policy
from cutover.data.live_prefetch import Background
from cutover.data.pace import Pace
from cutover.data.plan import DataPlan, count_all, partition_all
from cutover.data.recheck import Fetch, MongoFetch, Policy
from cutover.data.replies import StandInLimit
from cutover.data.rest_reader import ClassSchema, SourceReader
from cutover.data.schema_types import SchemaTypes
from cutover.data.source_compare import JoinPartition
from cutover.data.source_schema import declared_index_gaps, permission_differences
from cutover.data.stored_types import StoredTypes
from cutover.errors import CouldNotVerify
from cutover.facade import Facade
from cutover.memo import memo_key, memoized
from cutover.model import Query

BRACKET_THREADS = 4   # DB-01's brackets under a live sync: counts at once on each server, at most

# a DB-02 unit: an `_id` partition, the relation rows of one (REST or export source), or a class name for a
# sample (--sample N)
Unit = Partition | JoinPartition | str


@dataclass(frozen=True)
class SchemaAgreement:
    """DB-07: `_SCHEMA` classes without a collection, and class collections without a `_SCHEMA` entry."""

    no_collection: tuple[str, ...]
    no_schema: tuple[str, ...]


@dataclass(frozen=True)
class DeclaredIndexes:
    """DB-03 for one class of a REST or export source: what its schema declares, and what the target lacks."""

    declared: dict[str, Any] | None
    missing: tuple[str, ...]
    parse_missing: tuple[str, ...]
    schema_wrong: tuple[str, ...]


@dataclass(frozen=True)
class IndexPresence:
    """DB-03 for one class: source vs target, Parse Server's own indexes, `_SCHEMA._metadata.indexes`."""

    comparison: indexes.IndexComparison
    parse_missing: tuple[str, ...]
    schema_wrong: tuple[str, ...]


class DataFacade(Facade):
    _unplanned = ""   # why the process that planned for this one could not (adopt_failure)

    # -- what the checks run over ---------------------------------------------------------------------------
    @memoized
    def classes(self) -> list[str]:
        """Source classes, target collections and target `_SCHEMA` classes, together (DB-01's test list).

        A REST or export source cannot count Parse's internal collections (`_SCHEMA`, `_Idempotency`, GridFS,
        relation tables): for such a source they are left out on both sides (:meth:`left_out_classes`).
        """
        source, target_db = self.session.source, self.session.target_db
        names = set(source.class_names()) | set(inventory.data_collections(target_db)) \
            | set(inventory.schema_classes(target_db))
        if source.kind != "mongodb":
            names = {name for name in names if inventory.is_parse_class(name)}
        return self.without_probes(names)

    @memoized
    def left_out_classes(self) -> dict[str, Any]:
        """What DB-01, DB-02 and DB-07 leave out against a REST or export source, and why (the checks' facts):
        Parse Server's internal classes on either side, and the app classes the target's Parse Server created
        at start that the source does not name and that hold no object."""
        if not self.document_source:
            return {}
        target_db = self.session.target_db
        source = set(self.session.source.class_names()) | set(self.source_schemas())
        target = set(inventory.data_collections(target_db)) | set(inventory.schema_classes(target_db))
        return {"internal_classes": {"source": internal_classes.left_out(source),
                                     "target": internal_classes.left_out(target),
                                     "why": internal_classes.REASON, "list": internal_classes.PROVENANCE},
                "created_by_the_target_server": self.server_started(source)}

    def server_started(self, source: set[str]) -> list[str]:
        """`_User`/`_Role` on the target that its Parse Server created (the source does not name them, and the
        target holds no object of them): not "extra" against a REST or export source."""
        return sorted(c for c in internal_classes.STARTED_BY_SERVER - source if self.target_count(c) == 0)

    @memoized
    def collection_classes(self) -> list[str]:
        """Collections (not views) on the source or the target: DB-02 runs over these."""
        names = set(inventory.data_collections(self.source_db()))
        return self.without_probes(names | set(inventory.data_collections(self.session.target_db)))

    @memoized
    def shared_classes(self) -> list[str]:
        """Collections on both sides: DB-03 compares their indexes (a missing collection is DB-07's); from a REST
        or export source, the Parse classes it declares that the target holds."""
        if self.document_source:
            on_target = set(inventory.data_collections(self.session.target_db))
            return [name for name in self.source_object_classes() if name in on_target]
        names = set(inventory.data_collections(self.source_db()))
        return self.without_probes(names & set(inventory.data_collections(self.session.target_db)))

    @memoized
    def target_classes(self) -> list[str]:
        """Collections on the target: DB-04 scans their indexed values."""
        return self.without_probes(inventory.data_collections(self.session.target_db))

    def without_probes(self, names: Iterable[str]) -> list[str]:
        """``names`` sorted, without the probe class and its relation tables."""
        return sorted(n for n in set(names) if not probe_marks.is_probe_collection(n, self.target.probe_class))

    def probe_exclusion(self, cls: str) -> dict[str, Any]:
        """The filter that leaves the suite's probes (users, sessions, the probe class's `_SCHEMA` entry) out."""
        return probe_marks.exclusion(cls, self.target.probe_class)

    def source_db(self) -> Database[Any]:
        """The source database, or CouldNotVerify for sources that cannot serve documents or indexes."""
        db = self.session.source_db
        if db is None:
            raise CouldNotVerify(f"this needs a MongoDB source; source.kind = {self.target.source.kind} only "
                                 f"gives classes and counts")
        return db

    # -- a REST or export source (source_plan.py) -----------------------------------------------------------
    @property
    def document_source(self) -> bool:
        """True when the source yields objects through a reader (rest, export) rather than a database."""
        return source_plan.is_document_source(self)

    @memoized
    def source_reader(self) -> SourceReader:
        """The object reader of a REST or export source (one per session)."""
        return source_plan.open_reader(self.target)

    @memoized
    def source_schemas(self) -> dict[str, ClassSchema]:
        """The classes a REST or export source declares, with their fields, indexes and permissions."""
        return self.source_reader().schemas()

    @memoized
    def source_object_classes(self) -> list[str]:
        """The Parse classes a REST or export source declares or the target holds: DB-02 and DB-03 run over these."""
        return source_plan.object_classes(self)

    @memoized
    def source_partitions(self, cls: str) -> list[Partition]:
        """DB-02's partitions of ``cls`` against a REST or export source: the target's `_id` ranges."""
        return source_plan.class_partitions(self, cls)

    def declared_index_presence(self, cls: str) -> DeclaredIndexes:
        """DB-03 from a REST or export source: the indexes its schema declares, Parse's own, `_SCHEMA`'s own."""
        target_specs = indexes.list_indexes(self.session.target_db, cls)
        declared = self.source_schemas().get(cls)
        wanted = declared.indexes if declared else None
        return DeclaredIndexes(
            dict(wanted or {}) if declared else None, tuple(declared_index_gaps(wanted, target_specs)),
            tuple(indexes.missing_required(cls, target_specs) if target_specs else ()),
            tuple(indexes.schema_index_mismatches(self.schema_documents().get(cls), target_specs)))

    def permission_differences(self) -> tuple[int, list[str]] | None:
        """DB-07 from a REST or export source: (classes declared, class-level permissions that differ from the
        target's `_SCHEMA`); None when the source declares none (an export without _SCHEMA.json)."""
        declared = self.source_schemas()
        if all(schema.permissions is None for schema in declared.values()):
            return None
        target_schema = self.schema_documents()
        return len(declared), [line for cls in self.without_probes(declared)
                               for line in permission_differences(cls, declared[cls].permissions,
                                                                  target_schema.get(cls))]

    def listed_classes(self, side: str) -> set[str]:
        """DB-07's lists of one side: its collections and views; from a REST or export source, the classes of the
        source's schema and of the target's `_SCHEMA`."""
        if not self.document_source:
            return set(self.collections(side))
        if side == "source":
            names = set(self.source_schemas())
        else:
            names = set(inventory.schema_classes(self.session.target_db)) \
                - set(self.left_out_classes()["created_by_the_target_server"])
        return set(self.without_probes(internal_classes.without_internal(names)))

    def not_verifiable(self, cls: str) -> list[str]:
        """Storage fields of ``cls`` a REST or export source does not show (so DB-02 cannot compare them)."""
        return self.source_reader().not_verifiable(cls) if self.document_source and cls else []

    # -- how the heavy reads treat a busy server ------------------------------------------------------------
    @property
    def budget_s(self) -> float:
        """maxTimeMS (in seconds) of the suite's aggregations and counts."""
        return self.target.scans.aggregation_budget(self.target.thresholds.timeout_s)

    def scan_db(self, side: str) -> Database[Any]:
        """The source or target database for heavy reads (DB-02, DB-04): with ``scans.read_preference``."""
        db = self.source_db() if side == "source" else self.session.target_db
        mode = self.target.scans.read_preference
        if not mode:
            return db
        return db.with_options(read_preference=getattr(read_preferences, mode[0].upper() + mode[1:])())

    @memoized
    def pace(self, side: str) -> Pace:
        """The documents-per-second cap of one server, this process's share of ``scans.max_docs_per_s``."""
        return Pace(self.target.scans.max_docs_per_s / max(1, self.session.options.workers))

    # -- DB-01 ----------------------------------------------------------------------------------------------
    @memoized
    def counts(self, cls: str) -> CountPair:
        """The source's count of ``cls`` (expected) and the target's (found), probes left out of both."""
        return CountPair(cls, self.session.source.count(cls), self.target_count(cls))

    @memoized
    def target_count(self, cls: str) -> int:
        return inventory.exact_count(self.session.target_db, cls, self.budget_s, self.probe_exclusion(cls))

    # -- DB-02 ----------------------------------------------------------------------------------------------
    @property
    def sample_size(self) -> int:
        """``--sample N``: compare N random documents per class instead of all."""
        return self.session.options.sample

    def content_units(self) -> list[tuple[str, Unit]]:
        """(id, unit) pairs for DB-02: partitions of about ``partition_docs`` each, or one sample per class."""
        return list(self.plan().units)

    @memoized
    def plan(self) -> DataPlan:
        """Every class's counts and DB-02's units, computed once (:mod:`cutover.data.plan`), unless adopted."""
        if self._unplanned:
            raise CouldNotVerify(self._unplanned)
        pairs = count_all(self, self.classes())
        for pair in pairs:
            self.memo.put(memo_key("counts", pair.cls), pair)
        if self.document_source:
            units = source_plan.units(self)
        elif self.sample_size:
            units = [(f"{cls}:sample", cls) for cls in self.collection_classes()]
        else:
            units = partition_all(self, self.collection_classes(), {p.cls: p for p in pairs})
        return DataPlan(pairs, tuple(units))

    def adopt(self, made: DataPlan) -> None:
        """Take the plan another process computed (the controller, a planning job): counts and units alike."""
        for pair in made.counts:
            self.memo.put(memo_key("counts", pair.cls), pair)
            self.memo.put(memo_key("target_count", pair.cls), pair.found)
        self.memo.put(memo_key("plan"), made)

    def adopt_failure(self, why: CouldNotVerify) -> None:
        """The process that plans for this one could not: DB-02's units raise ``why`` instead of planning again."""
        self._unplanned = str(why)

    def content(self, unit: Unit) -> ContentDiff:
        """DB-02's verdict on one unit: dbHash (opt-in only), then server digests, then the documents."""
        if self.document_source:
            return source_plan.diff(self, unit)
        cap = self.target.thresholds.diff_cap
        src, dst = self.scan_db("source"), self.scan_db("target")
        if isinstance(unit, JoinPartition):
            raise TypeError(f"relation rows {unit.label} are units of a REST or export source only")
        if not isinstance(unit, Partition):
            return compare_sample(src, dst, unit, self.sample_size, cap, self.budget_s)
        if self.target.database.live_sync:
            return self.live_content(unit)
        if self.target.allow_blocking_commands and self.hashes_equal(unit.cls):
            return ContentDiff(unit.label, -1, -1, method="server dbHash equal (allow_blocking_commands = true)")
        said = self.digests_said(unit)
        if isinstance(said, ContentDiff):
            return said
        return compare_partition(src, dst, unit, cap, (self.pace("source"), self.pace("target")), digest=said)

    def digests_said(self, unit: Partition) -> ContentDiff | str:
        """The verdict when both servers' digests of ``unit`` agree, else what they said (for the record)."""
        support = self.digest_support()
        if not support.available:
            return f"unavailable: {support.reason}"
        ours, theirs = self.partition_digests(unit)
        if ours.matches(theirs):
            return ContentDiff(unit.label, ours.docs, theirs.docs, method="server digest equal", digest="equal")
        return f"differ (source {ours.describe()}, target {theirs.describe()})"

    # -- under a live sync (docs/live-sync.md) --------------------------------------------------------------
    @memoized
    def live_content(self, unit: Partition) -> ContentDiff:
        """DB-02 of a partition under a live sync: digests, then the documents with rechecks (never dbHash: the
        copy is not quiesced, and the command would stall the app's writes). Remembered: :meth:`prefetch_live`
        may have computed it ahead."""
        said = self.digests_said(unit)
        if isinstance(said, ContentDiff):
            return said
        src, dst = self.scan_db("source"), self.scan_db("target")
        return live_partition(src, dst, self.recheck_fetchers(), unit, self.target.database,
                              self.target.thresholds.diff_cap, (self.pace("source"), self.pace("target")), said)

    def prefetch_live(self, units: Iterable[Unit], brackets: bool, watch: bool) -> None:
        """Start computing, in the background, the DB-01 cutoff brackets (``brackets``), DB-06's sync watch
        (``watch``) and the DB-02 verdicts of ``units`` that a live sync's checks will ask for, so that their
        settle delays overlap (:mod:`cutover.data.live_prefetch`). Only for a process that runs all of them."""
        if not self.target.database.live_sync or self.document_source or self.sample_size:
            return
        if brackets:
            self.start_brackets()
        jobs: list[Callable[[], object]] = [self.sync_watch] if watch else []
        jobs += [partial(self.live_content, unit) for unit in units if isinstance(unit, Partition)]
        if jobs:
            self.session.keep(Background(jobs))

    def recheck_fetchers(self) -> tuple[Fetch, Fetch]:
        """How DB-02's rechecks look documents up by `_id` on the source and on the target (a seam: another kind
        of source plugs in its own ``fetch(cls, ids)``)."""
        return MongoFetch(self.source_db()), MongoFetch(self.session.target_db)

    @memoized
    def created_stamped(self, cls: str) -> bool:
        """Whether ``cls`` on the source carries `_created_at` (Parse's classes do; `_SCHEMA`, `_Join:*`, GridFS
        and `_Idempotency` do not): only those get DB-01's cutoff count under a live sync."""
        db = self.session.source_db
        if not inventory.is_parse_class(cls) or db is None:
            return False
        return bool(call(f"looking for {live_counts.CREATED} in {cls}", lambda: within(
            db, self.budget_s, lambda: db[cls].find_one({live_counts.CREATED: {"$exists": True}}, {"_id": 1})
            is not None)))

    def cutoff_bracket(self, cls: str) -> live_counts.Bracket | None:
        """DB-01's cutoff count of ``cls`` under a live sync (None: the class has no `_created_at`). The first
        call starts every class's bracket (:meth:`start_brackets`): their settle delays overlap."""
        self.start_brackets()
        return self.class_bracket(cls) if self.created_stamped(cls) else None

    @memoized
    def start_brackets(self) -> None:
        """Every stamped class's bracket, each in its own thread (at most ``BRACKET_THREADS`` at a time)."""
        jobs = [partial(self.class_bracket, cls) for cls in self.classes() if self.created_stamped(cls)]
        self.session.keep(Background(jobs, threads=BRACKET_THREADS))

    @memoized
    def class_bracket(self, cls: str) -> live_counts.Bracket:
        spec = self.target.database
        settle = self.recheck_policy().delay(1, 0.0) if spec.sync_lag_s else spec.max_in_flight_s
        return live_counts.brackets([cls], self._before(self.source_db()), self._before(self.session.target_db),
                                    settle)[cls]

    def _before(self, db: Database[Any]) -> live_counts.Counter:
        def count(cls: str, cutoff: Any) -> int:
            where = {live_counts.CREATED: {"$lt": cutoff}, **self.probe_exclusion(cls)}
            return inventory.exact_count(db, cls, self.budget_s, where)
        return count

    def recheck_policy(self) -> Policy:
        return live_policy(self.target.database)

    @memoized
    def sync_watch(self) -> list[Any]:
        """DB-06 under a live sync: whether the sync delivers, per class that Parse stamps (:mod:`sync_watch`)."""
        from cutover.data import sync_watch as watching

        spec = self.target.database
        classes = {cls: self.probe_exclusion(cls) for cls in self.classes() if self.created_stamped(cls)}
        return watching.watch_all(self.source_db(), self.session.target_db, classes, sync_lag_s=spec.sync_lag_s,
                                  max_in_flight_s=spec.max_in_flight_s, budget_s=spec.recheck_budget_s,
                                  query_budget_s=self.budget_s)

    @memoized
    def hashes_equal(self, cls: str) -> bool:
        """True only when both servers give a ``dbHash`` for ``cls`` and the two are equal (dbHash blocks writes:
        only with ``allow_blocking_commands = true``; otherwise the clients refuse to send it)."""
        theirs = server_hash(self.source_db(), cls)
        return theirs is not None and theirs == server_hash(self.session.target_db, cls)

    @memoized
    def digest_support(self) -> digest.Support:
        """Whether both servers compute sound partition digests (each runs the known-answer test once)."""
        for side in ("source", "target"):
            found = digest.support(self.scan_db(side), self.budget_s)
            if not found.available:
                return digest.Support(False, f"{side}: {found.reason}")
        return digest.Support(True)

    def partition_digests(self, part: Partition) -> tuple[digest.Digest, digest.Digest]:
        """Both sides' digests of ``part``, computed at the same time; each server's pace pays for its scan."""
        def one(side: str) -> digest.Digest:
            found = digest.partition_digest(self.scan_db(side), part.cls, part.filter(), self.budget_s)
            self.pace(side).spend(found.docs)
            return found
        with ThreadPoolExecutor(max_workers=2) as pool:
            ours, theirs = pool.map(one, ("source", "target"))
        return ours, theirs

    # -- DB-03, DB-04, DB-05 --------------------------------------------------------------------------------
    def index_presence(self, cls: str) -> IndexPresence:
        target_specs = indexes.list_indexes(self.session.target_db, cls)
        comparison = indexes.compare(cls, indexes.list_indexes(self.source_db(), cls), target_specs)
        parse_missing = indexes.missing_required(cls, target_specs) if target_specs else []
        wrong = indexes.schema_index_mismatches(self.schema_documents().get(cls), target_specs)
        return IndexPresence(comparison, tuple(parse_missing), tuple(wrong))

    @memoized
    def schema_documents(self) -> dict[str, dict[str, Any]]:
        return inventory.schema_documents(self.session.target_db)

    def long_keys(self, cls: str) -> longkeys.LongKeys:
        """DB-04's server-side scan of the target class (read preference, budget), paid for at the pace."""
        specs = indexes.list_indexes(self.session.target_db, cls)
        found = longkeys.long_keys(self.scan_db("target"), cls, specs, self.target.thresholds.diff_cap,
                                   self.budget_s)
        self.pace("target").spend(self.target_count(cls))
        return found

    def index_completeness(self, cls: str) -> list[longkeys.IndexCoverage]:
        """DB-04's plain and hinted counts per index on the target, each paid for at the pace."""
        specs = indexes.list_indexes(self.session.target_db, cls)
        counts = longkeys.index_completeness(self.scan_db("target"), cls, specs, self.budget_s)
        self.pace("target").spend(sum(c.expected + c.indexed for c in counts))
        return counts

    def hint_limit(self, cls: str) -> StandInLimit | None:
        """None when the target's plan of a hinted count reads the hinted index; what the stand-in cannot answer
        when the stand-in answered (:func:`longkeys.hint_limit`). The server's capability: asked once per
        session, with the first class a check asks about."""
        return self.memo.get(("hint_limit",), lambda: longkeys.hint_limit(self.session.target_db, cls))

    @memoized
    def server_facts(self) -> longkeys.ServerFacts:
        return longkeys.server_facts(self.session.target_db)

    def query_coverage(self, query: Query) -> queries.Coverage:
        return queries.explain_query(self.session.target_db, query)

    # -- DB-06 ----------------------------------------------------------------------------------------------
    def topology(self) -> health.Topology:
        return health.topology(self.session.target_db)

    def storage_used(self) -> int:
        return health.storage_used(self.session.target_db)

    # -- DB-07 ----------------------------------------------------------------------------------------------
    def collections(self, side: str) -> dict[str, inventory.CollectionInfo]:
        """The collections and views of one side, without the probe class and its relation tables."""
        found = inventory.collections(self.source_db() if side == "source" else self.session.target_db)
        return {name: found[name] for name in self.without_probes(found)}

    def schema_agreement(self) -> SchemaAgreement:
        """A class without objects may have no collection: the target only has to mirror the source there."""
        target_db = self.session.target_db
        schema = set(self.without_probes(inventory.schema_classes(target_db)))
        colls = set(self.without_probes(inventory.data_collections(target_db)))
        if self.document_source:
            on_source = {c for c in schema - colls if self.session.source.count(c) > 0}
        else:
            on_source = set(inventory.data_collections(self.source_db()))
        return SchemaAgreement(tuple(sorted(c for c in schema - colls if c in on_source)),
                               tuple(sorted(c for c in colls - schema if inventory.is_parse_class(c))))

    # -- DB-08 ----------------------------------------------------------------------------------------------
    @memoized
    def schema_type_agreement(self) -> SchemaTypes:
        """The target `_SCHEMA`'s field types against the source's, over the classes both declare (a REST or
        export source: its /schemas, _SCHEMA.json or the types its objects imply: :mod:`schema_types`)."""
        origin, source = schema_types.source_types(self)
        return schema_types.compare(origin, source, schema_types.target_types(self.schema_documents()),
                                    self.without_probes)

    @memoized
    def typed_classes(self) -> list[str]:
        """Target classes with a `_SCHEMA` entry and a collection: DB-08 checks their documents' types."""
        on_target = set(self.target_classes())
        return [cls for cls in self.without_probes(self.schema_documents()) if cls in on_target]

    def value_types(self, cls: str) -> StoredTypes:
        """DB-08's server-side type scan of a target class (all documents, or ``--sample N``), at the pace."""
        fields = schema_types.target_types({cls: self.schema_documents()[cls]})[cls]
        count = self.target_count(cls)
        examined = min(count, self.sample_size) if self.sample_size else count
        found = stored_types.stored_types(self.scan_db("target"), cls, fields, self.probe_exclusion(cls), examined,
                                          self.sample_size, self.target.thresholds.diff_cap, self.budget_s)
        self.pace("target").spend(examined)
        return found

    # -- CLI-01 ---------------------------------------------------------------------------------------------
    def sdk_mix(self) -> clients.SdkMix:
        return clients.sdk_mix(self.session.target_db, self.target.thresholds.timeout_s * 3)
