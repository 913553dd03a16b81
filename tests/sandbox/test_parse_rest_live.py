"""The REST library against the real parse-server (npm) on the mongoeco stand-in with files in moto's S3:
fuzzed round trips of every Parse type, the flows of API-02..07, probes that leave nothing behind (also when
only ``Session.close()`` runs), the sweep of stale probes, and the side effects of an app's triggers."""
from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pymongo
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from cutover import probe_marks
from cutover.model import Database, Files, ParseServer, Source, Target
from cutover.rest import flows as rest_flows
from cutover.rest.client import ParseClient
from cutover.rest.compare import differences
from cutover.rest.phase import ProbePhase, drop_classes
from cutover.rest.probes import AT_FIELD, NAME_PREFIX, RUN_FIELD, ProbeRun, new_run_id, unrelate
from cutover.rest.side_effects import schemas, undo
from cutover.rest.sweep import survey, sweep
from cutover.sandbox.cache_dir import default_cache_dir
from cutover.sandbox.mongo_server import mongo_service, mongo_uri
from cutover.sandbox.parse_server import ParseOptions, S3Files, parse_service
from cutover.sandbox.process import Service, free_port, start_all, stop_all
from cutover.sandbox.s3_server import DUMMY_ACCESS_KEY, DUMMY_SECRET_KEY, create_bucket, s3_client, s3_service
from cutover.session import Session
from cutover_testing.parse_types import parse_objects
from cutover_testing.variants import triggers_cloud

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
    uri: str
    logs: Path
    s3_url: str

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
        files = Files(adapter="s3", bucket=BUCKET, endpoint_url=f"http://127.0.0.1:{s3_port}",
                      access_key_id=DUMMY_ACCESS_KEY, secret_access_key=DUMMY_SECRET_KEY)
        yield Live(client, mongo["app"], s3, files, mongo_uri(mongo_port, "app"),
                   logs, f"http://127.0.0.1:{s3_port}")
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
    right, wrong = _files_of(live, live.files), _files_of(live, dataclasses.replace(live.files, bucket="empty-bucket"))
    try:
        flow = rest_flows.file_round_trip(run, right.files.missing_from_store)
        assert flow.ok, flow.failure
        create_bucket(live.s3, "empty-bucket", "us-east-1")
        flow = rest_flows.file_round_trip(run, wrong.files.missing_from_store)
        assert flow.failure.startswith("API-04 store: ") and "is not in bucket 'empty-bucket'" in flow.failure
    finally:
        right.close()
        wrong.close()


def _files_of(live: Live, files: Files) -> Session:
    """A session whose target keeps its files in ``files`` (API-04 asks its files facade where a file landed)."""
    return Session(Target(name="live", source=Source(uri=live.uri), database=Database(uri=live.uri), files=files))


def test_acl_and_user_flows_pass_and_hold_no_password(run: ProbeRun, live: Live) -> None:
    assert rest_flows.acl_hidden(run).ok
    flow = rest_flows.user_round_trip(run)
    assert flow.ok, flow.failure
    assert flow.steps[-1] == "log-out" and live.client.leaks == []


def test_count_pair_matches_the_database(live: Live) -> None:
    pair = rest_flows.count_pair(live.client, live.db, "Seeded")
    assert (pair.found, pair.expected) == (1, 1)   # the REST count, the database count


def aged(live: Live, cls: str, where: dict[str, Any], hours: float = 2) -> None:
    """Make documents look written ``hours`` ago: what a killed run's probes look like later."""
    old = (datetime.now(UTC) - timedelta(hours=hours)).replace(tzinfo=None)
    stamps = {"_created_at": old, **({AT_FIELD: old} if cls == PROBE else {})}
    live.db[cls].update_many(where, {"$set": stamps})


def test_every_probe_carries_the_prefix_and_the_marker(run: ProbeRun, live: Live) -> None:
    oid = run.create({"n": 1}).body["objectId"]
    answer, name, password = run.sign_up()
    assert answer.ok and run.log_in(name, password).ok
    doc = live.db[PROBE].find_one({"_id": oid})
    assert probe_marks.is_run_id(doc[RUN_FIELD]) and isinstance(doc[AT_FIELD], datetime)
    user = live.db["_User"].find_one({"username": name})
    assert name.startswith(NAME_PREFIX) and user["email"] == f"{name}@probe.cutover.invalid"
    sessions = list(live.db["_Session"].find({"_p_user": f"_User${user['_id']}"}))
    assert sessions and all(s["installationId"].startswith(NAME_PREFIX) for s in sessions)
    for cls in ("_User", "_Session"):
        probes = live.db[cls].count_documents(probe_marks.probe_match(cls, PROBE))
        assert probes == (1 if cls == "_User" else len(sessions))
        left = live.db[cls].count_documents(probe_marks.exclusion(cls, PROBE))
        assert left == live.db[cls].count_documents({}) - probes
    pair = rest_flows.count_pair(live.client, live.db, "_User", PROBE)   # API-03 leaves probes out of both
    assert (pair.found, pair.expected) == (1, 1)   # the REST count, the database count


def test_sweep_removes_marked_probes_older_than_the_grace_and_nothing_else(live: Live) -> None:
    before = live.state()
    anchors = {d["_id"] for d in live.db[PROBE].find({})}   # the fuzz anchors of this module (fresh)
    killed, current = ProbeRun(live.client, PROBE, new_run_id()), ProbeRun(live.client, PROBE, new_run_id())
    killed.create({"left": True})
    killed.upload(b"left behind")
    _, name, password = killed.sign_up()
    killed.log_in(name, password)
    current.create({"running": True})
    current.sign_up()
    # look-alikes: the reserved name without the marker (an old-style probe, a user on a real e-mail domain)
    old_style = live.client.create(PROBE, {RUN_FIELD: killed.run_id, "note": "no cutoverAt"}).body["objectId"]
    imposter = live.client.sign_up(probe_marks.username(killed.run_id, "abcdef"), "pw-123456",
                                   "someone@example.org").body["objectId"]
    gone = killed.users[0]
    aged(live, PROBE, {RUN_FIELD: killed.run_id, "_id": {"$ne": old_style}})
    aged(live, "_Session", {"_p_user": f"_User${gone}"})
    aged(live, "_User", {"_id": {"$in": [gone, imposter]}})
    live.db[PROBE].update_one({"_id": old_style}, {"$set": {"_created_at": datetime(2020, 1, 1)}})
    seen = survey(live.client, PROBE, 3600)
    assert live.state() != before and seen.read_only and seen.stale >= 4 and seen.fresh >= 2, seen
    swept = sweep(live.client, PROBE, 3600)
    assert swept.left == () and not swept.error, swept
    assert swept.removed == {"objects": 2, "files": 1, "users": 1, "sessions": 0}, swept
    assert swept.fresh >= 2 and "removed 2 objects, 1 files, 1 users" in swept.line()
    assert {d["_id"] for d in live.db[PROBE].find({})} == {*anchors, current.objects[0], old_style}
    assert live.db["_User"].count_documents({"_id": {"$in": [imposter, *current.users]}}) == 2
    assert live.db["_User"].count_documents({"username": name}) == 0
    assert current.cleanup().clean
    assert live.client.delete(PROBE, old_style).ok and live.client.delete("_User", imposter).ok
    for session in live.db["_Session"].find({"_p_user": f"_User${imposter}"}):
        live.client.delete("_Session", session["_id"])
    live.client.drop_class(PROBE)
    assert live.state() == before


def test_session_close_removes_what_no_teardown_removed(live: Live) -> None:
    """Contract 3: whatever ends the run, Session.close() removes the probes still outstanding."""
    before = live.state()
    target = Target(name="live", source=Source(uri=live.uri), database=Database(uri=live.uri),
                    parse=live.client.server, probe_class=PROBE)
    session = Session(target)
    run = session.probes.open(session.parse, session.target_db)
    anchor = run.create({"n": 2}).body["objectId"]
    related = {"__op": "AddRelation", "objects": [{"__type": "Pointer", "className": PROBE, "objectId": anchor}]}
    assert run.create({"tRelation": related, "n": 1}).ok
    run.upload(b"outstanding")
    _, name, password = run.sign_up()
    run.log_in(name, password)
    assert live.state() != before and session.probes.outstanding() == [run]
    session.close()
    assert live.state() == before and session.probes.outstanding() == []
    session.close()   # twice is harmless


# -- side effects: an app whose triggers write elsewhere ----------------------------------------------------
@pytest.fixture(scope="module")
def triggered(live: Live, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ParseClient]:
    """A second Parse Server on the same database whose Cloud Code has the app triggers of the sandbox."""
    cloud = tmp_path_factory.mktemp("cloud") / "triggers.js"
    cloud.write_text(triggers_cloud(PROBE))
    opts = ParseOptions(port=free_port(), database_uri=live.uri, cloud=cloud, files=S3Files(
        endpoint=live.s3_url, bucket=BUCKET, access_key_id=DUMMY_ACCESS_KEY, secret_access_key=DUMMY_SECRET_KEY))
    service = parse_service(opts, live.logs / "parse-triggers.log", CACHE)
    start_all([service])
    client = ParseClient(ParseServer(server_url=opts.url, app_id=opts.app_id, master_key=opts.master_key,
                                     rest_key=opts.rest_key), timeout=10)
    try:
        yield client
    finally:
        client.close()
        stop_all([service])


def watched(client: ParseClient, live: Live, mode: str = "undo") -> ProbeRun:
    phase = ProbePhase(PROBE, mode)
    phase.baseline = frozenset(schemas(client))
    return phase.open(client, live.db)


def test_triggers_writing_new_classes_are_found_and_undone(live: Live, triggered: ParseClient) -> None:
    before = live.state()
    run = watched(triggered, live)
    flow = rest_flows.trigger_writes(run)
    assert flow.ok and flow.steps == ("sign-up", "log-in", "log-out", "create", "update", "delete"), flow
    assert run.cleanup().clean and run.effects is not None
    assert {(r["class"], r["link"], r["count"], r["action"]) for r in run.effects.rows()} == {
        ("Profile", "class created during the probe phase", 1, "undone"),
        ("SaveCounter", "class created during the probe phase", 1, "undone")}
    assert run.effects.new_classes == ("Profile", "SaveCounter") and not run.effects.left
    assert live.state() == before
    assert not {"Profile", "SaveCounter"} & set(schemas(triggered))


def test_a_shared_phase_empties_classes_and_leaves_the_drop_to_the_runs_end(
        live: Live, triggered: ParseClient) -> None:
    """One of several writing processes never drops a class: Parse's drop races the others' writes."""
    before = live.state()
    phase = ProbePhase(PROBE)
    phase.shared, phase.baseline = True, frozenset(schemas(triggered))
    run = phase.open(triggered, live.db)
    assert rest_flows.trigger_writes(run).ok
    assert run.cleanup().clean and run.effects is not None and run.effects.new_classes == ("Profile", "SaveCounter")
    left = set(schemas(triggered))
    assert {PROBE, "Profile", "SaveCounter"} <= left
    assert live.db[PROBE].count_documents({RUN_FIELD: run.run_id}) == 0   # its probes are gone, the class is not
    assert {c: live.db[c].count_documents({}) for c in ("Profile", "SaveCounter")} == {"Profile": 0, "SaveCounter": 0}
    assert drop_classes(triggered, [PROBE, "Profile", "SaveCounter"]).clean
    assert not {"Profile", "SaveCounter"} & set(schemas(triggered)) and live.state() == before


def test_objects_pointing_at_a_probe_in_an_existing_class_are_found_by_their_link(
        live: Live, triggered: ParseClient) -> None:
    app = triggered.create("Profile", {"note": "the app's own profile"}).body["objectId"]
    member = live.db["_User"].find_one({"username": "seeded-user"})["_id"]
    members = {"__op": "AddRelation", "objects": [{"__type": "Pointer", "className": "_User", "objectId": member}]}
    team = triggered.create("Team", {"name": "app team", "members": members}).body["objectId"]
    before = live.state()
    run = watched(triggered, live)
    user = run.sign_up()[0].body["objectId"]
    pointer = {"__type": "Pointer", "className": "_User", "objectId": user}
    shared = triggered.create("Team", {"name": "trigger team", "ACL": {user: {"read": True}}}).body["objectId"]
    triggered.update("Team", team, {"members": {"__op": "AddRelation", "objects": [pointer]}})
    run.cleanup()
    assert run.effects is not None and not run.effects.left, run.effects
    assert {(r["class"], r["link"], r["count"]) for r in run.effects.rows()} == {
        ("Profile", "pointer user -> probe user", 1), ("Team", "ACL names a probe user", 1),
        ("Team", "relation members holds a probe", 1)}
    assert triggered.get("Team", shared).status == 404 and triggered.get("Team", team).ok
    assert live.db["_Join:members:Team"].count_documents({}) == 1 and triggered.get("Profile", app).ok
    assert live.state() == before
    triggered.update("Team", team, {"members": {**members, "__op": "RemoveRelation"}})
    for cls, oid in (("Profile", app), ("Team", team)):
        assert triggered.delete(cls, oid).ok and triggered.drop_class(cls).ok


def test_report_mode_leaves_side_effects_and_lists_them(live: Live, triggered: ParseClient) -> None:
    before = live.state()
    run = watched(triggered, live, mode="report")
    run.sign_up()
    run.cleanup()
    assert run.effects is not None
    assert run.effects.rows() == [{"class": "Profile", "count": 1, "link": "class created during the probe phase",
                                   "action": "left in place (probe_side_effects = report)"}]
    counts, _ = live.state()
    assert counts["Profile"] == 1 and counts["_SCHEMA"] == before[0]["_SCHEMA"] + 1
    assert undo(triggered, run.effects.found, run.effects.new_classes).clean
    assert live.state() == before
