"""The MongoDB commands the suite may send, and a client that keeps to them.

A run against production must never take a lock that stops the app's writes. Every command the suite's
clients send is in :data:`ALLOWED` (ordinary reads and the driver's own housekeeping). ``dbHash`` holds a
shared lock on the database for as long as it hashes, so it is sent only to a target that opted in with
``allow_blocking_commands = true`` (a quiesced copy); everything else (``validate``, ``fsync``, ``compact``,
``reIndex``, ``collMod``, any write) is never sent.

Two lines of defence:
- :class:`GuardedDatabase` refuses, before anything is sent, a ``command()`` outside the allowlist: that is
  the only way pymongo sends an arbitrary command (the helpers such as ``find`` and ``aggregate`` send
  their own, allowlisted commands).
- :class:`CommandLog`, a pymongo command listener on every client, counts what was really sent per component
  (source, target, gridfs), and notes anything outside the allowlist (pymongo ignores a listener's
  exceptions, so it records rather than refuses) and every aggregation sent without ``maxTimeMS``.
"""
from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping
from typing import Any

from pymongo import MongoClient, monitoring
from pymongo.database import Database

from cutover.errors import CommandRefused

# command name (lower case) -> why the suite sends it; every one is a read that takes no blocking lock
ALLOWED: dict[str, str] = {
    "find": "reads documents (DB-02 streams, `_SCHEMA`, file references, GridFS listings)",
    "getmore": "next batch of a cursor (driver)",
    "killcursors": "closes a cursor the suite stopped reading (driver)",
    "aggregate": "server-side counts, digests and scans, always with maxTimeMS, never $out/$merge",
    "count": "row counts (count_documents runs as an aggregation; kept for older drivers)",
    "distinct": "distinct values of a field",
    "listcollections": "collection names, options and views (DB-07)",
    "listindexes": "index definitions (DB-03)",
    "explain": "query plans with verbosity queryPlanner only: the query is planned, not run (DB-04, DB-05)",
    "hello": "topology and writable primary (driver, DB-06)",
    "ismaster": "the same, as older servers spell it (driver)",
    "ping": "reachability (driver)",
    "buildinfo": "server version (DB-04 facts)",
    "getparameter": "featureCompatibilityVersion and failIndexKeyTooLong (DB-04 facts)",
    "dbstats": "data and index size for storage headroom (DB-06)",
    "serverstatus": "CPU time, lock and admission queues, sampled over the health window (DB-06)",
    "hostinfo": "the server's cores, to turn CPU time into a percentage (DB-06)",
    "currentop": "with $ownOps: this suite's own operations only, to keep its load out of DB-06's figures",
    "replsetgetstatus": "replication lag (DB-06)",
    "connectionstatus": "the connecting user's roles (SEC-02)",
    "usersinfo": "the roles of the app's database user, when database.app_user names it (SEC-02)",
    "endsessions": "releases the driver's server sessions when a client closes (driver)",
    "saslstart": "authentication (driver)",
    "saslcontinue": "authentication (driver)",
    "authenticate": "authentication, x.509 (driver)",
}
# sent only to a target with allow_blocking_commands = true
BLOCKING: dict[str, str] = {
    "dbhash": "takes a shared (S) lock on the database that stops every write until it has hashed",
}
# documented for DBAs: commands some verification tools send that this suite never does
NEVER = ("dbHash (unless allow_blocking_commands = true)", "validate", "fsync", "compact", "reIndex", "collMod",
         "createIndexes", "dropIndexes", "drop", "insert", "update", "delete", "findAndModify",
         "killOp", "profile", "setParameter", "aggregate with $out or $merge")
WRITING_STAGES = ("$out", "$merge")
OWN_ONLY = frozenset({"currentop"})   # allowed only with "$ownOps": true


def blocking_policy(allow_blocking: bool) -> str:
    """One line for the report: whether a blocking command may be sent."""
    if allow_blocking:
        return "ALLOWED: dbHash may be sent (allow_blocking_commands = true); it blocks writes while it runs"
    return "never sent (no dbHash, validate, fsync, compact, reIndex, collMod)"


def scan_policy(read_preference: str, max_docs_per_s: int, budget_s: float) -> str:
    """One line for the report: how the heavy reads treat the servers."""
    cap = f"at most {max_docs_per_s} documents/s per server" if max_docs_per_s else "no rate cap"
    return (f"read preference {read_preference or 'as the URI says'}; {cap}; aggregations stop after "
            f"{budget_s:g} s (maxTimeMS)")


def command_name(command: str | Mapping[str, Any]) -> str:
    return str(command if isinstance(command, str) else next(iter(command), "")).lower()


def check_allowed(name: str, allow_blocking: bool, component: str, fields: Mapping[str, Any] | None = None) -> None:
    """Raise CommandRefused, before sending, for a command the suite may not send to ``component``."""
    key = name.lower()
    if key in OWN_ONLY and not (fields or {}).get("$ownOps"):
        raise CommandRefused(f"refused to send {name} to the {component} database without $ownOps: the suite "
                             "looks at its own operations only")
    if key in ALLOWED or (allow_blocking and key in BLOCKING):
        return
    if key in BLOCKING:
        raise CommandRefused(f"refused to send {name} to the {component} database: it {BLOCKING[key]}; "
                             "set allow_blocking_commands = true only for a quiesced copy")
    raise CommandRefused(f"refused to send {name} to the {component} database: not in the suite's command "
                         "allowlist (cutover.data.commands.ALLOWED)")


class CommandLog:
    """Counts the commands each component was sent; notes the ones outside the allowlist (thread-safe)."""

    def __init__(self, allow_blocking: bool = False) -> None:
        self.allow_blocking = allow_blocking
        self._lock = threading.Lock()
        self.sent: dict[str, Counter[str]] = {}
        self.outside: Counter[str] = Counter()         # "component: name"
        self.unbounded: Counter[str] = Counter()       # aggregations without maxTimeMS, per component

    def listener(self, component: str) -> monitoring.CommandListener:
        """A command listener for the client of ``component`` (pymongo's events do not name the client)."""
        return _Listener(self, component)

    def record(self, component: str, name: str, command: Mapping[str, Any]) -> None:
        key = name.lower()
        allowed = key in ALLOWED or (self.allow_blocking and key in BLOCKING)
        writes = key == "aggregate" and any(s in stage for stage in command.get("pipeline", [])
                                            for s in WRITING_STAGES)
        with self._lock:
            self.sent.setdefault(component, Counter())[name] += 1
            if not allowed or writes:
                self.outside[f"{component}: {name}" + (" with $out/$merge" if writes else "")] += 1
            if key == "aggregate" and "maxTimeMS" not in command:
                self.unbounded[component] += 1

    def facts(self) -> dict[str, Any]:
        """JSON-ready: commands sent per component, and what broke the rules (empty when nothing did)."""
        with self._lock:
            return {"sent": {c: dict(sorted(n.items())) for c, n in sorted(self.sent.items())},
                    "outside_allowlist": dict(self.outside), "aggregate_without_maxTimeMS": dict(self.unbounded)}


class _Listener(monitoring.CommandListener):
    def __init__(self, log: CommandLog, component: str) -> None:
        self.log, self.component = log, component

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.log.record(self.component, event.command_name, event.command)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def merge_facts(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """The facts of several processes (xdist workers) added up."""
    out: dict[str, Any] = {"sent": {}, "outside_allowlist": {}, "aggregate_without_maxTimeMS": {}}
    for part in parts:
        for component, names in part.get("sent", {}).items():
            bucket = out["sent"].setdefault(component, {})
            for name, n in names.items():
                bucket[name] = bucket.get(name, 0) + n
        for key in ("outside_allowlist", "aggregate_without_maxTimeMS"):
            for name, n in part.get(key, {}).items():
                out[key][name] = out[key].get(name, 0) + n
    out["sent"] = {c: dict(sorted(n.items())) for c, n in sorted(out["sent"].items())}
    return out


class GuardedDatabase(Database[Any]):
    """A Database whose ``command`` and ``cursor_command`` refuse what the allowlist does not hold."""

    def command(self, command: Any, *args: Any, **kwargs: Any) -> Any:
        self._check(command, kwargs)
        return super().command(command, *args, **kwargs)

    def cursor_command(self, command: Any, *args: Any, **kwargs: Any) -> Any:
        self._check(command, kwargs)
        return super().cursor_command(command, *args, **kwargs)

    def with_options(self, *args: Any, **kwargs: Any) -> Any:
        plain = super().with_options(*args, **kwargs)
        return GuardedDatabase(self.client, self.name, plain.codec_options, plain.read_preference,
                               plain.write_concern, plain.read_concern)

    def _check(self, command: Any, kwargs: Mapping[str, Any]) -> None:
        client = self.client
        fields = {**kwargs, **(command if isinstance(command, Mapping) else {})}
        check_allowed(command_name(command), bool(getattr(client, "allow_blocking", False)),
                      str(getattr(client, "component", "")) or "MongoDB", fields)


class GuardedClient(MongoClient[Any]):
    """A MongoClient whose databases are :class:`GuardedDatabase`; ``component`` names it in messages."""

    component = ""
    allow_blocking = False

    def __getitem__(self, name: str) -> Any:
        return GuardedDatabase(self, name)

    def get_database(self, name: str | None = None, *args: Any, **kwargs: Any) -> Any:
        plain = super().get_database(name, *args, **kwargs)
        return GuardedDatabase(self, plain.name, plain.codec_options, plain.read_preference,
                               plain.write_concern, plain.read_concern)

    def get_default_database(self, default: str | None = None, *args: Any, **kwargs: Any) -> Any:
        plain = super().get_default_database(default, *args, **kwargs)
        return GuardedDatabase(self, plain.name, plain.codec_options, plain.read_preference,
                               plain.write_concern, plain.read_concern)
