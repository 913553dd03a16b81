"""The sandbox's MongoDB: the mongoeco wire server (in memory, shimmed) as a :class:`Service`.

No ``mongod`` can be installed on these machines; mongoeco speaks the wire protocol well enough for
pymongo and for Parse Server's Node.js driver once :mod:`cutover.sandbox.mongo_shims` is applied.
"""
from __future__ import annotations

from pathlib import Path

import pymongo

from cutover.sandbox.mongo_shims import PINNED_VERSION
from cutover.sandbox.mongoeco_env import ensure_mongoeco_python
from cutover.sandbox.process import Service

MONGOECO_VERSION = PINNED_VERSION
HOST = "127.0.0.1"
_LAUNCHER = Path(__file__).with_name("mongoeco_main.py")
_REPO_ROOT = Path(__file__).resolve().parents[2]
_PING_TIMEOUT_MS = 300


def mongo_uri(port: int, database: str = "") -> str:
    """The connection string of the sandbox server on ``port`` (optionally naming a database)."""
    return f"mongodb://{HOST}:{port}/{database}?directConnection=true"


def mongo_service(port: int, log_path: Path, cache_dir: Path, sqlite_file: Path | None = None) -> Service:
    """A mongoeco server on 127.0.0.1:``port``; builds the mongoeco venv in ``cache_dir`` if needed. In memory,
    or serving ``sqlite_file`` (a SQLite engine's file: the bench's million-document classes)."""
    python = ensure_mongoeco_python(cache_dir)
    engine = ["--sqlite", str(sqlite_file)] if sqlite_file else []
    return Service(
        name=f"mongoeco {MONGOECO_VERSION} on port {port}",
        argv=[str(python), str(_LAUNCHER), "--host", HOST, "--port", str(port), *engine],
        log_path=log_path,
        ready=lambda: ping(port),
        # no PYTHONPATH: installed, the directory holding `cutover` is the suite's site-packages, whose
        # compiled modules (rpds, ...) would shadow the mongoeco venv's own; the launcher imports `cutover` itself
        env={"PYTHONPATH": "", "PYTHONUNBUFFERED": "1"},
        cwd=_REPO_ROOT,
    )


def ping(port: int) -> bool:
    """True when the server on ``port`` answers a ``ping`` command."""
    client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(
        mongo_uri(port), serverSelectionTimeoutMS=_PING_TIMEOUT_MS,
        connectTimeoutMS=_PING_TIMEOUT_MS, socketTimeoutMS=2000,
    )
    try:
        return bool(client.admin.command("ping").get("ok"))
    except pymongo.errors.PyMongoError:
        return False
    finally:
        client.close()
