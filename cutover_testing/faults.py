"""A fault-injecting TCP/HTTP proxy for the sandbox: put it before any component, switch faults at run time.

    python -m cutover_testing.faults --listen-port 9000 --upstream-port 27017 --control /tmp/fault.mode

The control file holds one line, ``MODE [ARG]``; the proxy polls it every 50 ms. Modes:

- ``pass``          bytes piped both ways (the default, also when the file is missing or empty);
- ``refuse``        stop listening (connection refused) and drop every open connection: a stopped server;
- ``close``         accept, then close at once; open connections are dropped too;
- ``slowdown N``    HTTP: answer the next N requests ``503 SlowDown`` (S3's throttling error), then pass;
- ``error500 N``    HTTP: answer the next N requests ``500``, then accept and never answer;
- ``hang``          accept and never answer (the peer must time out);
- ``delay S``       pass, but hold each reply S seconds (the first bytes the upstream sends after a request);
- ``no-tunnel``     HTTP: answer ``403 Forbidden`` (an HTML page, as a web application firewall does) to every
                    POST whose JSON body carries ``_method``, the method tunnel the Parse JavaScript SDK puts in
                    every request; pass everything else (plain REST), one request per connection.

Every change of mode drops the open connections, so a keep-alive or pooled connection cannot slip past the
new fault. Each fault served logs one line to stderr (``fault: 503 SlowDown GET /bucket ...``), so a test
can count them. SIGTERM or SIGINT stops the proxy, exit status 0.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cutover.atomic_file import write_atomically
from cutover.sandbox.process import Service, free_port, port_open
from cutover.sandbox.proxy_cli import add_endpoint_args, importable_env, stop_on_signals

MODES = ("pass", "refuse", "close", "slowdown", "error500", "hang", "delay", "no-tunnel")
HTTP_MODES = ("slowdown", "error500")
CHUNK = 64 * 1024
HEAD_LIMIT = 64 * 1024
POLL_S = 0.05
log = logging.getLogger("cutover.faults")


@dataclass(frozen=True)
class Mode:
    """A parsed control line: the mode's name and its numeric argument (count or seconds)."""

    name: str = "pass"
    arg: float = 0.0

    @classmethod
    def parse(cls, line: str) -> Mode:
        words = line.split()
        if not words:
            return cls()
        if words[0] not in MODES:
            raise ValueError(f"unknown fault mode {words[0]!r}; use one of {', '.join(MODES)}")
        return cls(words[0], float(words[1]) if len(words) > 1 else 0.0)

    def line(self) -> str:
        return f"{self.name} {self.arg:g}" if self.arg else self.name


def read_mode(control: Path) -> Mode:
    """The mode the control file asks for (``pass`` when it is missing or unreadable)."""
    try:
        return Mode.parse(control.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        if not isinstance(exc, FileNotFoundError):
            log.warning("control file %s ignored: %s", control, exc)
        return Mode()


@dataclass
class FaultProxy:
    """The proxy's state: listening socket, open connections, current mode and its remaining count."""

    listen: tuple[str, int]
    upstream: tuple[str, int]
    control: Path
    mode: Mode = field(default_factory=Mode)
    remaining: int = 0
    server: asyncio.AbstractServer | None = None
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def serve(self, stop: asyncio.Event) -> None:
        await self._listen()
        self._apply(read_mode(self.control))
        while not stop.is_set():
            wanted = read_mode(self.control)
            if wanted != self.mode:
                await self._switch(wanted)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), POLL_S)
        await self._unlisten()
        self._drop_all()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    async def _switch(self, wanted: Mode) -> None:
        previous = self.mode.line()
        self._drop_all()
        if wanted.name == "refuse":
            await self._unlisten()
        elif self.server is None:
            await self._listen()
        self._apply(wanted)
        # FaultFront.set() waits for this line: only once the mode is in force (a refuse no longer listens)
        log.info("mode %s -> %s", previous, wanted.line())

    def _apply(self, mode: Mode) -> None:
        self.mode, self.remaining = mode, int(mode.arg)

    async def _listen(self) -> None:
        self.server = await asyncio.start_server(self._accepted, *self.listen, reuse_address=True)
        log.info("listening on %s:%d -> %s:%d", *self.listen, *self.upstream)

    async def _unlisten(self) -> None:
        server, self.server = self.server, None
        if server is not None:
            server.close()
            await server.wait_closed()

    def _drop_all(self) -> None:
        for task in list(self.tasks):
            task.cancel()

    async def _accepted(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.tasks.add(task)
        log.info("accepted a connection (%s)", self.mode.line())
        try:
            await self._handle(reader, writer)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
            log.info("connection ended: %s", type(exc).__name__)
        except asyncio.CancelledError:
            pass
        finally:
            self.tasks.discard(task)
            writer.transport.abort()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        name = self.mode.name
        if name in ("close", "refuse"):
            log.info("fault: closed a connection")
            return
        if name == "hang":
            await _swallow(reader, "hang")
            return
        if name == "no-tunnel":
            await self._no_tunnel(reader, writer)
            return
        head = b""
        if name in HTTP_MODES:
            head = await reader.readuntil(b"\r\n\r\n")
            if await self._http_fault(head, reader, writer):
                return
        await self._relay(head, reader, writer, self.mode.arg if name == "delay" else 0.0)

    async def _http_fault(self, head: bytes, reader: asyncio.StreamReader,
                          writer: asyncio.StreamWriter) -> bool:
        """Serve the HTTP fault for this request, if one is due; False when the request should pass."""
        request = head.split(b"\r\n", 1)[0].decode("latin-1")
        if self.remaining > 0:
            self.remaining -= 1
            await _drain_body(head, reader)
            status = 503 if self.mode.name == "slowdown" else 500
            log.info("fault: %d %s (%d more)", status, request, self.remaining)
            writer.write(http_answer(status, request.startswith("HEAD ")))
            await writer.drain()
            return True
        if self.mode.name == "error500":
            await _swallow(reader, f"hang {request}")
            return True
        return False

    async def _no_tunnel(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One request: refused when it is a POST tunnelling ``_method`` in its JSON body, else relayed (with
        ``Connection: close``, so the next request comes on a new connection and is looked at too)."""
        head = await reader.readuntil(b"\r\n\r\n")
        body = await _body(head, reader)
        request = head.split(b"\r\n", 1)[0].decode("latin-1")
        if request.startswith("POST ") and _tunnelled(body):
            log.info("fault: 403 %s (_method %s in the body)", request, _tunnelled(body))
            writer.write(http_answer(403))
            await writer.drain()
            return
        await self._relay(_closing(head) + body, reader, writer, 0.0)

    async def _relay(self, head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                     delay: float) -> None:
        up_r, up_w = await asyncio.wait_for(asyncio.open_connection(*self.upstream), 5.0)
        asked = asyncio.Event()
        if head:
            up_w.write(head)
            asked.set()
        try:
            await asyncio.gather(_pipe(reader, up_w, asked, 0.0), _pipe(up_r, writer, asked, delay))
        finally:
            up_w.transport.abort()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, asked: asyncio.Event,
                delay: float) -> None:
    """Copy until EOF. The client->upstream pipe (delay 0) marks each request; the reply pipe waits
    ``delay`` before the first chunk of each reply."""
    while data := await reader.read(CHUNK):
        if delay and asked.is_set():
            asked.clear()
            log.info("fault: reply held %.1f s", delay)
            await asyncio.sleep(delay)
        elif not delay:
            asked.set()
        writer.write(data)
        await writer.drain()
    if writer.can_write_eof():
        writer.write_eof()


async def _swallow(reader: asyncio.StreamReader, what: str) -> None:
    log.info("fault: %s (never answered)", what)
    while await reader.read(CHUNK):
        pass


async def _drain_body(head: bytes, reader: asyncio.StreamReader) -> None:
    """Read the request body a Content-Length announces (not when the client waits for 100-continue)."""
    lines = [line.lower() for line in head.split(b"\r\n")]
    if any(line.startswith(b"expect:") and b"100-continue" in line for line in lines):
        return
    await reader.readexactly(min(_content_length(lines), 64 * 1024 * 1024))


async def _body(head: bytes, reader: asyncio.StreamReader) -> bytes:
    """The request body a Content-Length announces (b"" without one: a chunked body streams through)."""
    return await reader.readexactly(_content_length([line.lower() for line in head.split(b"\r\n")]))


def _content_length(lines: list[bytes]) -> int:
    """The Content-Length of a request head's lowered lines (0 without one)."""
    for line in lines:
        if line.startswith(b"content-length:"):
            return int(line.split(b":", 1)[1].strip() or 0)
    return 0


def _tunnelled(body: bytes) -> str:
    """The ``_method`` a JSON request body tunnels ("" when none, or when the body is not JSON)."""
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return ""
    return str(parsed.get("_method") or "") if isinstance(parsed, dict) else ""


def _closing(head: bytes) -> bytes:
    """The request head asking the upstream to close the connection after its answer."""
    lines = [line for line in head.rstrip(b"\r\n").split(b"\r\n") if not line.lower().startswith(b"connection:")]
    return b"\r\n".join([*lines, b"Connection: close"]) + b"\r\n\r\n"


SLOWDOWN_BODY = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
                 b"<Message>Please reduce your request rate.</Message></Error>")
ERROR500_BODY = b'{"code":1,"error":"Internal server error."}'
FORBIDDEN_BODY = (b"<html><head><title>403 Forbidden</title></head><body><h1>403 Forbidden</h1>"
                  b"<p>Request blocked: method override in the request body.</p></body></html>")
ANSWERS = {503: ("Slow Down", "application/xml", SLOWDOWN_BODY),
           500: ("Internal Server Error", "application/json", ERROR500_BODY),
           403: ("Forbidden", "text/html", FORBIDDEN_BODY)}


def http_answer(status: int, head_only: bool = False) -> bytes:
    """The canned answer of a fault (503 SlowDown, 500, a firewall's 403), with ``Connection: close``."""
    reason, ctype, body = ANSWERS[status]
    head = (f"HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
            f"Connection: close\r\n\r\n").encode()
    return head if head_only else head + body


async def run(args: argparse.Namespace) -> None:
    stop = stop_on_signals()
    proxy = FaultProxy((args.listen_host, args.listen_port), (args.upstream_host, args.upstream_port),
                       args.control)
    await proxy.serve(stop)
    log.info("stopped")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m cutover_testing.faults", description="faults before TCP")
    add_endpoint_args(parser)
    parser.add_argument("--control", type=Path, required=True, help="file holding 'MODE [ARG]'")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s faults %(message)s")
    asyncio.run(run(parse_args(argv)))
    return 0


@dataclass
class FaultFront:
    """A running fault proxy as seen by a test: its port, its control file, its log."""

    service: Service
    port: int
    control: Path

    def set(self, mode: str, arg: float = 0.0, wait_s: float = 5.0) -> None:
        """Switch the fault and wait until the proxy has applied it (open connections are dropped)."""
        line = Mode.parse(f"{mode} {arg:g}" if arg else mode).line()
        switched = self._log().count(f"-> {line}\n")
        write_atomically(self.control, line + "\n")   # the proxy never reads a half-written line
        deadline = time.monotonic() + wait_s
        while self.service.proc is not None and time.monotonic() < deadline:
            if self._log().count(f"-> {line}\n") > switched:
                return
            time.sleep(POLL_S / 2)

    def _log(self) -> str:
        with contextlib.suppress(OSError):
            return self.service.log_path.read_text(errors="replace")
        return ""

    def faults_served(self) -> int:
        """How many faults the proxy served so far (lines of its log starting with ``fault:``)."""
        return self._log().count(" faults fault: ")


    def connections_accepted(self) -> int:
        """How many TCP connections the proxy accepted so far (clients open, monitor and pool them)."""
        return self._log().count(" faults accepted a connection")


def fault_service(name: str, listen_port: int, upstream_port: int, control: Path, log_path: Path,
                  upstream_host: str = "127.0.0.1") -> Service:
    """The proxy as a sandbox ``Service`` on 127.0.0.1:``listen_port``; ready once a TCP connect succeeds
    (start it in a listening mode; switch to ``refuse`` afterwards)."""
    argv = [sys.executable, "-m", "cutover_testing.faults", "--listen-port", str(listen_port),
            "--upstream-host", upstream_host, "--upstream-port", str(upstream_port),
            "--control", str(control)]
    return Service(name=name, argv=argv, log_path=log_path, env=importable_env(),
                   ready=lambda: port_open("127.0.0.1", listen_port))


def start_fault_front(name: str, upstream_port: int, directory: Path, mode: str = "pass") -> FaultFront:
    """Start a fault proxy before 127.0.0.1:``upstream_port`` (control file and log in ``directory``);
    it starts listening, then switches to ``mode``. Stop it with ``front.service.stop()``."""
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    stem = f"{name.replace(' ', '-')}-{port}"
    front = FaultFront(fault_service(name, port, upstream_port, directory / f"{stem}.mode",
                                     directory / f"{stem}.log"), port, directory / f"{stem}.mode")
    front.set("pass")              # not started yet: nothing to wait for
    front.service.start()
    front.service.wait_ready()
    if mode != "pass":
        front.set(*_split(mode))
    return front


def _split(mode: str) -> tuple[str, float]:
    parsed = Mode.parse(mode)
    return parsed.name, parsed.arg


if __name__ == "__main__":
    sys.exit(main())
