"""Data (DB-01..DB-07, CLI-01): the migrated MongoDB against its source, read politely.

    facade.py        DataFacts (``session.data``): what the DB-* and CLI-01 checks ask
    sources.py       the source of truth: a MongoDB, a Parse REST endpoint or a JSON export
    inventory.py     collections, views, `_SCHEMA` classes, exact counts; pymongo errors as typed errors
    content.py       DB-02: `_id` partitions, the type-aware document diff
    digest.py        DB-02's lock-free partition digest and its known-answer test
    indexes.py       DB-03: normalized index specs, Parse Server's own indexes, `_SCHEMA` metadata
    longkeys.py      DB-04: long index keys and index completeness, computed on the server
    queries.py       DB-05: declared queries served by an index (explain, or inferred)
    health.py        DB-06: topology and the health figures of one server document
    telemetry.py     DB-06: the health window, sampled once per run in a background thread
    health_series.py DB-06: the window as series (max, p95, last, mean) a release manager can judge
    clients.py       CLI-01: installations per SDK and version, counted by the server
    commands.py      the allowlist of MongoDB commands and the client that keeps to it; the command log
    mongo_client.py  opening a MongoDB client the careful way (timeouts, allowlist, command log)
    pace.py          a documents-per-second cap for the heavy reads

CLI-01 lives here because its fact is a server-side count over the target database's `_Installation`.
"""
