"""REST: health, CRUD of every Parse type, wiring, files, Cloud Code, access control, users and the
differential against the source server (API-01..API-08).

Writing checks carry ``@pytest.mark.writes`` (skipped with ``--read-only``); every probe they create is
marked as the suite's own (``cutover.probe_marks``) and removed in teardown, also when the check fails (and
by ``Session.close()`` when the teardown never ran); the run's start swept what killed runs left behind.
Probes run the app's triggers: what those write elsewhere is found when the probes are removed, listed as
facts (``probe_side_effects``) and undone unless the target says ``probe_side_effects = "report"``.

API-02, API-04 and API-07 also run through the official Parse JavaScript SDK against the public URL (labels
``API-02[js-sdk]`` ...), with the same probes. Without Node.js they are skipped (not run) saying so, and the
REST round-trip decides the criterion (a criterion with a passing check and skipped ones passes).
"""
from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from cutover.errors import CouldNotVerify, UnexpectedAnswer
from cutover.model import CloudFunction, Query, Target
from cutover.notation import shell
from cutover.rest import NO_SERVER, Effects, Flow, ParseClient, ProbeRun, RestFacade, SdkClient
from cutover.session import Session
from cutover_pytest.params import NOT_APPLICABLE, parametrize


def _absent(what: str) -> Callable[[Session], str]:
    return lambda s: NO_SERVER if s.target.parse is None else NOT_APPLICABLE + what


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    parametrize(metafunc, "rest_class", lambda s: [(n, n) for n in s.rest.classes()], _absent("no class in _SCHEMA"))
    parametrize(metafunc, "closed_class", lambda s: [(c, c) for c in s.rest.closed_classes()],
                _absent("no class whose CLP closes public reads"))
    parametrize(metafunc, "function", lambda s: [(f.name, f) for f in s.target.cloud_functions],
                _absent("no Cloud Code function declared ([[targets.NAME.cloud_functions]])"))
    parametrize(metafunc, "query", lambda s: [(q.label, q) for q in s.rest.differential_queries()],
                _absent("no query declared ([[targets.NAME.queries]])"))


@pytest.fixture
def rest(parse: ParseClient | None, session: Session) -> RestFacade:
    """The REST area of the target (``session.rest``); the check skips (not run) when it declares no server."""
    if parse is None:
        pytest.skip(NO_SERVER)
    return session.rest


@pytest.fixture
def probes(rest: RestFacade, record_facts: Callable[..., None]) -> Iterator[ProbeRun]:
    """Probes of this check, removed in teardown with the side effects of the app's triggers (facts)."""
    run = rest.open_probes()
    yield run
    cleanup = run.cleanup()
    if run.effects is not None and (run.effects.found or run.effects.new_classes or run.effects.error):
        record_facts(probe_side_effects=run.effects.rows(), side_effects_error=run.effects.error,
                     side_effects_left=list(run.effects.left))
    if not cleanup.clean:
        left = "; ".join(cleanup.left[:5])
        raise UnexpectedAnswer(f"probe cleanup left {len(cleanup.left)} probes: {left}")


@pytest.fixture(params=["js-sdk"])
def js_sdk(rest: RestFacade, record_facts: Callable[..., None]) -> Iterator[SdkClient]:
    """The official Parse JavaScript SDK, run by Node.js as an app of the target; skipped (not run) without
    Node.js. Its driver is stopped in teardown (and by ``Session.close()``)."""
    missing = rest.sdk_unavailable()
    if missing:
        pytest.skip(missing)
    client = rest.js_sdk()
    record_facts(client=client.label, url=client.url)
    yield client
    client.close()


def _require(flow: Flow, record_facts: Callable[..., None]) -> None:
    __tracebackhide__ = True
    record_facts(steps=list(flow.steps), failure=flow.failure)
    assert flow.ok, flow.failure


@pytest.mark.criterion("API-01")
def test_health(rest: RestFacade, record_facts: Callable[..., None]) -> None:
    """`/health` answers 200 {"status": "ok"} (503 or "starting" fail, with the body shown)."""
    answer = rest.health()
    record_facts(status=answer.status, body=answer.text)
    assert answer.status == 200 and answer.body == {"status": "ok"}, (
        f"API-01 health: GET {answer.path} answered {answer.describe()}, expected 200 {{\"status\":\"ok\"}}")


@pytest.mark.criterion("API-01")
def test_mount_path_and_app_id(rest: RestFacade, record_facts: Callable[..., None]) -> None:
    """The server URL's mount path serves Parse, the app id is accepted, and so is the master key."""
    who = rest.identity()
    record_facts(path_found=who.path_found, app_id=who.app_id_accepted, master_key=who.master_key_accepted)
    assert who.path_found, (f"API-01 mount path: {who.answer.method} {who.answer.path} answered "
                            f"{who.answer.describe()}: no Parse Server at this path (check /parse vs /1)")
    assert who.app_id_accepted, (f"API-01 app id: the path serves Parse but refuses the app id (or every "
                                 f"key): {who.answer.describe()}")
    assert who.master_key_accepted or not rest.master_key_declared(), (
        f"API-01 master key: the app id is accepted with the client key but the master key is refused: "
        f"{who.answer.describe()}")


@pytest.mark.writes
@pytest.mark.criterion("API-02")
def test_crud_round_trip(probes: ProbeRun, rest: RestFacade, record_facts: Callable[..., None]) -> None:
    """create, get, query (where), update, Increment, AddUnique, delete on a probe object holding every Parse
    type; what comes back equals what was sent (server-set fields aside)."""
    _require(rest.crud_round_trip(probes), record_facts)


@pytest.mark.writes
@pytest.mark.criterion("API-03")
def test_rest_writes_reach_target_database(probes: ProbeRun, rest: RestFacade,
                                           record_facts: Callable[..., None]) -> None:
    """An object created through REST is in the target database (read directly, not through the server)."""
    _require(rest.wiring(probes), record_facts)


@pytest.mark.criterion("API-03")
def test_rest_count_equals_database_count(rest: RestFacade, rest_class: str,
                                          record_facts: Callable[..., None]) -> None:
    """The REST count of this class (master key) equals the number of documents in the target database."""
    pair = rest.counts(rest_class)
    record_facts(rest=pair.found, database=pair.expected)
    assert pair.found == pair.expected, (f"API-03 count {rest_class}: REST counts {pair.found}, the target "
                                         f"database holds {pair.expected}: the server reads another database")


@pytest.mark.writes
@pytest.mark.criterion("API-04")
def test_file_round_trip(probes: ProbeRun, rest: RestFacade, record_facts: Callable[..., None]) -> None:
    """Upload through /files (master key), the URL resolves, the bytes are identical, the file is in the
    configured store."""
    _require(rest.file_round_trip(probes), record_facts)


@pytest.mark.criterion("API-05")
def test_cloud_function(rest: RestFacade, function: CloudFunction,
                        record_facts: Callable[..., None]) -> None:
    """The declared Cloud Code function answers its sample call with the declared status and result."""
    answer = rest.call_function(function)
    result = answer.body.get("result") if isinstance(answer.body, dict) else None
    record_facts(status=answer.status, body=answer.text)
    good = answer.status == function.expect_status and (
        function.expect_result is None or result == function.expect_result)
    assert good, (f"API-05 {function.name}: answered {answer.describe()}, expected {function.expect_status}"
                  + ("" if function.expect_result is None else f" with result {shell(function.expect_result)}"))


@pytest.mark.writes
@pytest.mark.criterion("API-05")
def test_probes_leave_no_side_effects(probes: ProbeRun, rest: RestFacade, record_facts: Callable[..., None]) -> None:
    """What the app's triggers (Cloud Code) write when probes are written (a sign-up, log-in and log-out, a
    probe object created, updated and deleted) is found: objects created meanwhile in other classes that point
    at a probe, relate to it or name it in their ACL, and classes created meanwhile. By default they are
    undone; with `probe_side_effects = "report"` they are left in place and this check fails naming them."""
    flow = rest.trigger_writes(probes)
    probes.cleanup()
    effects = probes.effects or Effects(mode=rest.target.probe_side_effects)
    record_facts(steps=list(flow.steps), refused=flow.failure, probe_side_effects=effects.rows(),
                 side_effects_left=list(effects.left), mode=effects.mode)
    if not flow.steps:
        raise CouldNotVerify(f"API-05 side effects: the server refused every probe write: {flow.failure}")
    if effects.error:
        raise CouldNotVerify(f"API-05 side effects could not be looked for: {effects.error}")
    assert not effects.problem(), f"API-05 side effects: {effects.problem()}"


@pytest.mark.criterion("API-06")
def test_clp_closed_class_refuses_reads(rest: RestFacade, closed_class: str,
                                        record_facts: Callable[..., None]) -> None:
    """A class whose CLP closes reads to the public refuses a find and a count without the master key."""
    found, counted = rest.clp_reads(closed_class)
    record_facts(find=found.describe(), count=counted.describe())
    assert not found.ok and not counted.ok, (
        f"API-06 clp {closed_class}: without the master key find answered {found.describe()} and count "
        f"{counted.describe()}; the class's CLP closes reads to the public")


@pytest.mark.writes
@pytest.mark.criterion("API-06")
def test_acl_protected_probe_invisible(probes: ProbeRun, rest: RestFacade,
                                       record_facts: Callable[..., None]) -> None:
    """A probe object whose ACL grants nobody is invisible without the master key (get and query)."""
    _require(rest.acl_hidden(probes), record_facts)


@pytest.mark.criterion("API-06")
def test_schemas_refused_without_master_key(rest: RestFacade) -> None:
    """`/schemas` is refused without the master key."""
    answer = rest.schemas_without_master_key()
    assert not answer.ok, f"API-06 schemas: GET /schemas without the master key answered {answer.describe()}"


@pytest.mark.criterion("API-06")
def test_no_password_in_any_answer(rest: RestFacade) -> None:
    """No answer carries `password` or `_hashed_password` (user queries with and without the master key)."""
    leaks = rest.password_leaks()
    assert not leaks, f"API-06 passwords: answers held password fields: {'; '.join(leaks[:5])}"


@pytest.mark.writes
@pytest.mark.criterion("API-07")
def test_user_round_trip(probes: ProbeRun, rest: RestFacade, record_facts: Callable[..., None]) -> None:
    """sign-up, log-in, users/me, log-out on a probe user (removed afterwards with its sessions)."""
    flow = rest.user_round_trip(probes)
    leaks = rest.user_leaks()
    _require(flow if leaks == [] else Flow(flow.steps, f"API-07 answers held password fields: "
                                                       f"{'; '.join(leaks[:5])}"), record_facts)


@pytest.mark.writes
@pytest.mark.criterion("API-02")
def test_sdk_crud_round_trip(js_sdk: SdkClient, probes: ProbeRun, rest: RestFacade,
                             record_facts: Callable[..., None]) -> None:
    """The CRUD round-trip of every Parse type again, each step a call of the Parse JavaScript SDK (master key)
    against the public URL: Parse.File#save, Parse.Object#save, Parse.Query#get and find, the relation's query,
    increment, addUnique, destroy."""
    _require(rest.sdk_crud_round_trip(probes, js_sdk), record_facts)


@pytest.mark.writes
@pytest.mark.criterion("API-04")
def test_sdk_file_round_trip(js_sdk: SdkClient, probes: ProbeRun, rest: RestFacade,
                             record_facts: Callable[..., None]) -> None:
    """A Parse.File saved by the Parse JavaScript SDK from base64 (as a browser app uploads), read back with
    getData from the URL the server gave: the same bytes, and the file is in the configured store."""
    _require(rest.sdk_file_round_trip(probes, js_sdk), record_facts)


@pytest.mark.writes
@pytest.mark.criterion("API-07")
def test_sdk_user_round_trip(js_sdk: SdkClient, probes: ProbeRun, rest: RestFacade,
                             record_facts: Callable[..., None]) -> None:
    """A probe user through the Parse JavaScript SDK with the JavaScript key: signUp (a revocable session
    stored with the SDK's installation id), logIn, current, become (users/me), logOut, the old token refused."""
    missing = rest.sdk_unavailable(as_client=True)
    if missing:
        pytest.skip(missing)
    _require(rest.sdk_user_round_trip(probes, js_sdk), record_facts)


@pytest.mark.criterion("API-08")
def test_source_and_target_answer_alike(rest: RestFacade, target: Target, query: Query,
                                        record_facts: Callable[..., None]) -> None:
    """The declared query gives the same results (objectIds, order, content) from source and target (under a
    live sync: of the objects not updated during the last settle delay, docs/live-sync.md)."""
    if target.database.live_sync:
        live = rest.live_differential(query)
        record_facts(live_sync={"compared": f"objects updated before {live.cutoff}", "rounds": live.rounds})
        found = live.last
    else:
        found = rest.differential(query)
    diffs = list(found.differences)
    source, target_version = rest.parse_versions()
    record_facts(differences=diffs, compared=found.compared(),
                 parse_server_versions={"source": source, "target": target_version})
    differ = source and target_version and source != target_version
    skew = f" (source parse-server {source}, target {target_version})" if differ else ""
    assert not diffs, f"API-08 {query.label}{skew}: " + "; ".join(diffs)
