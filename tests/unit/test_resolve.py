"""Resolution against a real local HTTP server: outcomes, HEAD fallback, retries, timeouts, bounds."""
from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from cutover.errors import CouldNotVerify
from cutover.files.refs import FileRef
from cutover.files.resolve import SILENT_STREAK, Answer, Job, ResolveOptions, classify, require_verified, resolve
from tests.stubs import BlackHole


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Any

    def log_message(self, *args: Any) -> None:
        pass

    def do_HEAD(self) -> None:
        self._answer(head=True)

    def do_GET(self) -> None:
        self._answer(head=False)

    def _answer(self, head: bool) -> None:
        path = self.path.split("?")[0]
        self.server.hits[path] = self.server.hits.get(path, 0) + 1
        if path == "/hang":
            time.sleep(5)
            return
        if path == "/flaky" and self.server.hits[path] <= 2:
            return self._send(503, 0, {"Retry-After": "0"})
        if path == "/always503":
            return self._send(503, 0)
        if path == "/nohead" and head:
            return self._send(405, 0)
        if path == "/nohead":
            return self._send(206, 1, {"Content-Range": "bytes 0-0/7"}, body=b"x")
        if path == "/empty":
            return self._send(200, 0)
        if path.startswith("/ok") or path == "/flaky":
            return self._send(200, 10, body=b"" if head else b"0123456789")
        self._send(404, 0)

    def _send(self, status: int, length: int, headers: dict[str, str] | None = None, body: bytes = b"") -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(length))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if body:
            self.wfile.write(body)


@pytest.fixture
def server() -> Iterator[Any]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.hits = {}  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    httpd.base = f"http://127.0.0.1:{httpd.server_address[1]}"  # type: ignore[attr-defined]
    yield httpd
    httpd.shutdown()
    httpd.server_close()


FAST = ResolveOptions(concurrency=4, timeout_s=2.0, retries=3, backoff_s=0.01)


def _job(base: str, path: str, oid: str = "o1", field: str = "photo") -> Job:
    return Job(FileRef("Post", oid, field, field, path.strip("/")), f"{base}{path}")


def test_outcomes_per_class_and_field(server: Any) -> None:
    jobs = [_job(server.base, "/ok/1", "a"), _job(server.base, "/ok/2", "b"), _job(server.base, "/empty", "d"),
            _job(server.base, "/gone", "c"), _job(server.base, "/nohead", "e", field="meta")]
    summaries = resolve(jobs, FAST)
    photo, meta = summaries[("Post", "photo")], summaries[("Post", "meta")]
    assert (photo.total, photo.resolved, photo.missing, photo.errors) == (4, 2, 2, 0)
    # listed by objectId whatever order the answers came in ("d" was asked first)
    assert [(f.object_id, f.status, f.reason) for f in photo.failures] == [
        ("c", 404, "HTTP 404"), ("d", 200, "empty (0 bytes)")]
    assert (meta.total, meta.resolved) == (1, 1)


def test_the_listing_keeps_the_first_failures_by_object_id_whatever_the_answer_order(server: Any) -> None:
    ids = ["k", "b", "x", "a", "m", "c", "z", "e"]          # more failures than the cap, asked out of order
    jobs = [_job(server.base, f"/gone/{oid}", oid) for oid in ids]
    for concurrency in (1, 8):
        options = ResolveOptions(concurrency=concurrency, timeout_s=2.0, retries=0, cap=3)
        summary = resolve(jobs, options)[("Post", "photo")]
        assert (summary.total, summary.missing) == (8, 8)
        assert [f.object_id for f in summary.failures] == ["a", "b", "c"]


def test_sizes_compared_with_the_source(server: Any) -> None:
    jobs = [_job(server.base, "/ok/1", "a"), _job(server.base, "/ok/2", "b")]
    summary = resolve(jobs, FAST, sizes=lambda name: 10 if name == "ok/1" else 11)[("Post", "photo")]
    assert (summary.resolved, summary.missing) == (1, 1)
    assert summary.failures[0].reason == "10 bytes, source has 11"


def test_503_twice_then_200_is_resolved_after_retries(server: Any) -> None:
    summary = resolve([_job(server.base, "/flaky")], FAST)[("Post", "photo")]
    assert (summary.resolved, summary.errors) == (1, 0)
    assert server.hits["/flaky"] == 3


def test_persistent_503_is_an_error_not_missing(server: Any) -> None:
    summary = resolve([_job(server.base, "/always503")], FAST)[("Post", "photo")]
    assert (summary.resolved, summary.missing, summary.errors) == (0, 0, 1)
    assert server.hits["/always503"] == 4
    with pytest.raises(CouldNotVerify, match="1 of 1 file URLs gave no usable answer"):
        require_verified(summary)


def test_a_server_that_never_answers_ends_in_error(server: Any) -> None:
    options = ResolveOptions(concurrency=2, timeout_s=0.3, retries=3, backoff_s=0.01)
    started = time.monotonic()
    summary = resolve([_job(server.base, "/hang"), _job(server.base, "/ok/1", "b")], options)[("Post", "photo")]
    assert time.monotonic() - started < 2.0
    assert (summary.resolved, summary.errors) == (1, 1)
    assert summary.failures[0].reason == "timeout after 0.3 s"
    with pytest.raises(CouldNotVerify, match="timeout"):
        require_verified(summary)


def test_connection_refused_is_an_error() -> None:
    summary = resolve([_job("http://127.0.0.1:9", "/x")], FAST)[("Post", "photo")]
    assert summary.errors == 1 and summary.failures[0].reason.startswith("connection failed")


def test_failures_are_capped_and_urls_redacted(server: Any) -> None:
    options = ResolveOptions(concurrency=8, timeout_s=2.0, retries=0, cap=3, secrets=("SECRET",))
    jobs = [_job(server.base, f"/SECRET/gone{i}?sig=1", f"o{i}") for i in range(20)]
    summary = resolve(jobs, options)[("Post", "photo")]
    assert (summary.total, summary.missing, len(summary.failures)) == (20, 20, 3)
    assert all("SECRET" not in f.url and "sig" not in f.url for f in summary.failures)


def test_jobs_are_pulled_lazily_with_bounded_concurrency(server: Any) -> None:
    pulled = 0

    def jobs() -> Iterator[Job]:
        nonlocal pulled
        for i in range(200):
            pulled += 1
            yield _job(server.base, f"/ok/{i}", f"o{i}")

    summary = resolve(jobs(), ResolveOptions(concurrency=5, timeout_s=2))[("Post", "photo")]
    assert (pulled, summary.resolved) == (200, 200)


def test_an_error_raised_by_the_job_source_propagates(server: Any) -> None:
    def jobs() -> Iterator[Job]:
        yield _job(server.base, "/ok/1")
        raise CouldNotVerify("database went away")

    with pytest.raises(CouldNotVerify, match="database went away"):
        resolve(jobs(), FAST)


@pytest.mark.parametrize(("answer", "expected", "outcome"), [
    (Answer(200, 5), None, "resolved"), (Answer(206, 5), 5, "resolved"), (Answer(403, None), None, "missing"),
    (Answer(200, None), None, "error"), (Answer(429, 0, attempts=4), None, "error"), (Answer(error="x"), None, "error"),
])
def test_classify(answer: Answer, expected: int | None, outcome: str) -> None:
    assert classify(answer, expected)[0] == outcome


def test_a_host_silent_to_a_round_of_requests_is_not_asked_again() -> None:
    hole = BlackHole()
    try:
        options = ResolveOptions(concurrency=4, timeout_s=0.5, retries=0)
        jobs = [_job(f"http://127.0.0.1:{hole.port}", f"/f{i}", f"o{i}") for i in range(40)]
        started = time.monotonic()
        summary = resolve(jobs, options)[("Post", "photo")]
        took = time.monotonic() - started
    finally:
        hole.close()
    assert (summary.total, summary.errors, summary.resolved) == (40, 40, 0)
    assert took < 40 / 4 * 0.5 / 2, f"{took:.1f} s: every URL waited out its timeout"
    reasons = {f.reason.split(":")[0] for f in summary.failures}
    assert reasons == {"timeout after 0.5 s", "not asked"}, reasons
    assert hole.accepted <= 2 * SILENT_STREAK
    with pytest.raises(CouldNotVerify, match="gave no usable answer"):
        require_verified(summary)


def _judge(source_body: bytes) -> Any:
    from cutover.files.content import ContentJudge, Side
    from cutover.files.sampling import SampleOptions

    return ContentJudge(Side("source", lambda name, start, end: source_body[start:end]), None, SampleOptions())


def test_content_judged_by_digest_and_by_sample(server: Any) -> None:
    """/ok serves 0123456789 (no type): equal MD5s pass, unequal ones fail with both digests named; without
    digests the bytes are sampled from the URL and the source."""
    from cutover.files.digests import StoreObject

    same, other = StoreObject(10, etag="a" * 32), StoreObject(10, etag="b" * 32)
    jobs = [dataclasses.replace(_job(server.base, "/ok/1", "o1"), source=same, target=same),
            dataclasses.replace(_job(server.base, "/ok/2", "o2"), source=same, target=other),
            dataclasses.replace(_job(server.base, "/ok/3", "o3"), source=StoreObject(10), target=StoreObject(10)),
            dataclasses.replace(_job(server.base, "/ok/4", "o4"), source=StoreObject(10), target=StoreObject(10))]
    summary = resolve(jobs[:3], FAST, judge=_judge(b"0123456789"))[("Post", "photo")]
    assert (summary.resolved, summary.corrupt, dict(summary.methods)) == (2, 1, {"md5": 1, "sampled": 1})
    failure = summary.corrupt_failures()[0]
    assert failure.object_id == "o2" and failure.method == "md5" and "b" * 32 in failure.target_digest
    corrupt = resolve(jobs[3:], FAST, judge=_judge(b"0123456780"))[("Post", "photo")]
    assert corrupt.corrupt == 1 and "offset 9" in corrupt.failures[0].reason
