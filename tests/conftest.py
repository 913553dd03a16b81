"""The suite's own tests: generic wiring and the servers several test modules share, one of each per module.

``moto`` is the URL of a fresh moto_server over real HTTP and ``s3`` a boto3 client for it; ``mongoeco`` is a
client of a fresh mongoeco wire server; ``wire`` is the MongoDB named by CUTOVER_TEST_MONGODB_URI when it is
set, else a fresh mongoeco server. Scenario fixtures live in tests/scenarios/conftest.py.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pymongo
import pytest

from cutover.sandbox.cache_dir import default_cache_dir
from cutover.sandbox.mongo_server import mongo_service, mongo_uri
from cutover.sandbox.process import free_port, port_open
from cutover.sandbox.s3_server import s3_client, s3_service

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parents[1]
CACHE = default_cache_dir()  # $CUTOVER_CACHE_DIR, else the per-user cache
REAL_MONGO_ENV = "CUTOVER_TEST_MONGODB_URI"


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a moto_server started for this module; its port is closed once it stops."""
    port = free_port()
    service = s3_service(port, tmp_path_factory.mktemp("s3") / "moto.log")
    service.start()
    try:
        service.wait_ready()
        yield f"http://127.0.0.1:{port}"
    finally:
        service.stop()
    assert not port_open("127.0.0.1", port)


@pytest.fixture(scope="module")
def s3(moto: str) -> Any:
    return s3_client(moto)


@contextmanager
def _mongoeco_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[pymongo.MongoClient[Any]]:
    port = free_port()
    service = mongo_service(port, tmp_path_factory.mktemp("mongo") / "mongoeco.log", CACHE)
    service.start()
    try:
        service.wait_ready()
        client: pymongo.MongoClient[Any] = pymongo.MongoClient(
            mongo_uri(port), serverSelectionTimeoutMS=5000, socketTimeoutMS=120_000)
        yield client
        client.close()
    finally:
        service.stop()


@pytest.fixture(scope="module")
def mongoeco(tmp_path_factory: pytest.TempPathFactory) -> Iterator[pymongo.MongoClient[Any]]:
    """A client of a mongoeco wire server started for this module (never a real MongoDB)."""
    with _mongoeco_client(tmp_path_factory) as client:
        yield client


@pytest.fixture(scope="module")
def wire(tmp_path_factory: pytest.TempPathFactory) -> Iterator[pymongo.MongoClient[Any]]:
    """A MongoDB over the wire: CUTOVER_TEST_MONGODB_URI if set, else the sandbox's mongoeco server."""
    if uri := os.environ.get(REAL_MONGO_ENV):
        real: pymongo.MongoClient[Any] = pymongo.MongoClient(uri, serverSelectionTimeoutMS=5000,
                                                              socketTimeoutMS=120_000)
        yield real
        real.close()
        return
    with _mongoeco_client(tmp_path_factory) as client:
        yield client
