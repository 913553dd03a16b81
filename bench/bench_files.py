"""Benchmark of file resolution (FILE-01): throughput against a raw async loop, and memory at 1M references.

    .venv/bin/python bench/bench_files.py [--urls 20000] [--concurrency 64] [--refs 1000000] [--http-refs 0]

1. Throughput: a local HTTP server (a separate process, raw asyncio protocol, answers every HEAD with
   200 and a length) receives the same URLs from (a) a raw aiohttp HEAD loop with the same number of
   workers and (b) :func:`cutover.files.resolve.resolve`. Each side runs twice, interleaved; the best run counts.
   Targets: >= 2,000 URLs/s and >= 0.8x the raw loop, measured in the same run.
2. Memory: a fresh process streams ``--refs`` synthetic documents through discovery (``refs_in``), URL
   building and the resolver (1 in 10 answered "missing", so the capped failure lists are exercised) and
   reports its peak RSS. Jobs carry their answer (no request), except the first ``--http-refs``, which go
   to the local server. Target: < 200 MB at 1,000,000 references.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import resource
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cutover.files.refs import FileRef, refs_in
from cutover.files.resolve import Answer, Job, ResolveOptions, resolve
from cutover.files.urls import UrlScheme, adapter_url

_HEAD_ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 1024\r\nContent-Type: image/png\r\n\r\n"


class _Fast(asyncio.Protocol):
    """Answers each complete request head (HTTP/1.1 keep-alive) with 200 and a length, no body."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        count = self.buffer.count(b"\r\n\r\n")
        if count:
            self.buffer = self.buffer[self.buffer.rfind(b"\r\n\r\n") + 4:]
            self.transport.write(_HEAD_ANSWER * count)  # type: ignore[attr-defined]


def _serve(port_queue: multiprocessing.Queue) -> None:
    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(_Fast, "127.0.0.1", 0, backlog=1024)
        port_queue.put(server.sockets[0].getsockname()[1])
        await server.serve_forever()
    asyncio.run(main())


def _urls(base: str, count: int) -> list[str]:
    scheme = UrlScheme(adapter="s3", mount=f"{base}/parse", app_id="bench")
    return [adapter_url(scheme, f"{i:032x}_photo {i}.png") for i in range(count)]


async def raw_head_loop(urls: list[str], concurrency: int, ca_file: str = "") -> int:
    """The baseline: the same HEADs with a bare aiohttp loop, nothing recorded but the status (TLS verified
    against ``ca_file`` when given)."""
    ok = 0
    source = iter(urls)
    connector = aiohttp.TCPConnector(limit=concurrency,
                                     ssl=ssl.create_default_context(cafile=ca_file) if ca_file else True)
    async with aiohttp.ClientSession(connector=connector) as client:
        async def worker() -> None:
            nonlocal ok
            for url in source:
                async with client.head(url) as resp:
                    ok += resp.status == 200
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return ok


def _resolver(urls: list[str], concurrency: int) -> int:
    jobs = (Job(FileRef("Bench", str(i), "photo", "photo", url.rsplit("/", 1)[1]), url)
            for i, url in enumerate(urls))
    summary = resolve(jobs, ResolveOptions(concurrency=concurrency, timeout_s=10, retries=1))
    return summary[("Bench", "photo")].resolved


def throughput(base: str, count: int, concurrency: int) -> dict[str, float]:
    urls = _urls(base, count)
    raw, ours = [], []
    for _ in range(2):
        started = time.perf_counter()
        if asyncio.run(raw_head_loop(urls, concurrency)) != count:
            raise SystemExit("raw loop: not every URL answered 200")
        raw.append(count / (time.perf_counter() - started))
        started = time.perf_counter()
        if _resolver(urls, concurrency) != count:
            raise SystemExit("resolver: not every URL resolved")
        ours.append(count / (time.perf_counter() - started))
    return {"raw_urls_per_s": max(raw), "resolver_urls_per_s": max(ours), "ratio": max(ours) / max(raw)}


def _documents(count: int) -> Iterator[dict[str, object]]:
    """Synthetic Parse documents: a bare top-level file name, as Parse stores it."""
    for i in range(count):
        yield {"_id": f"{i:010d}", "photo": f"{i:032x}_photo.png"}


def memory_leg(base: str, refs: int, http_refs: int) -> dict[str, float]:
    """Run in a fresh process: stream ``refs`` references end to end and report peak RSS."""
    scheme = UrlScheme(adapter="s3", mount=f"{base}/parse", app_id="bench")

    def jobs() -> Iterator[Job]:
        for n, doc in enumerate(_documents(refs)):
            for ref in refs_in("Bench", doc, "photo"):
                url = adapter_url(scheme, ref.name)
                if n < http_refs:
                    yield Job(ref, url)
                else:
                    yield Job(ref, url, Answer(404, None) if n % 10 == 0 else Answer(200, 1024))
    started = time.perf_counter()
    summary = resolve(jobs(), ResolveOptions(concurrency=64, timeout_s=10, retries=1))[("Bench", "photo")]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"refs": summary.total, "resolved": summary.resolved, "missing": summary.missing,
            "listed_failures": len(summary.failures), "seconds": time.perf_counter() - started,
            "peak_rss_mb": peak_mb}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--urls", type=int, default=20000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--refs", type=int, default=1_000_000)
    parser.add_argument("--http-refs", type=int, default=0)
    parser.add_argument("--memory-leg", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--base", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_leg:
        print(json.dumps(memory_leg(args.base, args.refs, args.http_refs)))
        return
    ports: multiprocessing.Queue = multiprocessing.Queue()
    server = multiprocessing.Process(target=_serve, args=(ports,), daemon=True)
    server.start()
    try:
        base = f"http://127.0.0.1:{ports.get(timeout=10)}"
        speed = throughput(base, args.urls, args.concurrency)
        leg = subprocess.run([sys.executable, __file__, "--memory-leg", "--base", base, "--refs", str(args.refs),
                              "--http-refs", str(args.http_refs)], capture_output=True, text=True, check=True)
        memory = json.loads(leg.stdout)
    finally:
        server.terminate()
        server.join(5)
    _report(speed, memory)


def _report(speed: dict[str, float], memory: dict[str, float]) -> None:
    print(f"raw aiohttp loop : {speed['raw_urls_per_s']:8.0f} URLs/s")
    print(f"cutover resolver : {speed['resolver_urls_per_s']:8.0f} URLs/s  "
          f"(ratio {speed['ratio']:.2f}; targets >= 2000 URLs/s and >= 0.80)")
    print(f"memory leg       : {memory['refs']:,.0f} refs in {memory['seconds']:.1f} s, peak RSS "
          f"{memory['peak_rss_mb']:.0f} MB (target < 200 MB); {memory['missing']:,.0f} missing, "
          f"{memory['listed_failures']:.0f} listed")
    ok = (speed["resolver_urls_per_s"] >= 2000 and speed["ratio"] >= 0.8 and memory["peak_rss_mb"] < 200)
    print("BENCH:", "PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
