"""Probes never break the gate (issues 19 and 24), proved end to end with ``pytest --target`` subprocesses.

Runs killed with SIGKILL at several points of the REST checks (one while the JS SDK's driver runs: it dies
with the run within seconds) leave probes behind; the next full run sweeps
them (short grace), leaves a concurrent run's fresh probes and look-alikes without the marker alone, passes
the gate, and the census of every collection of the target database is what it was before the first run.
An app whose triggers write elsewhere (a Profile per new user, a counter per probe save) passes two full runs
in a row with the census unchanged and the side effects listed in record.json; in report mode they are
left (exactly what the record lists) and API-05 fails; a trigger that rejects probe objects is a clear
API-02 failure. Every scenario runs on its own fork with its own Parse Server.
"""
from __future__ import annotations

import dataclasses
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cutover import probe_marks
from cutover.model import Target
from cutover.rest.client import ParseClient, results
from cutover.rest.probes import RUN_FIELD, ProbeRun, new_run_id
from cutover.rest.sdk_client import DRIVER
from cutover.rest.sdk_flows import CLIENT_FIELD, CLIENT_VALUE
from cutover.sandbox.stack import Sandbox
from cutover_testing import variants
from tests.proctable import command, descendants, wait_gone

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]
RunResult = Any   # tests/scenarios/conftest.py's RunResult (conftest modules are not importable by name)
REST_ONLY = ("test_rest.py",)
# The killed runs' probes must be older than this at the next run's sweep and the planted ones younger: the
# run's start (a subprocess, its imports, the session) must take less (`pytest --help` alone: 3 s at load 2.5).
GRACE_S = 15.0
KILL_DEADLINE_S = 180


def census(db: Any) -> dict[str, int]:
    """Documents per collection of the target database."""
    return {name: db[name].count_documents({}) for name in sorted(db.list_collection_names())}


@pytest.fixture
def client_of() -> Iterator[Callable[[Target], ParseClient]]:
    opened: list[ParseClient] = []

    def open_client(target: Target) -> ParseClient:
        assert target.parse is not None
        opened.append(ParseClient(target.parse, timeout=10))
        return opened[-1]

    yield open_client
    for client in opened:
        client.close()


# -- issue 19: killed runs, the sweep, concurrent runs, look-alikes -----------------------------------------
KILL_POINTS: dict[str, Callable[[Any], bool]] = {
    "first probe object (API-02 create)": lambda db: db["CutoverProbe"].count_documents({}) > 0,
    "relation row (API-02 relation)": lambda db: db["_Join:tRelation:CutoverProbe"].count_documents({}) > 0,
    "probe user with a session": lambda db: db["_Session"].count_documents(probe_marks.SESSION_MATCH) > 0,
    "JS SDK probe object (API-02[js-sdk] create)":
        lambda db: db["CutoverProbe"].count_documents({CLIENT_FIELD: CLIENT_VALUE}) > 0,
}


def kill_when(proc: subprocess.Popen[str], db: Any, condition: Callable[[Any], bool]) -> tuple[bool, set[int]]:
    """SIGKILL ``proc`` as soon as ``condition(db)`` holds; False if the run ended first. Also the JS SDK
    drivers (and their guards) the run had then, each of which must be gone within seconds of the kill."""
    deadline = time.monotonic() + KILL_DEADLINE_S
    while proc.poll() is None and time.monotonic() < deadline:
        if condition(db):
            drivers = {pid for pid in descendants(proc.pid) if str(DRIVER) in command(pid)}
            proc.kill()
            proc.wait(10)
            gone = wait_gone(drivers, within=10)
            assert set(gone) == drivers, f"JS SDK drivers left running after SIGKILL: {drivers - set(gone)}"
            return True, drivers
        time.sleep(0.01)
    proc.kill()
    proc.wait(10)
    return False, set()


def test_killed_runs_are_swept_by_the_next_run_which_passes(
        sandbox: Sandbox, start_checks: Callable[..., subprocess.Popen[str]],
        run_checks: Callable[..., RunResult], client_of: Callable[[Target], ParseClient]) -> None:
    target = dataclasses.replace(variants.forked_server(sandbox, "killed"), probe_grace_s=GRACE_S)
    db = sandbox.db(target.database.uri)
    before = census(db)
    drivers: set[int] = set()
    for point, condition in KILL_POINTS.items():
        proc = start_checks(target, only=REST_ONLY)
        killed, running = kill_when(proc, db, condition)
        assert killed, f"the run ended before '{point}': {proc.stdout.read()[-2000:]}"
        assert proc.returncode == -9
        drivers |= running
    assert drivers, "no kill caught a JS SDK driver running: its death with the run is unproven"
    last_kill = time.monotonic()
    left = census(db)
    assert left != before, "the killed runs left nothing behind: the sweep would prove nothing"
    client = client_of(target)
    time.sleep(max(0.0, GRACE_S + 1 - (time.monotonic() - last_kill)))
    concurrent, look_alike = plant_fresh_probes_and_a_look_alike(client, db, target.probe_class)
    result = run_checks(target)
    assert result.exit_code == 0, (result.failing(), result.output[-3000:])
    swept = result.record["probes"]["sweep"]
    assert sum(swept["removed"].values()) > 0 and swept["left"] == [] and swept["fresh"] >= 3, swept
    assert f"cutover probe sweep (grace {GRACE_S:g} s): removed " in result.output
    assert db[target.probe_class].count_documents({"_id": {"$in": [*concurrent.objects, look_alike]}}) == 2
    assert db["_User"].count_documents({"_id": {"$in": concurrent.users}}) == 1
    assert concurrent.cleanup().clean
    assert client.delete(target.probe_class, look_alike).ok and client.drop_class(target.probe_class).ok
    assert census(db) == before


def plant_fresh_probes_and_a_look_alike(client: ParseClient, db: Any, probe_class: str) -> tuple[ProbeRun, str]:
    """A concurrent run's probes (fresh, marked) and an old object in the probe class without the marker."""
    concurrent = ProbeRun(client, probe_class, new_run_id())
    assert concurrent.create({"concurrent": True}).ok
    signed, name, password = concurrent.sign_up()
    assert signed.ok and concurrent.log_in(name, password).ok
    look_alike = client.create(probe_class, {RUN_FIELD: concurrent.run_id, "note": "no cutoverAt: not a probe"})
    old = (datetime.now(UTC) - timedelta(days=2)).replace(tzinfo=None)
    db[probe_class].update_one({"_id": look_alike.body["objectId"]}, {"$set": {"_created_at": old}})
    return concurrent, str(look_alike.body["objectId"])


def test_read_only_says_stale_probes_exist_and_the_next_run_sweeps_them_but_not_a_look_alike_user(
        sandbox: Sandbox, run_checks: Callable[..., RunResult], client_of: Callable[[Target], ParseClient]) -> None:
    """Stale probes and a user with the reserved username but an ordinary e-mail (no marker), both old: a
    --read-only run writes nothing and says that stale probes exist; the next run (grace 0) sweeps them and
    keeps the look-alike."""
    target = dataclasses.replace(variants.forked_server(sandbox, "look-alike"), probe_grace_s=0.0)
    db, client = sandbox.db(target.database.uri), client_of(target)
    before = census(db)
    stale = ProbeRun(client, target.probe_class, new_run_id())
    assert stale.create({"left": "by a killed run"}).ok and stale.sign_up()[0].ok
    user = client.sign_up(probe_marks.username(new_run_id(), "abcdef"), "pw-12345678", "ana@example.org")
    assert user.ok, user.describe()
    uid = str(user.body["objectId"])
    db["_User"].update_one({"_id": uid}, {"$set": {"_created_at": datetime(2020, 1, 1)}})
    planted = census(db)
    surveyed = run_checks(target, "--read-only", only=REST_ONLY)
    assert surveyed.exit_code == 0, surveyed.failing()
    assert surveyed.record["probes"]["sweep"]["read_only"] and surveyed.record["probes"]["sweep"]["stale"] >= 3
    assert "stale probes exist, left in place (--read-only writes nothing)" in surveyed.output
    assert census(db) == planted
    result = run_checks(target, only=REST_ONLY)
    assert result.exit_code == 0, result.failing()
    assert result.record["probes"]["sweep"]["removed"] == {"objects": 1, "files": 0, "users": 1, "sessions": 0}
    assert db["_User"].count_documents({"_id": uid}) == 1
    assert db["_User"].count_documents({"_id": {"$in": stale.users}}) == 0
    for session in results(client.query("_Session", {"user": {"__type": "Pointer", "className": "_User",
                                                               "objectId": uid}})):
        client.delete("_Session", session["objectId"])
    assert client.delete("_User", uid).ok
    assert census(db) == before


# -- issue 24: an app whose triggers write elsewhere --------------------------------------------------------
@pytest.fixture(scope="module")
def triggered(sandbox: Sandbox) -> Target:
    return variants.app_triggers(sandbox)


def side_effect_rows(result: RunResult) -> set[tuple[str, str, str]]:
    return {(r["class"], r["link"], r["action"]) for r in result.record["probes"]["side_effects"]}


def test_two_full_runs_with_triggers_pass_and_leave_the_census_unchanged(
        sandbox: Sandbox, triggered: Target, run_checks: Callable[..., RunResult]) -> None:
    db = sandbox.db(triggered.database.uri)
    before = census(db)
    for _ in range(2):
        result = run_checks(triggered)
        assert result.exit_code == 0, (result.failing(), result.output[-3000:])
        assert census(db) == before
        assert {("Profile", "class created during the probe phase", "undone"),
                ("SaveCounter", "class created during the probe phase", "undone")} <= side_effect_rows(result)
        own = next(t for t in result.record["tests"] if t["id"].endswith("test_probes_leave_no_side_effects"))
        assert own["outcome"] == "passed" and {r["class"] for r in own["facts"]["probe_side_effects"]} == {
            "Profile", "SaveCounter"}
        assert "cutover probe side effects" in result.output and "Profile" in result.output


def test_report_mode_leaves_exactly_what_the_record_lists_and_fails_api_05(
        sandbox: Sandbox, triggered: Target, run_checks: Callable[..., RunResult],
        client_of: Callable[[Target], ParseClient]) -> None:
    db = sandbox.db(triggered.database.uri)
    before = census(db)
    result = run_checks(dataclasses.replace(triggered, probe_side_effects="report"), only=REST_ONLY)
    assert result.exit_code == 1
    assert set(result.failing()) == {"API-05"}, result.failing()
    assert "left in place" in result.messages["API-05"] and "Profile" in result.messages["API-05"]
    after = census(db)
    listed = Counter[str]()
    for row in result.record["probes"]["side_effects"]:
        listed[row["class"]] += row["count"]
    assert listed == {"Profile": 3, "SaveCounter": 1}, listed     # API-05's and API-07's (REST, JS SDK) users
    assert {k: after.get(k, 0) - before.get(k, 0) for k in after if after.get(k) != before.get(k)} == {
        **listed, "_SCHEMA": 2}
    client = client_of(triggered)
    for cls in ("Profile", "SaveCounter"):
        for row in results(client.query(cls, keys="objectId", limit=1000)):
            assert client.delete(cls, row["objectId"]).ok
        assert client.drop_class(cls).ok
    assert census(db) == before


def test_a_trigger_rejecting_probe_objects_is_a_clear_api_02_failure(
        sandbox: Sandbox, run_checks: Callable[..., RunResult]) -> None:
    target = variants.app_triggers(sandbox, required_field="owner", label="required-owner")
    db = sandbox.db(target.database.uri)
    before = census(db)
    result = run_checks(target, only=REST_ONLY)
    assert result.outcomes["API-02"] == "failed"
    message = result.messages["API-02"]
    assert message.startswith("API-02 create: POST /classes/CutoverProbe answered 400 {\"code\":142,"), message
    assert "needs a" in message and "owner" in message, message
    # the checks that write probe objects fail alike; nothing errors, nothing else fails
    assert set(result.failing()) == {"API-02", "API-03", "API-06[acl_protected_probe_invisible]",
                                     "API-02[js-sdk]"}, result.failing()
    assert result.messages["API-02[js-sdk]"].startswith("API-02 JS SDK create: Parse.Object#save failed with "
                                                        "ParseError 142"), result.messages["API-02[js-sdk]"]
    assert census(db) == before


def test_a_probe_phase_under_xdist_undoes_side_effects_too(
        sandbox: Sandbox, triggered: Target, run_checks: Callable[..., RunResult]) -> None:
    db = sandbox.db(triggered.database.uri)
    before = census(db)
    result = run_checks(triggered, "-n", "2", only=REST_ONLY)
    assert result.exit_code == 0, (result.failing(), result.output[-3000:])
    assert census(db) == before
