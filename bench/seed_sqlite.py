"""Writes a mongoeco SQLite database file holding one class of N documents, without the wire (bench only).

    <mongoeco venv>/bin/python bench/seed_sqlite.py FILE DOCS

Run by the mongoeco venv's Python (>= 3.13), not by the suite. mongoeco's engine stores a document as one row
of its ``documents`` table; inserting through the engine (or the wire) runs its write path per document,
~1,700 documents/s on these machines, so 1M documents would take ~10 minutes a side. Here the engine creates
the file and the collection with the first document, then the rest go straight into that table in one
transaction, each row made by the engine's own encoders (``_storage_key``, ``_serialize_document``), so the
rows are what the engine would have written. The bench then serves the file with mongoeco's wire server.
"""
from __future__ import annotations

import sqlite3
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from mongoeco import MongoClient
from mongoeco.engines.sqlite import SQLiteEngine

DB, CLASS = "app", "GameScore"
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


def document(i: int) -> dict[str, Any]:
    """A Parse-shaped object with a 10-character id, as Parse stores it (the same as bench_scale's)."""
    at = EPOCH + timedelta(seconds=i)
    return {"_id": f"o{i:09d}", "score": i % 9973, "playerName": f"player {i % 5000}", "cheatMode": i % 7 == 0,
            "_created_at": at, "_updated_at": at}


def rows(engine: SQLiteEngine, start: int, stop: int) -> Iterator[tuple[str, str, str, str]]:
    for i in range(start, stop):
        doc = document(i)
        yield DB, CLASS, engine._storage_key(doc["_id"]), engine._serialize_document(doc)


def main() -> int:
    path, total = sys.argv[1], int(sys.argv[2])
    began = time.perf_counter()
    engine = SQLiteEngine(path=path)
    client = MongoClient(engine=engine)
    client[DB][CLASS].insert_one(document(0))       # the engine makes the file, its catalog and the collection
    client.close()
    conn = sqlite3.connect(path)
    try:
        with conn:
            conn.executemany("INSERT INTO documents (db_name, coll_name, storage_key, document) "
                             "VALUES (?, ?, ?, ?)", rows(SQLiteEngine(path=path), 1, total))
        (found,) = conn.execute("SELECT count(*) FROM documents WHERE db_name = ? AND coll_name = ?",
                                (DB, CLASS)).fetchone()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")    # all in the file itself: the bench copies the file
    finally:
        conn.close()
    print(f"seeded {found} documents into {path} in {time.perf_counter() - began:.1f} s", flush=True)
    return 0 if found == total else 1


if __name__ == "__main__":
    sys.exit(main())
