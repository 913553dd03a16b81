"""The mongoeco shims: each one observed over the wire on a real mongoeco server, plus the version guard.

Every wire test here fails on an unshimmed mongoeco 4.11.0 (cursor ids come back int32, ``limit: 0``
returns nothing, ``en_US`` is rejected, Parse's second index on ``username`` is refused, 5,000 inserts
take minutes).
"""
from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pymongo
import pytest
from bson.int64 import Int64
from pymongo.database import Database
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure

from cutover.sandbox.cache_dir import default_cache_dir
from cutover.sandbox.mongoeco_env import ensure_mongoeco_python

pytestmark = pytest.mark.sandbox
REPO = Path(__file__).resolve().parents[2]
CACHE = default_cache_dir()  # $CUTOVER_CACHE_DIR, else the per-user cache
CASE_INSENSITIVE = {"locale": "en_US", "strength": 2}


@pytest.fixture(scope="module")
def db(mongoeco: pymongo.MongoClient[Any]) -> Database[dict[str, Any]]:
    return mongoeco["shims"]


def run_in_mongoeco_python(code: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` with the mongoeco venv's Python, the repository importable."""
    python = ensure_mongoeco_python(CACHE)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([str(python), "-c", code], capture_output=True, text=True, env=env, timeout=60,
                          check=False)


def test_cursor_ids_are_int64_on_find_and_get_more(db: Database[dict[str, Any]]) -> None:
    db.cursors.insert_many([{"i": i} for i in range(5)])
    first = db.command("find", "cursors", batchSize=2)["cursor"]
    more = db.command("getMore", first["id"], collection="cursors", batchSize=2)["cursor"]
    assert (type(first["id"]), type(more["id"])) == (Int64, Int64)
    assert first["id"] != 0 and more["id"] == first["id"]


def test_int64_cursor_ids_sent_back_are_accepted(db: Database[dict[str, Any]]) -> None:
    db.back.insert_many([{"i": i} for i in range(5)])
    assert len(list(db.back.find(batch_size=2))) == 5  # the driver's getMores carry the int64 id
    cursor_id = db.command("find", "back", batchSize=1)["cursor"]["id"]
    killed = db.command("killCursors", "back", cursors=[cursor_id])
    assert killed["cursorsKilled"] == [cursor_id]


def test_limit_zero_means_no_limit_on_find_and_count(db: Database[dict[str, Any]]) -> None:
    db.limits.insert_many([{"i": i} for i in range(7)])
    found = db.command("find", "limits", limit=0)["cursor"]["firstBatch"]
    assert (len(found), db.command("count", "limits", limit=0)["n"]) == (7, 7)
    assert len(db.command("find", "limits", limit=3)["cursor"]["firstBatch"]) == 3


def test_en_us_collation_index_is_case_insensitive_and_listed_as_en_us(db: Database[dict[str, Any]]) -> None:
    db.people.create_index("name", collation=CASE_INSENSITIVE, unique=True, name="ci_name")
    db.people.insert_one({"name": "Alice"})
    with pytest.raises(DuplicateKeyError):
        db.people.insert_one({"name": "ALICE"})
    assert db.people.index_information()["ci_name"]["collation"]["locale"] == "en_US"
    assert db.people.count_documents({"name": "alice"}, collation=CASE_INSENSITIVE) == 1


def test_same_key_with_other_collation_is_a_second_index(db: Database[dict[str, Any]]) -> None:
    db.users.create_index("username", unique=True, sparse=True)
    db.users.create_index("username", collation=CASE_INSENSITIVE, sparse=True, name="case_insensitive_username")
    names = sorted(db.users.index_information())
    assert names == ["_id_", "case_insensitive_username", "username_1"]
    with pytest.raises(OperationFailure, match="Conflicting index definition"):
        db.users.create_index("username", sparse=False, name="other_username")  # same collation: conflict


def test_bulk_insert_is_linear_and_fast(db: Database[dict[str, Any]]) -> None:
    started = time.perf_counter()
    db.bulk.insert_many([{"i": i, "pad": "x" * 50} for i in range(5000)])
    elapsed = time.perf_counter() - started
    assert db.bulk.count_documents({}) == 5000
    assert elapsed < 10, f"5,000 inserts took {elapsed:.1f} s (unshimmed mongoeco needs minutes)"


def test_bulk_insert_keeps_ordered_write_error_semantics(db: Database[dict[str, Any]]) -> None:
    db.dups.create_index("k", unique=True)
    with pytest.raises(BulkWriteError) as ordered:
        db.dups.insert_many([{"k": 1}, {"k": 2}, {"k": 1}, {"k": 3}])
    assert ordered.value.details["nInserted"] == 2
    assert [(e["index"], e["code"]) for e in ordered.value.details["writeErrors"]] == [(2, 11000)]
    assert sorted(d["k"] for d in db.dups.find()) == [1, 2]


def test_bulk_insert_unordered_goes_on_after_an_error(db: Database[dict[str, Any]]) -> None:
    db.dups2.create_index("k", unique=True)
    db.dups2.insert_one({"k": 2})
    with pytest.raises(BulkWriteError) as unordered:
        db.dups2.insert_many([{"k": 1}, {"k": 2}, {"k": 3}], ordered=False)
    assert unordered.value.details["nInserted"] == 2
    assert [e["index"] for e in unordered.value.details["writeErrors"]] == [1]
    assert sorted(d["k"] for d in db.dups2.find()) == [1, 2, 3]


def test_shims_refuse_another_mongoeco_version() -> None:
    done = run_in_mongoeco_python(
        "import mongoeco; mongoeco.__version__ = '4.12.0'\n"
        "from cutover.sandbox import mongo_shims; mongo_shims.apply_all()"
    )
    assert done.returncode != 0
    assert "SandboxError: mongoeco 4.12.0 is installed" in done.stderr and "4.11.0" in done.stderr


def test_shims_apply_once_and_name_themselves() -> None:
    done = run_in_mongoeco_python(
        "from cutover.sandbox import mongo_shims\n"
        "print(mongo_shims.apply_all() == mongo_shims.apply_all(), len(mongo_shims.apply_all()))"
    )
    assert done.stdout.split() == ["True", "5"], done.stderr


def test_source_rewriting_shim_refuses_when_its_line_is_gone() -> None:
    done = run_in_mongoeco_python(
        "from cutover.sandbox import mongo_shims\n"
        "mongo_shims._SAME_KEY_CHECK = 'no such line'\n"
        "mongo_shims.shim_same_key_other_collation()"
    )
    assert "re-check shim_same_key_other_collation" in done.stderr
