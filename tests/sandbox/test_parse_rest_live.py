"""The REST library against the real parse-server (npm) on the mongoeco stand-in with files in moto's S3:
fuzzed round trips of every Parse type, the flows of API-02..07, and probes that leave nothing behind."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pymongo
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from cutover import rest_flows
from cutover.model import Files, ParseServer
from cutover.parse_compare import differences
from cutover.parse_rest import ParseClient
from cutover.parse_types import parse_objects
from cutover.probes import NAME_PREFIX, RUN_FIELD, ProbeRun, new_run_id, sweep, unrelate
from cutover.sandbox.cache_dir import default_cache_dir
from cutover.sandbox.mongo_server import mongo_service, mongo_uri
from cutover.sandbox.parse_server import ParseOptions, S3Files, parse_service
from cutover.sandbox.process import Service, free_port, start_all, stop_all
from cutover.sandbox.s3_server import DUMMY_ACCESS_KEY, DUMMY_SECRET_KEY, create_bucket, s3_client, s3_service

pytestmark = pytest.mark.sandbox
REPO = Path(__file__).resolve().parents[2]
CACHE = default_cache_dir()  # $CUTOVER_CACHE_DIR, else the per-user cache
BUCKET = "rest-files"
PROBE = "CutoverProbe"


@dataclass(frozen=True)
class Live:
    client: ParseClient
    db: Any
    s3: Any
    files: Files

    def state(self) -> tuple[dict[str, int], list[str]]:
        """Collections with their counts, and the bucket's keys."""
        counts = {n: self.db[n].count_documents({}) for n in sorted(self.db.list_collection_names())}
        keys = [o["Key"] for o in self.s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
        return counts, sorted(keys)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    logs = tmp_path_factory.mktemp("rest-logs")
    mongo_port, s3_port = free_port(), free_port()
    services: list[Service] = [mongo_service(mongo_port, logs / "mongoeco.log", CACHE),
                               s3_service(s3_port, logs / "moto.log")]
    start_all(services)
    mongo: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(mongo_uri(mongo_port),
                                                                    serverSelectionTimeoutMS=3000)
    try:
        s3 = s3_client(f"http://127.0.0.1:{s3_port}")
        create_bucket(s3, BUCKET, "us-east-1")
        opts = ParseOptions(port=free_port(), database_uri=mongo_uri(mongo_port, "app"), files=S3Files(
            endpoint=f"http://127.0.0.1:{s3_port}", bucket=BUCKET, access_key_id=DUMMY_ACCESS_KEY,
            secret_access_key=DUMMY_SECRET_KEY))
        parse = parse_service(opts, logs / "parse.log", CACHE)
        start_all([parse])
        services.append(parse)
        server = ParseServer(server_url=opts.url, app_id=opts.app_id, master_key=opts.master_key,
                             rest_key=opts.rest_key)
        client = ParseClient(server, timeout=10)
        client.create("Seeded", {"n": 1})  # a class of the app, so the database is not empty
        client.sign_up("seeded-user", "seeded-password")  # an app with sessions: API-07 adds no collection
        yield Live(client, mongo["app"], s3, Files(adapter="s3", bucket=BUCKET))
        client.close()
    finally:
        mongo.close()
        stop_all(services)


@pytest.fixture
def run(live: Live) -> Iterator[ProbeRun]:
    before = live.state()
    probes = ProbeRun(live.client, PROBE, new_run_id())
    yield probes
    assert probes.cleanup().clean
    assert live.state() == before, "the probes left something behind"


@pytest.fixture(scope="module")
def anchors(live: Live) -> Iterator[tuple[list[str], str]]:
    """Pointer targets and a file for the fuzzed objects, removed after the module's fuzzing."""
    with ProbeRun(live.client, PROBE, new_run_id()) as probes:
        ids = [probes.create({"anchor": i}).body["objectId"] for i in range(2)]
        name = probes.upload(b"fuzz anchor").body["name"]
        yield ids, name


# no shrinking: each example is a few HTTP round trips, and the first failing example names the field already
@settings(max_examples=15, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_fuzzed_objects_of_every_type_come_back_as_sent(live: Live, anchors: tuple[list[str], str],
                                                       data: st.DataObject) -> None:
    ids, name = anchors
    sent = data.draw(parse_objects(PROBE, ids, [name]))
    created = live.client.create(PROBE, {**sent, RUN_FIELD: "fuzz"})
    assert created.status == 201, created.describe()
    oid = created.body["objectId"]
    try:
        got = live.client.get(PROBE, oid)
        assert differences({**sent, RUN_FIELD: "fuzz"}, got.body) == []
    finally:
        assert unrelate(live.client, PROBE, [oid]).clean and live.client.delete(PROBE, oid).ok


def test_crud_round_trip_passes_every_step(run: ProbeRun) -> None:
    flow = rest_flows.crud_round_trip(run)
    assert flow.ok, flow.failure
    assert flow.steps == ("upload", "create", "get", "query", "relation", "update", "increment", "addunique",
                          "delete")


def test_wiring_finds_the_probe_in_the_database_and_not_in_another(run: ProbeRun, live: Live) -> None:
    assert rest_flows.wiring(run, live.db).ok
    other = live.db.client["elsewhere"]
    flow = rest_flows.wiring(run, other, source_db=live.db)
    assert not flow.ok
    assert "is in the SOURCE database 'app', not in the target database 'elsewhere'" in flow.failure


def test_file_round_trip_and_a_store_that_lacks_the_file(run: ProbeRun, live: Live) -> None:
    flow = rest_flows.file_round_trip(run, lambda n: rest_flows.store_problem(live.files, live.s3, None, n))
    assert flow.ok, flow.failure
    create_bucket(live.s3, "empty-bucket", "us-east-1")
    wrong = Files(adapter="s3", bucket="empty-bucket")
    flow = rest_flows.file_round_trip(run, lambda n: rest_flows.store_problem(wrong, live.s3, None, n))
    assert flow.failure.startswith("API-04 store: ") and "is not in bucket 'empty-bucket'" in flow.failure


def test_acl_and_user_flows_pass_and_hold_no_password(run: ProbeRun, live: Live) -> None:
    assert rest_flows.acl_hidden(run).ok
    flow = rest_flows.user_round_trip(run)
    assert flow.ok, flow.failure
    assert flow.steps[-1] == "log-out" and live.client.leaks == []


def test_count_pair_matches_the_database(live: Live) -> None:
    pair = rest_flows.count_pair(live.client, live.db, "Seeded")
    assert (pair.rest, pair.database) == (1, 1)


def test_sweep_removes_only_probes_older_than_an_hour(live: Live) -> None:
    before = live.state()
    killed, current = ProbeRun(live.client, PROBE, "killed"), ProbeRun(live.client, PROBE, "current")
    killed.create({"left": True})
    killed.upload(b"left behind")
    killed.sign_up()
    current.create({"running": True})
    old = datetime.now(UTC) - timedelta(hours=2)
    live.db[PROBE].update_many({RUN_FIELD: "killed"}, {"$set": {"_created_at": old.replace(tzinfo=None)}})
    live.db["_User"].update_many({"username": {"$regex": "^cutover"}},
                                 {"$set": {"_created_at": old.replace(tzinfo=None)}})
    swept = sweep(live.client, PROBE)
    assert swept.clean and swept.removed >= 5
    runs = {d[RUN_FIELD] for d in live.db[PROBE].find({}, {RUN_FIELD: 1})}
    assert "current" in runs and "killed" not in runs
    assert live.db["_User"].count_documents({"username": {"$regex": f"^{NAME_PREFIX}"}}) == 0
    assert live.db["_User"].count_documents({}) == 1
    assert current.cleanup().clean
    assert live.state() == before
