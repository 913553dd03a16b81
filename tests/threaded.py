"""A loopback socket served by a daemon thread until ``close()``: the scaffolding of the tests' tiny servers;
and ``serving(handler)``, an HTTP handler class served the same way for the length of a ``with`` block."""
from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """``http://127.0.0.1:<port>``, answered by ``handler`` on a daemon thread until the block ends."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class SocketThread:
    """Subclasses set their own attributes, call ``super().__init__(sock)`` and answer in ``serve_one()``."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.sock.settimeout(0.2)  # lets the loop notice close() promptly
        self.port: int = self.sock.getsockname()[1]
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                self.serve_one()
            except TimeoutError:
                continue

    def serve_one(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self.stopping.set()
        self.thread.join(5)
        self.sock.close()
