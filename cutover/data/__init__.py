"""Data (the DB-* criteria and CLI-01): the migrated MongoDB against its source, read politely.

    facade.py        DataFacade (``session.data``): what the DB-* and CLI-01 checks ask
    sources.py       the source of truth: a MongoDB, a Parse REST endpoint or a JSON export
    source_plan.py   DB-02/03/07 from a REST or export source: units, readers, the diff of one unit
    rest_reader.py   SourceReader: a REST source's objects by objectId range (never skip), schemas, relations
    export_reader.py the same interface over a JSON export (streamed, externally sorted runs)
    json_stream.py   a streaming reader of export files that names file and byte when damaged
    rest_storage.py  the one mapping from Parse REST JSON to Parse's MongoDB storage form, and equivalence
    user_fields.py   `_User`'s bcryptPassword, sessionToken, authData <-> their storage fields, both ways
    internal_classes.py Parse Server's internal classes (one list, with provenance): never missing or extra
    export_files.py  an export's files, from its directory or its zip read in place
    export_layout.py which export file is what: classes (in parts), relations whatever stands for ':', schema
    export_objects.py an export's objects and relation rows checked: errors name file, object and field
    source_compare.py one target partition against the source objects of the same range; relation rows
    source_schema.py DB-03/DB-07 against what /schemas (or _SCHEMA.json) declares
    recheck.py       DB-02 under a live sync: rechecks of differing documents by `_id`, in rounds
    live_content.py  one partition's read and rechecks under a live sync; the sync facts
    live_counts.py   DB-01 under a live sync: the count before a cutoff, bracketed against deletes
    sync_watch.py    DB-06 under a live sync: whether the sync delivers
    inventory.py     collections, views, `_SCHEMA` classes, exact counts; pymongo errors as typed errors
    content.py       DB-02: `_id` partitions, the type-aware document diff
    digest.py        DB-02's lock-free partition digest and its known-answer test
    indexes.py       DB-03: normalized index specs, Parse Server's own indexes, `_SCHEMA` metadata
    normal_form.py   DB-03/DB-07: the comparable form of index specs and collations across server releases, and
                     the table of what is normalised and why (rendered into docs/CHECKS.md)
    longkeys.py      DB-04: long index keys and index completeness, computed on the server
    queries.py       DB-05: declared queries served by an index (the server's plan; inferred on the stand-in only)
    explain.py       explain replies of every shape (classic, SBE, express, sharded, aggregate) read into stages
    replies.py       who answered (version, the stand-in), and UnknownReply: a reply shape cutover does not know
    field_types.py   DB-08: Parse field types in storage and REST form; which stored values each accepts
    schema_types.py  DB-08: the target `_SCHEMA`'s field types against the source's (declared or implied)
    stored_types.py  DB-08: values of another type than `_SCHEMA` says, counted on the server
    health.py        DB-06: topology and the health figures of one server document
    health_window.py DB-06: the health window, sampled once per run in a background thread
    health_series.py DB-06: the window as series (max, p95, last, mean) a release manager can judge
    clients.py       CLI-01: installations per SDK and version, counted by the server
    commands.py      the allowlist of MongoDB commands and the client that keeps to it; the command log
    mongo_client.py  opening a MongoDB client the careful way (timeouts, allowlist, command log)
    pace.py          a documents-per-second cap for the heavy reads
    plan.py          DB-01's counts and DB-02's units, computed once per run and handed to its processes

CLI-01 lives here because its fact is a server-side count over the target database's `_Installation`.
"""
from cutover.data import health_series
from cutover.data.clients import SdkMix, minimum_label, sdk_table
from cutover.data.commands import (
    CommandLog,
    GuardedClient,
    GuardedDatabase,
    blocking_policy,
    merge_facts,
    scan_policy,
)
from cutover.data.content import ContentDiff, Partition
from cutover.data.facade import DataFacade, DeclaredIndexes, IndexPresence, SchemaAgreement, Unit
from cutover.data.health import Topology
from cutover.data.health_series import Series
from cutover.data.health_window import Sampler, Window, claim, read_window
from cutover.data.internal_classes import INTERNAL_CLASSES
from cutover.data.inventory import (
    CollectionInfo,
    CountPair,
    call,
    class_permissions,
    is_parse_class,
    schema_classes,
)
from cutover.data.longkeys import INDEX_KEY_LIMIT, IndexCoverage, LongKeys, ServerFacts
from cutover.data.mongo_client import open_mongo
from cutover.data.normal_form import COMPARED as INDEX_COMPARED
from cutover.data.normal_form import NORMALISED as INDEX_NORMALISED
from cutover.data.plan import DataPlan
from cutover.data.queries import Coverage
from cutover.data.rest_reader import ClassSchema, RestReader, SourceReader
from cutover.data.source_schema import COLLECTION_OPTIONS_UNSEEN, INDEX_OPTIONS_UNSEEN
from cutover.data.sources import DataSource, open_source

__all__ = [
    "COLLECTION_OPTIONS_UNSEEN",
    "INDEX_COMPARED",
    "INDEX_KEY_LIMIT",
    "INDEX_NORMALISED",
    "INDEX_OPTIONS_UNSEEN",
    "INTERNAL_CLASSES",
    "ClassSchema",
    "CollectionInfo",
    "CommandLog",
    "ContentDiff",
    "CountPair",
    "Coverage",
    "DataFacade",
    "DataPlan",
    "DataSource",
    "DeclaredIndexes",
    "GuardedClient",
    "GuardedDatabase",
    "IndexCoverage",
    "IndexPresence",
    "LongKeys",
    "Partition",
    "RestReader",
    "Sampler",
    "SchemaAgreement",
    "SdkMix",
    "Series",
    "ServerFacts",
    "SourceReader",
    "Topology",
    "Unit",
    "Window",
    "blocking_policy",
    "call",
    "claim",
    "class_permissions",
    "health_series",
    "is_parse_class",
    "merge_facts",
    "minimum_label",
    "open_mongo",
    "open_source",
    "read_window",
    "scan_policy",
    "schema_classes",
    "sdk_table",
]
