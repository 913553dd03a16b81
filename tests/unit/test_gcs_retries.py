"""GCSStore backs off on 429 and 5xx as GCS asks of its clients, counting each retry, and says what failed when
the answers never recover (a stdlib HTTP server stands in for the JSON API)."""
from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from cutover.errors import UnexpectedAnswer
from cutover.files import gcs
from cutover.files.gcs import GCSStore


class _Throttling(BaseHTTPRequestHandler):
    answers: ClassVar[list[tuple[int, dict[str, str]]]] = []     # served in turn, the last one for ever
    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.seen.append(self.path)
        status, headers = self.answers[min(len(self.seen), len(self.answers)) - 1]
        body = json.dumps({"location": "eu"} if status == 200 else {"error": status}).encode()
        self.send_response(status)
        for key, value in {**headers, "Content-Length": str(len(body))}.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def serve(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setattr(gcs, "BACKOFF_S", 0.01)
    servers: list[ThreadingHTTPServer] = []

    def start(*answers: tuple[int, dict[str, str]]) -> tuple[GCSStore, list[str]]:
        handler = type("Handler", (_Throttling,), {"answers": list(answers), "seen": []})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        return GCSStore(f"http://127.0.0.1:{server.server_port}", timeout_s=5), handler.seen

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_throttling_answers_are_asked_again_after_a_backoff(serve: Any) -> None:
    store, seen = serve((429, {"Retry-After": "0"}), (503, {}), (200, {}))
    assert store.bucket("b").location == "EU"
    assert len(seen) == 3 and store.counter.snapshot() == {"retry gcs": 2}


def test_answers_that_never_recover_name_the_call_and_the_status(serve: Any) -> None:
    store, seen = serve((503, {}),)
    with pytest.raises(UnexpectedAnswer, match=r"GCS get bucket b answered HTTP 503"):
        store.bucket("b")
    assert len(seen) == gcs.RETRIES + 1


def test_a_refusal_is_not_retried(serve: Any) -> None:
    store, seen = serve((403, {}),)
    with pytest.raises(UnexpectedAnswer, match=r"HTTP 403.*GOOGLE_OAUTH_ACCESS_TOKEN"):
        store.bucket("b")
    assert len(seen) == 1
