"""A TLS-terminating TCP proxy for the sandbox: real TLS in front of any local plain-TCP server.

    python -m cutover.sandbox.tls_proxy --listen-port 8443 --upstream-host 127.0.0.1 --upstream-port 8080 \
        --cert good.crt.pem --key good.key.pem [--min-version TLSv1 --max-version TLSv1_1]

Each accepted TLS connection gets a fresh TCP connection upstream and bytes are piped both ways with
``drain()`` after every write (backpressure: a slow reader slows the writer instead of filling memory).
An EOF on one side is passed on as a half-close where the transport can (plain TCP), else the other side
is closed; both sockets are closed when both directions are done. Every failed connection (handshake,
unreachable upstream, reset) logs one line to stderr. SIGTERM or SIGINT stops the listener and the open
connections, exit status 0.

Old protocols: OpenSSL 3 refuses TLS 1.0/1.1 at its default security level (SHA-1 handshake signatures
are forbidden from level 1 up), so a context whose minimum is below TLS 1.2 gets ``@SECLEVEL=0``.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import ssl
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cutover.sandbox.process import Service, port_open
from cutover.sandbox.proxy_cli import add_endpoint_args, importable_env, stop_on_signals

TLS_VERSIONS = ("TLSv1", "TLSv1_1", "TLSv1_2", "TLSv1_3")
CHUNK = 64 * 1024
HANDSHAKE_TIMEOUT = 10.0
CONNECT_TIMEOUT = 5.0
log = logging.getLogger("cutover.tls_proxy")


def tls_version(name: str) -> ssl.TLSVersion:
    """``TLSv1``, ``TLSv1_1``, ``TLSv1.2``, ``TLSv1_3`` ... as an ``ssl.TLSVersion``."""
    key = name.replace(".", "_")
    if key not in TLS_VERSIONS:
        raise ValueError(f"unknown TLS version {name!r}; use one of {', '.join(TLS_VERSIONS)}")
    return ssl.TLSVersion[key]


def server_context(
    cert_file: Path, key_file: Path, min_version: str = "TLSv1_2", max_version: str | None = None
) -> ssl.SSLContext:
    """A server-side context presenting ``cert_file``/``key_file`` within the given protocol range."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert_file, key_file)
    minimum = tls_version(min_version)
    with warnings.catch_warnings():  # old protocols are deliberate here (a defect the suite must catch)
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = minimum
        if max_version is not None:
            ctx.maximum_version = tls_version(max_version)
    if minimum < ssl.TLSVersion.TLSv1_2:
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    return ctx


class TlsProxy:
    """Accepts TCP on ``listen``, performs the TLS handshake, then pipes the connection to ``upstream``."""

    def __init__(self, ctx: ssl.SSLContext, listen: tuple[str, int], upstream: tuple[str, int]) -> None:
        self.ctx, self.listen, self.upstream = ctx, listen, upstream
        self.tasks: set[asyncio.Task[None]] = set()

    async def serve(self, stop: asyncio.Event) -> None:
        server = await asyncio.start_server(self._accepted, *self.listen)
        log.info("listening on %s:%d (TLS) -> %s:%d", *self.listen, *self.upstream)
        async with server:
            await stop.wait()
            server.close()
            for task in list(self.tasks):
                task.cancel()
            await asyncio.gather(*self.tasks, return_exceptions=True)
        log.info("stopped")

    async def _accepted(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self.tasks.add(task)
        try:
            if await self._handshake(writer):
                await self._serve_connection(reader, writer)
        finally:
            if task is not None:
                self.tasks.discard(task)

    async def _handshake(self, writer: asyncio.StreamWriter) -> bool:
        """TLS on an accepted socket; done here, not by start_server(ssl=...), whose failures asyncio
        drops silently. A failed or interrupted handshake aborts the socket: no graceful close exists yet."""
        try:
            await writer.start_tls(self.ctx, ssl_handshake_timeout=HANDSHAKE_TIMEOUT)
            return True
        except (OSError, TimeoutError) as exc:
            peer = _peer(writer.get_extra_info("peername"))
            log.warning("connection from %s failed: %s", peer, _describe(exc))
            writer.transport.abort()
            return False
        except asyncio.CancelledError:
            writer.transport.abort()
            raise

    async def _serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = _peer(writer.get_extra_info("peername"))
        try:
            await self._relay(reader, writer)
        except (OSError, TimeoutError) as exc:
            log.warning("connection from %s failed: %s", peer, _describe(exc))
        except asyncio.CancelledError:
            writer.transport.abort()  # shutting down: no waiting for the peer's close_notify
            raise
        finally:
            writer.close()

    async def _relay(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            up_r, up_w = await asyncio.wait_for(asyncio.open_connection(*self.upstream), CONNECT_TIMEOUT)
        except (OSError, TimeoutError) as exc:
            raise ConnectionError(f"upstream {_peer(self.upstream)} unreachable ({_describe(exc)})") from exc
        pipes = [asyncio.create_task(_pipe(client_r, up_w)), asyncio.create_task(_pipe(up_r, client_w))]
        try:
            await asyncio.gather(*pipes)
        finally:
            for pipe in pipes:
                pipe.cancel()
            up_w.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy until EOF, waiting for the writer's buffer to drain after each chunk; then pass the EOF on."""
    try:
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
    except BaseException:
        writer.close()
        raise
    if writer.can_write_eof() and not writer.is_closing():
        writer.write_eof()
    else:
        writer.close()


def _peer(peer: Any) -> str:
    return f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else "unknown peer"


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _log_loop_error(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """Whatever asyncio reports outside a connection's own task: one line instead of a traceback."""
    exc = context.get("exception")
    transport = context.get("transport")
    peer = transport.get_extra_info("peername") if transport is not None else None
    detail = _describe(exc) if exc is not None else ""
    log.warning("connection from %s failed: %s %s", _peer(peer), context.get("message", ""), detail)


async def run(args: argparse.Namespace) -> None:
    ctx = server_context(args.cert, args.key, args.min_version, args.max_version)
    asyncio.get_running_loop().set_exception_handler(_log_loop_error)
    stop = stop_on_signals()
    proxy = TlsProxy(ctx, (args.listen_host, args.listen_port), (args.upstream_host, args.upstream_port))
    await proxy.serve(stop)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m cutover.sandbox.tls_proxy", description="TLS before TCP")
    add_endpoint_args(parser)
    parser.add_argument("--cert", type=Path, required=True, help="PEM: certificate, then its chain")
    parser.add_argument("--key", type=Path, required=True, help="PEM: private key")
    parser.add_argument("--min-version", choices=TLS_VERSIONS, default="TLSv1_2")
    parser.add_argument("--max-version", choices=TLS_VERSIONS, default=None)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s tls_proxy %(message)s")
    asyncio.run(run(parse_args(argv)))
    return 0


def tls_front_service(
    name: str, listen_port: int, upstream_port: int, cert_file: Path, key_file: Path, log_path: Path,
    min_version: str = "TLSv1_2", max_version: str | None = None,
) -> Service:
    """The proxy as a sandbox ``Service`` on 127.0.0.1:``listen_port``; ready once a TCP connect succeeds.
    Version names are checked here (ValueError), not left to fail in the child."""
    argv = [
        sys.executable, "-m", "cutover.sandbox.tls_proxy",
        "--listen-port", str(listen_port), "--upstream-port", str(upstream_port),
        "--cert", str(cert_file), "--key", str(key_file), "--min-version", tls_version(min_version).name,
    ]
    if max_version is not None:
        argv += ["--max-version", tls_version(max_version).name]
    return Service(
        name=name, argv=argv, log_path=log_path, env=importable_env(),
        ready=lambda: port_open("127.0.0.1", listen_port),
    )


if __name__ == "__main__":
    sys.exit(main())
