"""A loopback socket served by a daemon thread until ``close()``: the scaffolding of the tests' tiny servers."""
from __future__ import annotations

import socket
import threading


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
