"""What the data checks run over (classes, counts, partitions), memoized once per session.

``session`` is duck-typed (see :class:`cutover.session.Session`): ``target``, ``source``, ``source_db``,
``target_db``, ``options`` and ``cache``. Keys in ``session.cache`` start with ``data.``.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from cutover import probe_marks
from cutover.data import digest, inventory, live_counts, longkeys
from cutover.data.content import ContentDiff, Partition, compare_partition, compare_sample, partitions, server_hash
from cutover.data.inventory import call, within
from cutover.data.live_content import live_partition
from cutover.data.live_content import policy as live_policy
from cutover.data.recheck import Fetch, MongoFetch, Policy
from cutover.errors import CouldNotVerify

T = TypeVar("T")


def memo(session: Any, key: str, compute: Callable[[], T]) -> T:
    if key not in session.cache:
        session.cache[key] = compute()
    return session.cache[key]


def data_classes(session: Any) -> list[str]:
    """Source classes, target collections and target `_SCHEMA` classes, together (DB-01's test list).

    A REST or export source cannot count Parse's internal collections (`_SCHEMA`, `_Idempotency`, GridFS,
    relation tables): for such a source those target collections are left out. The suite's probe class and
    its relation tables are never data of the app (:mod:`cutover.probe_marks`).
    """
    def compute() -> list[str]:
        source = session.source
        target_side = set(inventory.data_collections(session.target_db))
        target_side |= set(inventory.schema_classes(session.target_db))
        if source.kind != "mongodb":
            target_side = {name for name in target_side if inventory.is_parse_class(name)}
        return without_probes(session, set(source.class_names()) | target_side)
    return memo(session, "data.classes", compute)


def without_probes(session: Any, names: Iterable[str]) -> list[str]:
    """``names`` sorted, without the probe class and its relation tables."""
    probe_class = session.target.probe_class
    return sorted(n for n in set(names) if not probe_marks.is_probe_collection(n, probe_class))


def probe_exclusion(session: Any, cls: str) -> dict[str, Any]:
    """The filter that leaves the suite's probes (users, sessions, the probe class's `_SCHEMA` entry) out."""
    return probe_marks.exclusion(cls, session.target.probe_class)


@dataclass(frozen=True)
class CountPair:
    cls: str
    source: int
    target: int

    @property
    def difference(self) -> int:
        return self.target - self.source


def count_pair(session: Any, cls: str) -> CountPair:
    def compute() -> CountPair:
        return CountPair(cls, session.source.count(cls), target_count(session, cls))
    return memo(session, f"data.count.{cls}", compute)


def mongo_source(session: Any) -> Any:
    """The source database, or CouldNotVerify for sources that cannot serve documents or indexes."""
    if session.source_db is None:
        raise CouldNotVerify(f"this needs a MongoDB source; source.kind = {session.target.source.kind} only "
                             f"gives classes and counts")
    return session.source_db


def collection_classes(session: Any) -> list[str]:
    """Collections (not views) on the source or the target: DB-02 and DB-03 run over these."""
    def compute() -> list[str]:
        names = set(inventory.data_collections(mongo_source(session)))
        return without_probes(session, names | set(inventory.data_collections(session.target_db)))
    return memo(session, "data.collection_classes", compute)


def shared_classes(session: Any) -> list[str]:
    """Collections on both sides: DB-03 compares their indexes (a missing collection is DB-07's)."""
    def compute() -> list[str]:
        names = set(inventory.data_collections(mongo_source(session)))
        return without_probes(session, names & set(inventory.data_collections(session.target_db)))
    return memo(session, "data.shared_classes", compute)


def sample_size(session: Any) -> int:
    """``--sample N`` (session.options["sample"]): compare N random documents per class instead of all."""
    return int(session.options.get("sample") or 0)


def content_units(session: Any) -> list[tuple[str, Any]]:
    """(id, unit) pairs for DB-02: partitions of about ``partition_docs`` each, or one sample per class."""
    size = sample_size(session)
    if size:
        return [(f"{cls}:sample", cls) for cls in collection_classes(session)]
    per = session.target.thresholds.partition_docs
    units: list[tuple[str, Any]] = []
    for cls in collection_classes(session):
        pair = count_pair(session, cls)
        mongo_source(session)
        side = session.scan_db("source" if pair.source >= pair.target else "target")
        parts = partitions(side, cls, max(pair.source, pair.target), per, probe_exclusion(session, cls))
        units += [(part.label, part) for part in parts]
    return units


def hashes_equal(session: Any, cls: str) -> bool:
    """True only when both servers give a ``dbHash`` for ``cls`` and the two are equal (dbHash blocks writes:
    only with ``allow_blocking_commands = true``; otherwise the clients refuse to send it)."""
    def compute() -> bool:
        theirs = server_hash(mongo_source(session), cls)
        return theirs is not None and theirs == server_hash(session.target_db, cls)
    return memo(session, f"data.hash_equal.{cls}", compute)


def digest_support(session: Any) -> digest.Support:
    """Whether both servers compute sound partition digests (each runs the known-answer test once)."""
    def compute() -> digest.Support:
        for side in ("source", "target"):
            found = digest.support(session.scan_db(side), session.aggregation_budget_s)
            if not found.available:
                return digest.Support(False, f"{side}: {found.reason}")
        return digest.Support(True)
    return memo(session, "data.digest_support", compute)


def content_diff(session: Any, unit: Any) -> ContentDiff:
    """DB-02's verdict on one unit: dbHash (opt-in only), then server digests, then the documents."""
    cap, budget = session.target.thresholds.diff_cap, session.aggregation_budget_s
    mongo_source(session)
    src, dst = session.scan_db("source"), session.scan_db("target")
    if not is_partition(unit):
        return compare_sample(src, dst, unit, sample_size(session), cap, budget)
    # never under a live sync: the copy is not quiesced, and dbHash would stall the app's writes
    live = session.target.database.live_sync
    if session.target.allow_blocking_commands and not live and hashes_equal(session, unit.cls):
        return ContentDiff(unit.label, -1, -1, method="server dbHash equal (allow_blocking_commands = true)")
    support = digest_support(session)
    said = f"unavailable: {support.reason}"
    if support.available:
        ours, theirs = partition_digests(session, unit)
        if ours.matches(theirs):
            return ContentDiff(unit.label, ours.docs, theirs.docs, method="server digest equal", digest="equal")
        said = f"differ (source {ours.describe()}, target {theirs.describe()})"
    paces = (session.pace("source"), session.pace("target"))
    if live:
        return live_partition(src, dst, recheck_fetchers(session), unit, session.target.database, cap, paces, said)
    return compare_partition(src, dst, unit, cap, paces, digest=said)


def recheck_fetchers(session: Any) -> tuple[Fetch, Fetch]:
    """How DB-02's rechecks look documents up by `_id` on the source and on the target (a seam: another kind of
    source plugs in its own ``fetch(cls, ids)``)."""
    return MongoFetch(mongo_source(session)), MongoFetch(session.target_db)


def partition_digests(session: Any, part: Partition) -> tuple[digest.Digest, digest.Digest]:
    """Both sides' digests of ``part``, computed at the same time; each server's pace pays for its scan."""
    def one(side: str) -> digest.Digest:
        found = digest.partition_digest(session.scan_db(side), part.cls, part.filter(), session.aggregation_budget_s)
        session.pace(side).spend(found.docs)
        return found
    with ThreadPoolExecutor(max_workers=2) as pool:
        ours, theirs = pool.map(one, ("source", "target"))
    return ours, theirs


def long_key_scan(session: Any, cls: str, specs: list[Any]) -> longkeys.LongKeys:
    """DB-04's server-side scan of the target class (read preference, budget), paid for at the pace."""
    found = longkeys.long_keys(session.scan_db("target"), cls, specs, session.target.thresholds.diff_cap,
                               session.aggregation_budget_s)
    session.pace("target").spend(target_count(session, cls))
    return found


def index_counts(session: Any, cls: str, specs: list[Any]) -> list[longkeys.IndexCoverage]:
    """DB-04's plain and hinted counts per index on the target, each paid for at the pace."""
    counts = longkeys.index_completeness(session.scan_db("target"), cls, specs, session.aggregation_budget_s)
    session.pace("target").spend(sum(c.expected + c.indexed for c in counts))
    return counts


def target_count(session: Any, cls: str) -> int:
    return memo(session, f"data.target_count.{cls}",
                lambda: inventory.exact_count(session.target_db, cls, session.aggregation_budget_s,
                                                probe_exclusion(session, cls)))


def collection_infos(session: Any, db: Any) -> dict[str, inventory.CollectionInfo]:
    """The collections and views of ``db`` (DB-07), without the probe class and its relation tables."""
    found = inventory.collections(db)
    return {name: found[name] for name in without_probes(session, found)}


def is_partition(unit: Any) -> bool:
    return isinstance(unit, Partition)


def created_stamped(session: Any, cls: str) -> bool:
    """Whether ``cls`` on the source carries `_created_at` (Parse's classes do; `_SCHEMA`, `_Join:*`, GridFS and
    `_Idempotency` do not): only those get DB-01's cutoff count under a live sync."""
    if not inventory.is_parse_class(cls) or session.source_db is None:
        return False
    db = session.source_db
    return call(f"looking for {live_counts.CREATED} in {cls}", lambda: within(
        db, session.aggregation_budget_s,
        lambda: db[cls].find_one({live_counts.CREATED: {"$exists": True}}, {"_id": 1}) is not None))


def cutoff_bracket(session: Any, cls: str) -> live_counts.Bracket | None:
    """DB-01's cutoff count of ``cls`` under a live sync (None: the class has no `_created_at`). The brackets of
    every stamped class are read together, once per process: one settle delay per round for all."""
    def compute() -> dict[str, live_counts.Bracket]:
        spec = session.target.database
        settle = recheck_policy(session).delay(1, 0.0) if spec.sync_lag_s else spec.max_in_flight_s
        stamped = [name for name in data_classes(session) if created_stamped(session, name)]
        return live_counts.brackets(stamped, _before(session, session.source_db),
                                    _before(session, session.target_db), settle)
    return memo(session, "data.cutoff_brackets", compute).get(cls)


def _before(session: Any, db: Any) -> live_counts.Counter:
    def count(cls: str, cutoff: Any) -> int:
        where = {live_counts.CREATED: {"$lt": cutoff}, **probe_exclusion(session, cls)}
        return inventory.exact_count(db, cls, session.aggregation_budget_s, where)
    return count


def recheck_policy(session: Any) -> Policy:
    return live_policy(session.target.database)


def sync_watch(session: Any) -> list[Any]:
    """DB-06 under a live sync: whether the sync delivers, per class that Parse stamps (:mod:`sync_watch`)."""
    from cutover.data import sync_watch as watching

    spec = session.target.database
    src, dst = mongo_source(session), session.target_db
    classes = {cls: probe_exclusion(session, cls) for cls in data_classes(session) if created_stamped(session, cls)}
    return watching.watch_all(src, dst, classes, sync_lag_s=spec.sync_lag_s, max_in_flight_s=spec.max_in_flight_s,
                              budget_s=spec.recheck_budget_s, query_budget_s=session.aggregation_budget_s)
