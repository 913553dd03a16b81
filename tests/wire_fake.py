"""A MongoDB wire-protocol test server: asyncio, OP_MSG (plus the legacy OP_QUERY handshake), one answer
function, served from a daemon thread on a loopback port until ``close()``.

Enough for pymongo 4 to connect and run admin commands: the first ``isMaster`` of a connection arrives as
OP_QUERY on ``admin.$cmd`` and is answered with OP_REPLY; every later command is an OP_MSG (body section kind
0, document sequences kind 1 folded into the body) answered with an OP_MSG. Exhaust / ``moreToCome`` replies
are not supported, so ``hello`` replies must not carry ``topologyVersion`` (pymongo then polls).
"""
from __future__ import annotations

import asyncio
import struct
import threading
from collections.abc import Callable
from typing import Any

import bson

OP_REPLY, OP_QUERY, OP_MSG = 1, 2004, 2013
HEADER = struct.Struct("<iiii")
Answer = Callable[[str, dict[str, Any]], dict[str, Any]]


def _cstring(data: bytes, at: int) -> tuple[str, int]:
    end = data.index(b"\x00", at)
    return data[at:end].decode(), end + 1


def parse_msg(body: bytes) -> dict[str, Any]:
    """The command document of an OP_MSG body (after the header), document sequences folded in."""
    at, doc = 4, dict[str, Any]()
    while at < len(body):
        kind, at = body[at], at + 1
        size = struct.unpack_from("<i", body, at)[0]
        if kind == 0:
            doc.update(bson.decode(body[at:at + size]))
        else:
            name, start = _cstring(body, at + 4)
            doc[name] = list(bson.decode_all(body[start:at + size]))
        at += size
    return doc


def parse_query(body: bytes) -> dict[str, Any]:
    """The query document of an OP_QUERY body: flags, collection name, skip, limit, then the query."""
    _, at = _cstring(body, 4)
    return dict(bson.decode(body[at + 8:at + 8 + struct.unpack_from("<i", body, at + 8)[0]]))


def frame(request_id: int, response_to: int, opcode: int, payload: bytes) -> bytes:
    return HEADER.pack(HEADER.size + len(payload), request_id, response_to, opcode) + payload


class FakeMongo:
    """Serves ``answer(command_name, command_document) -> reply`` on 127.0.0.1:<port>."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.loop = asyncio.new_event_loop()
        self._ids = iter(range(1, 1 << 30))
        ready = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self.thread.start()
        if not ready.wait(10):
            raise RuntimeError("the fake MongoDB server did not start")

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", 0))
        self.port: int = self.server.sockets[0].getsockname()[1]
        ready.set()
        self.loop.run_forever()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                length, request_id, _, opcode = HEADER.unpack(await reader.readexactly(HEADER.size))
                body = await reader.readexactly(length - HEADER.size)
                writer.write(self._reply(request_id, opcode, body))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def _reply(self, request_id: int, opcode: int, body: bytes) -> bytes:
        if opcode == OP_QUERY:
            doc = self._answer(parse_query(body))
            payload = struct.pack("<iqii", 0, 0, 0, 1) + bson.encode(doc)
            return frame(next(self._ids), request_id, OP_REPLY, payload)
        if opcode != OP_MSG:
            raise ConnectionError(f"opcode {opcode} is not served")
        return frame(next(self._ids), request_id, OP_MSG, b"\x00\x00\x00\x00\x00" + bson.encode(self._answer(
            parse_msg(body))))

    def _answer(self, command: dict[str, Any]) -> dict[str, Any]:
        name = next(iter(command))
        try:
            return self.answer(name, command)
        except Exception as exc:  # a bug in a test's answer shows as a server error, not a hung client
            return {"ok": 0.0, "errmsg": f"test server: {exc!r}", "code": 1, "codeName": "InternalError"}

    def close(self) -> None:
        """Stop listening, end every open connection, stop the loop and its thread."""
        async def shutdown() -> None:
            self.server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()
