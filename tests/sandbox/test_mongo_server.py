"""The sandbox MongoDB (mongoeco wire server): venv, start and stop, and what the checks rely on over the wire."""
from __future__ import annotations

import datetime
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pymongo
import pytest
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from cutover.errors import SandboxError
from cutover.sandbox import mongoeco_env
from cutover.sandbox.cache_dir import default_cache_dir
from cutover.sandbox.mongo_server import MONGOECO_VERSION, mongo_service, ping
from cutover.sandbox.process import free_port, port_open

pytestmark = pytest.mark.sandbox
REPO = Path(__file__).resolve().parents[2]
CACHE = default_cache_dir()  # $CUTOVER_CACHE_DIR, else the per-user cache


@pytest.fixture(scope="module")
def db(mongoeco: pymongo.MongoClient[Any]) -> Database[dict[str, Any]]:
    return mongoeco["roundtrip"]


def test_venv_is_reused_in_well_under_a_tenth_of_a_second() -> None:
    first = mongoeco_env.ensure_mongoeco_python(CACHE)
    started = time.perf_counter()
    again = mongoeco_env.ensure_mongoeco_python(CACHE)
    assert again == first and time.perf_counter() - started < 0.1


def test_venv_holds_the_pinned_mongoeco() -> None:
    python = mongoeco_env.ensure_mongoeco_python(CACHE)
    code = "import sys, mongoeco; print(mongoeco.__version__, sys.version_info >= (3, 13))"
    out = subprocess.run([str(python), "-c", code], capture_output=True, text=True, timeout=60, check=True).stdout
    assert out.split() == [MONGOECO_VERSION, "True"]


def test_no_python313_is_a_sandbox_error_saying_how_to_get_one(monkeypatch: pytest.MonkeyPatch,
                                                               tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(mongoeco_env, "this_python", lambda: None)  # as if cutover ran on Python < 3.13
    with pytest.raises(SandboxError) as caught:
        mongoeco_env.find_python313()
    message = str(caught.value)
    assert "\n" not in message
    for how in ("run cutover itself on Python 3.13+", "apt-get install python3.13-venv", "pyenv install 3.13",
                "brew install python@3.13", "actions/setup-python"):
        assert how in message


_SAME_ENV = """
import sys
from pathlib import Path
from cutover.sandbox.mongo_server import mongo_service, ping
service = mongo_service(int(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[1]))
service.start()
try:
    service.wait_ready()
    print(service.argv[0], ping(int(sys.argv[2])))
finally:
    service.stop()
"""


def _python_with_mongoeco() -> Path:
    """This interpreter when it has the extra's mongoeco (3.13+), else the per-user cache's 3.13 venv, which pip
    made the same way (``pip install mongoeco[wire]``) and the sandbox builds once per machine anyway."""
    return mongoeco_env.ensure_mongoeco_python(CACHE)


@pytest.mark.slow
def test_on_python_313_with_mongoeco_installed_it_runs_in_the_same_environment(tmp_path: Path) -> None:
    python, cache = _python_with_mongoeco(), tmp_path / "cache"
    argv = [str(python), "-c", _SAME_ENV, str(cache), str(free_port()), str(tmp_path / "mongoeco.log")]
    done = subprocess.run(argv, env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(python), "True"]
    assert not cache.exists() and "cutover: install" not in done.stderr  # no second venv, nothing installed


def test_start_answers_then_stop_leaves_nothing_listening(tmp_path: Path) -> None:
    port = free_port()
    service = mongo_service(port, tmp_path / "mongoeco.log", CACHE)
    started = time.perf_counter()
    service.start()
    try:
        service.wait_ready()
        ready_after = time.perf_counter() - started
        assert ping(port)
    finally:
        service.stop()
    assert not port_open("127.0.0.1", port) and service.proc is None
    assert "ready on 127.0.0.1" in (tmp_path / "mongoeco.log").read_text()
    assert ready_after < 15, f"mongoeco took {ready_after:.1f} s to answer"


def test_build_info_reports_a_mongodb_version(db: Database[dict[str, Any]]) -> None:
    assert str(db.command("buildInfo")["version"]).startswith("7.")


def test_insert_many_5000_and_count(db: Database[dict[str, Any]]) -> None:
    started = time.perf_counter()
    db.bulk.insert_many([{"_id": i, "n": i % 10} for i in range(5000)])
    assert time.perf_counter() - started < 10
    assert (db.bulk.count_documents({}), db.bulk.count_documents({"n": 3})) == (5000, 500)


def test_indexes_with_options_round_trip(db: Database[dict[str, Any]]) -> None:
    coll = db.indexed
    coll.create_index("email", unique=True, sparse=True)
    coll.create_index("status", partialFilterExpression={"status": {"$exists": True}}, name="partial_status")
    coll.create_index("name", collation={"locale": "en", "strength": 2}, name="ci_name")
    coll.create_index("expireAt", expireAfterSeconds=3600)
    info = coll.index_information()
    assert (info["email_1"]["unique"], info["email_1"]["sparse"]) == (True, True)
    assert info["partial_status"]["partialFilterExpression"] == {"status": {"$exists": True}}
    assert (info["ci_name"]["collation"]["locale"], info["ci_name"]["collation"]["strength"]) == ("en", 2)
    assert info["expireAt_1"]["expireAfterSeconds"] == 3600


def test_unique_index_refuses_a_duplicate(db: Database[dict[str, Any]]) -> None:
    db.uniq.create_index("k", unique=True)
    db.uniq.insert_one({"k": 1})
    with pytest.raises(DuplicateKeyError):
        db.uniq.insert_one({"k": 1})


def test_ttl_index_expires_old_documents(db: Database[dict[str, Any]]) -> None:
    db.ttl.create_index("at", expireAfterSeconds=60)
    past = datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1)
    db.ttl.insert_many([{"at": past}, {"at": datetime.datetime.now(datetime.UTC)}])
    assert db.ttl.count_documents({}) == 1


def test_hinted_count_uses_the_named_index(db: Database[dict[str, Any]]) -> None:
    db.hinted.create_index("h", name="by_h")
    db.hinted.insert_many([{"h": i} for i in range(20)])
    assert db.hinted.count_documents({"h": {"$gte": 10}}, hint="by_h") == 10
    with pytest.raises(pymongo.errors.OperationFailure):
        db.hinted.count_documents({}, hint="no_such_index")


def test_str_len_bytes_and_bson_size_aggregation(db: Database[dict[str, Any]]) -> None:
    db.sizes.insert_many([{"_id": "a", "s": "é" * 600}, {"_id": "b", "s": "x"}])
    pipeline: list[dict[str, Any]] = [{"$project": {"bytes": {"$strLenBytes": "$s"}, "size": {"$bsonSize": "$$ROOT"}}},
                {"$sort": {"_id": 1}}]
    rows = list(db.sizes.aggregate(pipeline))
    assert [(r["_id"], r["bytes"]) for r in rows] == [("a", 1200), ("b", 1)]
    assert rows[0]["size"] > 1200 > rows[1]["size"] > 0
