"""The components of a target and the breaker: what is tripped, by which failure, and who then fails at once.

Failures are real: pymongo and requests time out against a loopback listener that never answers.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pymongo
import pytest
from pymongo.errors import ExecutionTimeout, NetworkTimeout, NotPrimaryError

from cutover.errors import TargetTimeout, TargetUnreachable
from cutover.model import Database, Files, ParseServer, Source, Target
from cutover.reach.breaker import (
    FILE_STORE,
    GRIDFS_DB,
    PARSE,
    PUBLIC_URL,
    REST_SOURCE,
    SOURCE_DB,
    SOURCE_PARSE,
    SOURCE_STORE,
    TARGET_DB,
    Breaker,
    Dead,
    components,
)
from cutover.reach.failures import addresses_in, transport_failure
from cutover.rest.client import ParseClient
from cutover.session import Session
from cutover.transport.tls import HostPort
from tests.stubs import BlackHole


@pytest.fixture(scope="module")
def hole() -> Iterator[BlackHole]:
    listener = BlackHole()
    yield listener
    listener.close()


def full_target(port: int = 27017) -> Target:
    parse = ParseServer(server_url="http://api.internal:1337/parse", app_id="a",
                        public_url="https://api.example.org/parse")
    return Target(
        name="t", source=Source(kind="mongodb", uri="mongodb://old.example.org/app"),
        database=Database(uri=f"mongodb://u:pw@Db1.example.org:{port},db2.example.org:27018/app?tls=true"),
        parse=parse, source_parse=ParseServer(server_url="http://old-api.internal/parse", app_id="a"),
        files=Files(adapter="s3", bucket="b", region="eu-west-1", source_bucket="old",
                    source_endpoint_url="http://legacy-s3.internal:9000"),
    )


def test_every_declared_component_once_with_its_addresses() -> None:
    found = {c.name: c for c in components(full_target())}
    assert set(found) == {SOURCE_DB, TARGET_DB, PARSE, PUBLIC_URL, SOURCE_PARSE, FILE_STORE, SOURCE_STORE,
                          "TLS endpoint api.example.org:443", "TLS endpoint db1.example.org:27017",
                          "TLS endpoint db2.example.org:27018", "TLS endpoint s3.eu-west-1.amazonaws.com:443"}
    assert found[TARGET_DB].addresses == (HostPort("db1.example.org", 27017), HostPort("db2.example.org", 27018))
    assert found[TARGET_DB].location == "mongodb://db1.example.org:27017,db2.example.org:27018"  # no password
    assert found[FILE_STORE].location == "https://s3.eu-west-1.amazonaws.com"
    assert found[SOURCE_STORE].addresses == (HostPort("legacy-s3.internal", 9000),)
    assert found[PARSE].kind == "http" and found["TLS endpoint api.example.org:443"].kind == "tls"


def test_a_public_url_equal_to_the_server_url_a_rest_source_and_a_gridfs_database() -> None:
    target = Target(name="t", source=Source(kind="rest", endpoint="https://old.example.org/parse"),
                    database=Database(uri="mongodb://db/app"),
                    parse=ParseServer(server_url="http://api/parse", app_id="a", public_url="http://api/parse/"),
                    files=Files(adapter="gridfs", gridfs_uri="mongodb://files-db:27019/fs"))
    names = {c.name for c in components(target)}
    assert {REST_SOURCE, GRIDFS_DB, PARSE, TARGET_DB} <= names
    assert PUBLIC_URL not in names and SOURCE_DB not in names


def test_require_raises_the_recorded_cause_once_tripped_and_notes_what_was_asked() -> None:
    breaker = Breaker(components(full_target()))
    breaker.require(TARGET_DB, PARSE, "not declared")   # nothing dead yet
    breaker.trip(Dead(TARGET_DB, "target database db1:27017 did not answer in time", True, "the preflight"))
    with pytest.raises(TargetTimeout, match=r"did not answer in time \(found by the preflight; target database "
                                            r"is not asked again in this run\)"):
        breaker.require(PARSE, TARGET_DB)
    breaker.trip(Dead(TARGET_DB, "a later cause", False, "DB-01[x]"))  # the first cause stays
    assert breaker.dead()[TARGET_DB].origin == "the preflight"
    breaker.require(PARSE)


def test_a_trip_is_seen_by_every_process_sharing_the_directory(tmp_path: Path) -> None:
    controller, worker = Breaker(components(full_target())), Breaker(components(full_target()))
    controller.trip(Dead(PARSE, "Parse Server api.internal:1337: unreachable (refused)", False, "the preflight"))
    controller.share(tmp_path)   # what was tripped before sharing is published too
    worker.share(tmp_path)
    with pytest.raises(TargetUnreachable, match="refused"):
        worker.require(PARSE)
    worker.trip(Dead(FILE_STORE, "file store: did not answer in time", True, "FILE-03[s3:b]"))
    assert set(controller.dead()) == {PARSE, FILE_STORE}
    assert controller.facts()["dead"][FILE_STORE] == {"cause": "file store: did not answer in time",
                                                      "found_by": "FILE-03[s3:b]"}


def _pymongo_timeout(port: int) -> Exception:
    client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(
        f"mongodb://127.0.0.1:{port}/", serverSelectionTimeoutMS=300, connectTimeoutMS=300)
    try:
        client.admin.command("ping")
    except pymongo.errors.PyMongoError as exc:
        return exc
    finally:
        client.close()
    raise AssertionError("a black hole answered")


def targets_at(port: int) -> Target:
    return Target(name="t", source=Source(kind="mongodb", uri="mongodb://127.0.0.1:1/src"),
                  database=Database(uri=f"mongodb://127.0.0.1:{port}/app"),
                  parse=ParseServer(server_url=f"http://127.0.0.1:{port}/parse", app_id="a"))


def test_a_pymongo_timeout_trips_the_database_at_its_address_only(hole: BlackHole) -> None:
    breaker = Breaker(components(targets_at(hole.port)))
    exc = _pymongo_timeout(hole.port)
    assert HostPort("127.0.0.1", hole.port) in addresses_in(exc)
    assert breaker.note(exc, origin="DB-06[x]") == [TARGET_DB]   # not the source, not the Parse Server
    with pytest.raises(TargetTimeout, match=f"127.0.0.1:{hole.port}.*found by DB-06"):
        breaker.require(TARGET_DB)


def test_a_rest_timeout_trips_the_parse_server(hole: BlackHole) -> None:
    target = targets_at(hole.port)
    assert target.parse is not None
    client = ParseClient(target.parse, timeout=0.3)
    with pytest.raises(TargetTimeout) as caught:
        client.health()
    client.close()
    breaker = Breaker(components(target))
    assert breaker.note(caught.value, origin="API-01[health]") == [PARSE]


def test_answers_and_known_deaths_trip_nothing() -> None:
    breaker = Breaker(components(targets_at(27017)))
    breaker.trip(Dead(TARGET_DB, "x", True, "the preflight"))
    with pytest.raises(TargetTimeout) as known:
        breaker.require(TARGET_DB)
    assert transport_failure(known.value) is None                          # the breaker's own error
    assert transport_failure(ExecutionTimeout("operation exceeded time limit", 50)) is None  # the server answered
    assert transport_failure(NotPrimaryError("not primary")) is None                         # so did this one
    assert transport_failure(TargetTimeout("FileField.x: 3 of 9 file URLs gave no usable answer")) is None
    assert breaker.note(ValueError("127.0.0.1:27017 is odd"), origin="x") == []


def test_without_an_address_the_one_component_of_that_kind_the_check_asked_for() -> None:
    breaker = Breaker(components(targets_at(27017)))
    try:
        try:
            raise TimeoutError("timed out")
        except TimeoutError as exc:
            raise TargetTimeout("no answer") from exc
    except TargetTimeout as exc:
        failure = exc
    breaker.begin()
    breaker.require(PARSE)
    assert breaker.note(failure, origin="x") == []           # a socket timeout, no TLS endpoint asked for
    breaker.begin()
    breaker.require(SOURCE_DB, TARGET_DB)
    assert breaker.note(NetworkTimeout("timed out"), origin="x") == []      # two candidates: no guess
    breaker.begin()
    breaker.require(TARGET_DB, PARSE)
    assert breaker.note(NetworkTimeout("timed out"), origin="DB-07") == [TARGET_DB]


def test_the_session_accessors_ask_the_breaker_first() -> None:
    session = Session(targets_at(27017))
    assert session.target_db.name == "app"   # lazily opened, no network yet
    session.reach.trip(Dead(TARGET_DB, "target database: did not answer in time", True, "the preflight"))
    for accessor in ("target_db", "target_client"):
        with pytest.raises(TargetTimeout, match="found by the preflight"):
            getattr(session, accessor)
    assert session.parse is not None
    session.close()
