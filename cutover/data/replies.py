"""Server replies as MongoDB 3.6 to 8.0 send them: who answered, and the error for a shape cutover does not know.

Every reader of a server reply (explain, serverStatus, hostInfo, replSetGetStatus, hello, listIndexes,
listCollections, dbStats) reads the fields it knows for the server that answered. A reply without them raises
:class:`UnknownReply`, an ERROR naming the server version and the field: never a pass, never "not applicable".
"Not applicable" stays for what a server genuinely does not report (``queues.execution`` before 8.0, CPU time
off Linux) and for the sandbox's stand-in, mongoeco, which marks its replies (:func:`is_stand_in`): what it cannot
answer is a :class:`StandInLimit`, stated as such wherever a verdict rests on it ("verified on the stand-in" is not
"verified").
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cutover.errors import UnexpectedAnswer

STAND_IN = "the sandbox's stand-in (mongoeco)"
# maxWireVersion -> the release that introduced it (the driver's handshake tells it without a command)
WIRE_RELEASES = {6: "3.6", 7: "4.0", 8: "4.2", 9: "4.4", 13: "5.0", 14: "5.1", 15: "5.2", 16: "5.3", 17: "6.0",
                 18: "6.1", 19: "6.2", 20: "6.3", 21: "7.0", 22: "7.1", 23: "7.2", 24: "7.3", 25: "8.0", 26: "8.1",
                 27: "8.2"}


class UnknownReply(UnexpectedAnswer):
    """A server reply in a shape cutover does not know: the check ERRORs (could not verify), naming what it met."""

    def __init__(self, server: str, command: str, field: str, found: str = "is absent") -> None:
        super().__init__(f"{server or 'MongoDB (version not known)'}: {command} reply: {field} {found}; cutover does "
                         "not know this reply shape, so it judged nothing from it (report the server version and "
                         "this message)")
        self.server, self.command, self.field = server, command, field


@dataclass(frozen=True)
class StandInLimit:
    """What the sandbox's stand-in cannot answer for a criterion, and what the verdict rests on instead."""

    cannot: str
    instead: str

    def text(self) -> str:
        return f"{STAND_IN} {self.cannot}; {self.instead}"

    def facts(self) -> dict[str, str]:
        """The ``stand_in`` fact of a check (record.json; the HTML evidence shows it first)."""
        return {"server": STAND_IN, "cannot": self.cannot, "verdict": self.instead,
                "note": "verified on the stand-in is not verified: a real MongoDB answers this "
                        "(CUTOVER_TEST_MONGODB_URI)"}


def is_stand_in(reply: Mapping[str, Any]) -> bool:
    """mongoeco marks what it sends: ``gitVersion: "mongoeco"`` (buildInfo, hello), a ``mongoeco`` section
    (serverStatus), ``cxp.provider`` (explain), ``extra.pythonVersion`` (hostInfo)."""
    cxp, extra = _section(reply, "cxp"), _section(reply, "extra")
    return (reply.get("gitVersion") == "mongoeco" or isinstance(reply.get("mongoeco"), Mapping)
            or cxp.get("provider") == "mongoeco" or "pythonVersion" in extra)


def _section(reply: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = reply.get(name)
    return value if isinstance(value, Mapping) else {}


def label(version: str, stand_in: bool = False) -> str:
    """How messages name a server: "MongoDB 8.0.4", or the stand-in with the version it claims."""
    if stand_in:
        return f"{STAND_IN}, claiming {version or 'no version'}"
    return f"MongoDB {version}" if version else "MongoDB (version not reported)"


def version_of(reply: Mapping[str, Any]) -> str:
    """The version a reply carries: serverStatus/buildInfo ``version``, explain ``serverInfo.version``, or the release
    of hello's ``maxWireVersion``."""
    version = str(reply.get("version") or _section(reply, "serverInfo").get("version") or "")
    wire = reply.get("maxWireVersion")
    if not version and isinstance(wire, int):   # hello carries no version, only its wire version
        version = f"{WIRE_RELEASES.get(wire, 'of an unknown release')} (wire version {wire})"
    return version


def server_of(reply: Mapping[str, Any]) -> str:
    return label(version_of(reply), is_stand_in(reply))


def release(version: str) -> tuple[int, int]:
    """(major, minor) of "8.0.4" or "4.4"; (0, 0) when the text is no version."""
    parts = version.split(".")
    try:
        return int(parts[0]), int(parts[1]) if len(parts) > 1 else 0
    except ValueError:
        return 0, 0


def wire_label(db: Any) -> str:
    """The server of ``db`` as the driver's handshake saw it (no command sent): "MongoDB 4.4 (wire version 9)"."""
    try:
        servers = db.client.topology_description.server_descriptions().values()
        wire = max(s.max_wire_version for s in servers if s.max_wire_version is not None)
    except (AttributeError, ValueError, TypeError):
        return "MongoDB (version not known)"
    return f"MongoDB {WIRE_RELEASES.get(wire, 'of an unknown release')} (wire version {wire})"


def dig(doc: Any, path: str) -> Any:
    """The value at a dotted ``path`` of nested documents, None where any step is missing."""
    for step in path.split("."):
        if not isinstance(doc, Mapping):
            return None
        doc = doc.get(step)
    return doc


def number(value: Any) -> float | None:
    """A BSON number as float (Int64 and Decimal128 included); None for anything else (booleans too)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    to_decimal = getattr(value, "to_decimal", None)   # bson.Decimal128
    return float(to_decimal()) if callable(to_decimal) else None
