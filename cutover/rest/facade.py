"""The REST area's facade (``session.rest``): what the API-* checks ask of the target's Parse Server.

Reads go through the session's REST clients (:class:`cutover.rest.client.ParseClient`); writes only through
probe runs (:meth:`RestFacade.open_probes`), which the flows of :mod:`cutover.rest.flows` drive. Where a flow
must look behind the server, it reads the target database directly, or asks the files area where an upload
landed (``session.files``).
"""
from __future__ import annotations

from pathlib import Path

from cutover.data import CountPair, class_permissions, schema_classes
from cutover.errors import CouldNotVerify, CutoverError, SandboxError
from cutover.facade import Facade
from cutover.memo import memoized
from cutover.model import CloudFunction, Query
from cutover.rest import flows, sdk_client, sdk_flows
from cutover.rest.client import Answer, Identity, ParseClient
from cutover.rest.live_differential import LiveDifferential, live_differential
from cutover.rest.probes import ProbeRun
from cutover.rest.sdk_client import SDK_LABEL, SdkClient
from cutover.sandbox import NodeRuntime, node_runtime

NOT_ON_REST = frozenset({"_Idempotency"})   # Parse keeps this class out of REST; DB-01 counts it
NO_SERVER = "the target declares no [parse] server: add [targets.NAME.parse] to verify the REST criteria"
USER_PATHS = ("/users", "/login")
NO_JS_KEY = ("the target declares a REST key but no javascript_key, and the JS SDK sends only the JavaScript key: "
             "declare javascript_key in [targets.NAME.parse] to run the SDK's user round-trip; the REST "
             "round-trip decides API-07")
SDK_CALL_TIMEOUTS = 3   # an SDK call may make several requests (a save with its relation ops, retries of a 5xx)


class RestFacade(Facade):
    @property
    def server(self) -> ParseClient:
        """The target's Parse Server (CouldNotVerify when the target declares none: checks skip before)."""
        client = self.session.parse
        if client is None:
            raise CouldNotVerify(NO_SERVER)
        return client

    # -- what the checks run over ---------------------------------------------------------------------------
    def classes(self) -> list[str]:
        """The classes of the target's `_SCHEMA` that REST serves (the probe class aside)."""
        if self.session.parse is None:
            return []
        return sorted(set(schema_classes(self.session.target_db)) - NOT_ON_REST - {self.target.probe_class})

    def closed_classes(self) -> list[str]:
        """Classes whose CLP (on the source when it is a database, else the target) refuses public reads."""
        if self.session.parse is None:
            return []
        db = self.session.source_db if self.session.source_db is not None else self.session.target_db
        return sorted(cls for cls, clp in class_permissions(db).items()
                      if "find" in clp and not clp["find"].get("*") and not clp["find"].get("requiresAuthentication"))

    def differential_queries(self) -> list[Query]:
        """The declared queries API-08 asks both servers (it needs the old server: [source_parse])."""
        if self.target.queries and self.session.source_parse is None:
            raise CouldNotVerify("API-08: declare [source_parse] (the old server) to compare declared queries")
        return list(self.target.queries) if self.session.parse is not None else []

    # -- API-01 ---------------------------------------------------------------------------------------------
    def health(self) -> Answer:
        return self.server.health()

    @memoized
    def identity(self) -> Identity:
        return self.server.identify()

    def master_key_declared(self) -> bool:
        return bool(self.target.parse and self.target.parse.master_key)

    # -- API-03, API-05, API-06, API-08 (reads) -------------------------------------------------------------
    def counts(self, cls: str) -> CountPair:
        """The target database's count of ``cls`` (expected) and the REST count (found), probes left out."""
        return flows.count_pair(self.server, self.session.target_db, cls, self.target.probe_class,
                                budget_s=self.session.data.budget_s)

    def call_function(self, function: CloudFunction) -> Answer:
        return self.server.call_function(function.name, function.params)

    def clp_reads(self, cls: str) -> tuple[Answer, Answer]:
        """A find and a count of ``cls`` without the master key."""
        return self.server.query(cls, limit=1, auth="client"), self.server.count(cls, auth="client")

    def schemas_without_master_key(self) -> Answer:
        return self.server.schemas(auth="client")

    def password_leaks(self) -> list[str]:
        """Every answer so far that held a password field, after user queries with and without the master key."""
        for auth in ("client", "master"):
            self.server.query("_User", limit=20, auth=auth)
            self.server.request("GET", "/users", auth=auth, params={"limit": 20})
        return list(self.server.leaks)

    def user_leaks(self) -> list[str]:
        """The answers of user paths (sign-up, log-in) that held a password field."""
        return [leak for leak in self.server.leaks if any(path in leak for path in USER_PATHS)]

    def differential(self, query: Query) -> flows.Differential:
        if self.session.source_parse is None:
            raise CouldNotVerify("API-08: declare [source_parse] (the old server) to compare declared queries")
        return flows.differential(self.session.source_parse, self.server, query)

    @memoized
    def parse_versions(self) -> tuple[str, str]:
        """The parse-server version the source and the target server report ("" where one does not say): API-08's
        evidence, so that a difference between servers of two majors reads as such (docs/versions.md)."""
        source, target = self.session.source_parse, self.server
        return (source.server_version() if source is not None else ""), target.server_version()

    def live_differential(self, query: Query) -> LiveDifferential:
        """API-08 under a live sync: only objects not updated during the last settle delay are compared."""
        if self.session.source_parse is None:
            raise CouldNotVerify("API-08: declare [source_parse] (the old server) to compare declared queries")
        return live_differential(self.session.source_parse, self.server, query, self.target.database)

    # -- API-02..07 (writes: probes) ------------------------------------------------------------------------
    def open_probes(self) -> ProbeRun:
        """A probe run of this check; its cleanup settles the side effects of the app's triggers."""
        if not self.identity().master_key_accepted:
            # without a working master key no probe could be removed again: write nothing (API-01 says why)
            raise CouldNotVerify("the master key is refused (see API-01): no probe is written without it")
        return self.session.probes.open(self.server, self.session.target_db, self.source_classes())

    @memoized
    def source_classes(self) -> frozenset[str]:
        """The source's classes: a class the source holds is never taken for one the probes created."""
        try:
            return frozenset(self.session.source.class_names())
        except CutoverError:
            return frozenset()

    def crud_round_trip(self, run: ProbeRun) -> flows.Flow:
        return flows.crud_round_trip(run)

    def wiring(self, run: ProbeRun) -> flows.Flow:
        return flows.wiring(run, self.session.target_db, self.session.source_db)

    def file_round_trip(self, run: ProbeRun) -> flows.Flow:
        return flows.file_round_trip(run, self.session.files.missing_from_store)

    def acl_hidden(self, run: ProbeRun) -> flows.Flow:
        return flows.acl_hidden(run)

    def user_round_trip(self, run: ProbeRun) -> flows.Flow:
        return flows.user_round_trip(run)

    def trigger_writes(self, run: ProbeRun) -> flows.Flow:
        return flows.trigger_writes(run)

    # -- API-02, API-04, API-07 through the Parse JavaScript SDK ------------------------------------------------
    def sdk_unavailable(self, as_client: bool = False) -> str:
        """Why the JS SDK round-trips cannot run ("" when they can): no Node.js here; for a client's round-trip
        (``as_client``), a target whose server takes client keys but that declares no JavaScript key."""
        parse = self.target.parse
        if as_client and parse is not None and parse.rest_key and not parse.javascript_key:
            return NO_JS_KEY
        return sdk_client.unavailable()

    def js_sdk(self) -> SdkClient:
        """The JS SDK as an app of the target uses it (installed into the cache on first use), pointed at the
        target's public URL; the check closes it, else the session does."""
        assert self.target.parse is not None   # the checks skip before, without a server
        timeout = self.target.thresholds.timeout_s * SDK_CALL_TIMEOUTS
        modules, failure = self._sdk_install()
        if modules is None:
            raise CouldNotVerify(f"{SDK_LABEL} cannot run: {failure}")
        return self.session.keep(SdkClient(self._node(), modules, self.target.parse, timeout))

    @memoized
    def _sdk_install(self) -> tuple[Path | None, str]:
        """The SDK's installed folder, or why it cannot be installed: tried once per run, not once per SDK check
        (a failing npm install would otherwise be waited out again by each of them)."""
        try:
            return sdk_client.install(self._node()), ""
        except SandboxError as exc:
            return None, str(exc)

    @memoized
    def _node(self) -> NodeRuntime:
        return node_runtime()

    def sdk_crud_round_trip(self, run: ProbeRun, sdk: SdkClient) -> flows.Flow:
        return sdk_flows.crud_round_trip(run, sdk)

    def sdk_file_round_trip(self, run: ProbeRun, sdk: SdkClient) -> flows.Flow:
        return sdk_flows.file_round_trip(run, sdk, self.session.files.missing_from_store)

    def sdk_user_round_trip(self, run: ProbeRun, sdk: SdkClient) -> flows.Flow:
        return sdk_flows.user_round_trip(run, sdk)
