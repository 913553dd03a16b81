"""Benchmark of FILE-01's content comparison: the digest leg against FILE-01 without it, and the sampled leg.

    .venv/bin/python bench/bench_file_content.py [--refs 20000] [--concurrency 64] [--sampled-refs 5000]

A local HTTP server (a separate process, raw asyncio protocol) answers HEAD with 200, a length and a type,
and GET with the body (1,024 bytes). The same references are resolved (a) without a content judge, as FILE-01
did before, and (b) with the judge and both stores' listings (MD5 ETags: the judge decides from the listing,
no request), interleaved three times in one run; the best run of each counts. Targets: (b) >= 2,000 references/s
and (b) costs <= 1.15x (a). The sampled leg, reported separately (no target): objects no digest decides, so
the first 1,024 bytes are read from the URL and from the source (an in-memory reader on a thread, as a store
read is) and compared.
"""
from __future__ import annotations

import argparse
import asyncio
import hashlib
import multiprocessing
import sys
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cutover.files.content import ContentJudge, Side
from cutover.files.digests import StoreObject
from cutover.files.refs import FileRef
from cutover.files.resolve import Job, ResolveOptions, resolve
from cutover.files.sampling import SampleOptions

BODY = bytes(range(256)) * 4
MD5 = hashlib.md5(BODY).hexdigest()
_HEAD = b"HTTP/1.1 200 OK\r\nContent-Length: 1024\r\nContent-Type: image/png\r\n\r\n"
_GET = b"HTTP/1.1 200 OK\r\nContent-Length: 1024\r\nContent-Type: image/png\r\n\r\n" + BODY


class _Files(asyncio.Protocol):
    """HEAD: 200 with a length; GET: the body (ranges ignored: the client cuts the range)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            head, self.buffer = self.buffer[:end], self.buffer[end + 4:]
            self.transport.write(_GET if head.startswith(b"GET") else _HEAD)  # type: ignore[attr-defined]


def _serve(port_queue: multiprocessing.Queue) -> None:
    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(_Files, "127.0.0.1", 0, backlog=1024)
        port_queue.put(server.sockets[0].getsockname()[1])
        await server.serve_forever()
    asyncio.run(main())


def _jobs(base: str, count: int, digests: bool) -> Iterator[Job]:
    for i in range(count):
        name = f"{i:032x}_photo.png"
        ref = FileRef("Bench", f"{i:010d}", "photo", "photo", name)
        obj = StoreObject(1024, etag=MD5 if digests else "")
        yield Job(ref, f"{base}/files/bench/{name}", source=obj, target=obj)


def _judge() -> ContentJudge:
    source = Side("source", lambda name, start, end: BODY[start:end])
    return ContentJudge(source, None, SampleOptions())


def _run(base: str, count: int, concurrency: int, judge: ContentJudge | None,
         digests: bool) -> tuple[float, float, dict[str, int]]:
    """(references/s of wall time, client CPU microseconds per reference, methods)."""
    options = ResolveOptions(concurrency=concurrency, timeout_s=10, retries=1)
    started, cpu = time.perf_counter(), time.process_time()
    summary = resolve(_jobs(base, count, digests), options, judge=judge)[("Bench", "photo")]
    if summary.resolved != count:
        raise SystemExit(f"not every reference resolved: {summary}")
    return (count / (time.perf_counter() - started), (time.process_time() - cpu) / count * 1e6,
            dict(summary.methods))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--refs", type=int, default=20000)
    parser.add_argument("--sampled-refs", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    ports: multiprocessing.Queue = multiprocessing.Queue()
    server = multiprocessing.Process(target=_serve, args=(ports,), daemon=True)
    server.start()
    try:
        base = f"http://127.0.0.1:{ports.get(timeout=10)}"
        plain, digest = [], []
        for _ in range(3):
            plain.append(_run(base, args.refs, args.concurrency, None, True))
            digest.append(_run(base, args.refs, args.concurrency, _judge(), True))
        sampled, sampled_cpu, sampled_methods = _run(base, args.sampled_refs, args.concurrency, _judge(), False)
    finally:
        server.terminate()
        server.join(5)
    best_plain, best_digest = max(r[0] for r in plain), max(r[0] for r in digest)
    cpu_plain, cpu_digest = min(r[1] for r in plain), min(r[1] for r in digest)
    print(f"FILE-01 without content : {best_plain:8.0f} refs/s, {cpu_plain:5.0f} us CPU a reference")
    print(f"FILE-01 with digests    : {best_digest:8.0f} refs/s, {cpu_digest:5.0f} us CPU a reference; methods "
          f"{digest[0][2]}")
    print(f"cost                    : wall {best_plain / best_digest:.2f}x, client CPU {cpu_digest / cpu_plain:.2f}x "
          "(targets: <= 1.15x, >= 2000 refs/s; the same requests are sent either way)")
    print(f"sampled leg (reported)  : {sampled:8.0f} refs/s, {sampled_cpu:5.0f} us CPU a reference; methods "
          f"{sampled_methods}, 1,024 bytes a side each")
    ok = best_digest >= 2000 and best_plain / best_digest <= 1.15
    print("BENCH:", "PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
