"""Loopback servers that misbehave on purpose, for the fail-fast and authentication tests.

``BlackHole`` accepts TCP connections and never answers (a hung server, a firewall that drops replies).
``MongoRefusingAuth`` speaks just enough of the MongoDB wire protocol (OP_QUERY and OP_MSG: ``hello``,
``isMaster``, ``ping``, ``endSessions``) for pymongo to connect, and answers every ``saslStart`` as a real
server answers a wrong password: ``{ok: 0, code: 18, codeName: "AuthenticationFailed"}``.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import socket
import struct
import threading
from typing import Any

import bson

OP_REPLY, OP_QUERY, OP_MSG = 1, 2004, 2013
AUTH_FAILED = {"ok": 0.0, "errmsg": "Authentication failed.", "code": 18, "codeName": "AuthenticationFailed"}


class Listener:
    """A loopback listener whose connections are handled by ``handle`` in daemon threads until ``close()``."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port: int = self.sock.getsockname()[1]
        self.accepted = 0
        self._conns: list[socket.socket] = []
        self._stopping = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.accepted += 1
            self._conns.append(conn)
            threading.Thread(target=self.handle, args=(conn,), daemon=True).start()

    def handle(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self._stopping.set()
        for conn in self._conns:
            with contextlib.suppress(OSError):
                conn.close()
        self.sock.close()


class BlackHole(Listener):
    def handle(self, conn: socket.socket) -> None:
        self._stopping.wait()  # hold the connection open, say nothing


class MongoRefusingAuth(Listener):
    def handle(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError, ConnectionError):
            while not self._stopping.is_set():
                header = _read(conn, 16)
                length, request_id, _, opcode = struct.unpack("<iiii", header)
                body = _read(conn, length - 16)
                conn.sendall(_answer(request_id, opcode, body))


def _read(conn: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def _answer(request_id: int, opcode: int, body: bytes) -> bytes:
    if opcode == OP_QUERY:  # flags, cstring collection, skip, limit, then the command document
        start = body.index(b"\0", 4) + 1 + 8
        reply = struct.pack("<iqii", 0, 0, 0, 1) + bson.encode(command_reply(_first_doc(body[start:])))
        return struct.pack("<iiii", 16 + len(reply), 0, request_id, OP_REPLY) + reply
    reply = struct.pack("<I", 0) + b"\0" + bson.encode(command_reply(_first_doc(body[5:])))
    return struct.pack("<iiii", 16 + len(reply), 0, request_id, OP_MSG) + reply


def _first_doc(data: bytes) -> dict[str, Any]:
    size = struct.unpack("<i", data[:4])[0]
    return bson.decode(data[:size])


def command_reply(command: dict[str, Any]) -> dict[str, Any]:
    name = next(iter(command)).lower()
    if name in ("hello", "ismaster"):
        return {"ismaster": True, "isWritablePrimary": True, "helloOk": True, "maxWireVersion": 21,
                "minWireVersion": 0, "maxBsonObjectSize": 16 * 1024 * 1024, "maxMessageSizeBytes": 48_000_000,
                "maxWriteBatchSize": 100_000, "localTime": dt.datetime.now(dt.UTC), "connectionId": 1,
                "saslSupportedMechs": ["SCRAM-SHA-256", "SCRAM-SHA-1"], "ok": 1.0}
    if name == "saslstart":
        return AUTH_FAILED
    if name in ("ping", "endsessions"):
        return {"ok": 1.0}
    return {"ok": 0.0, "errmsg": f"no such command: {name}", "code": 59, "codeName": "CommandNotFound"}
