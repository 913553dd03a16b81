"""Concurrent resolution of file URLs: HEAD (or a ranged GET), bounded pool, timeouts, retries.

Jobs are pulled from an iterator by a fixed number of workers, so at most ``concurrency`` requests
are in flight and memory stays bounded whatever the number of references; only counters and the
``cap`` first failures in (objectId, path) order are kept, whatever order the answers came in, so a listing
is the same on every run. Outcomes: *resolved* (2xx, non-empty, size equal to the source's
when known), *missing* (the store answered: 4xx, empty body, wrong size) and *errors* (no usable
answer: timeout, connection failure, 5xx/429 still there after the retries): errors mean
"could not verify", never "resolved". A host that gives no answer at all (timeout, refused) to as many
requests in a row as run at once is not asked again in this resolution: its remaining URLs are errors at once,
instead of one timeout per URL.
"""
from __future__ import annotations

import asyncio
import dataclasses
import random
import ssl
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import aiohttp

from cutover.errors import CouldNotVerify, TargetTimeout, TargetUnreachable
from cutover.files.refs import FileRef
from cutover.files.urls import redact_url
from cutover.listing import Capped

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})   # 503 is also S3's SlowDown
HEAD_UNSUPPORTED = frozenset({405, 501})
SILENT_STREAK = 8     # no answer to this many requests in a row (at least the concurrency): host not asked again
SizeLookup = Callable[[str], "int | None"]


@dataclass(frozen=True)
class ResolveOptions:
    concurrency: int = 32
    timeout_s: float = 10.0
    retries: int = 3
    backoff_s: float = 0.2
    backoff_max_s: float = 5.0
    cap: int = 100
    secrets: tuple[str, ...] = field(default=(), repr=False)
    ca_file: str = ""


@dataclass(frozen=True)
class Answer:
    """What one URL answered after retries: a status and length, or an error text."""

    status: int | None = None
    length: int | None = None
    error: str = ""
    retry_after: float | None = None
    attempts: int = 1
    missing: str = ""        # set by a store read directly: why the file is definitely not whole


@dataclass(frozen=True)
class Job:
    """One reference to check at ``url``; with ``answer`` already known (a store read directly), no request."""

    ref: FileRef
    url: str
    answer: Answer | None = None


@dataclass(frozen=True)
class Failure:
    cls: str
    object_id: str
    field: str
    path: str
    url: str                 # redacted: no query string, credentials or declared secrets
    status: int | None
    reason: str
    outcome: str = "missing"  # missing | error

    def describe(self) -> str:
        return f"{self.object_id} {self.path}: {self.reason} ({self.url})"

    @property
    def order(self) -> tuple[str, str, str]:
        return self.object_id, self.path, self.url


@dataclass(frozen=True)
class ResolveSummary:
    """Per (class, field): how many references, and how they resolved."""

    cls: str
    field: str
    total: int = 0
    resolved: int = 0
    missing: int = 0
    errors: int = 0
    failures: tuple[Failure, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.cls}.{self.field}"

    def missing_failures(self) -> list[Failure]:
        return [f for f in self.failures if f.outcome == "missing"]

    def error_failures(self) -> list[Failure]:
        return [f for f in self.failures if f.outcome == "error"]


@dataclass
class _Tally:
    failures: Capped[Failure]
    total: int = 0
    resolved: int = 0
    missing: int = 0
    errors: int = 0


def classify(answer: Answer, expected_size: int | None) -> tuple[str, str]:
    """("resolved" | "missing" | "error", reason) for one answer."""
    if answer.missing:
        return "missing", answer.missing
    if answer.status is None:
        return "error", answer.error or "no answer"
    if answer.status in RETRY_STATUSES:
        return "error", f"HTTP {answer.status} after {answer.attempts} attempts"
    if not 200 <= answer.status < 300:
        return "missing", f"HTTP {answer.status}"
    if answer.length is None:
        return "error", f"HTTP {answer.status} without a length"
    if answer.length == 0:
        return "missing", "empty (0 bytes)"
    if expected_size is not None and answer.length != expected_size:
        return "missing", f"{answer.length} bytes, source has {expected_size}"
    return "resolved", ""


def resolve(jobs: Iterable[Job], options: ResolveOptions,
            sizes: SizeLookup | None = None) -> dict[tuple[str, str], ResolveSummary]:
    """Resolve every job; summaries keyed by (class, field). Blocking wrapper around :func:`resolve_async`."""
    return asyncio.run(resolve_async(jobs, options, sizes))


async def resolve_async(jobs: Iterable[Job], options: ResolveOptions,
                        sizes: SizeLookup | None = None) -> dict[tuple[str, str], ResolveSummary]:
    tallies: dict[tuple[str, str], _Tally] = {}
    source = iter(jobs)
    silent = _Silent(max(SILENT_STREAK, options.concurrency))
    async with open_client(options) as client:
        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(max(1, options.concurrency)):
                    group.create_task(_worker(source, client, options, sizes, tallies, silent))
        except BaseExceptionGroup as grouped:
            raise _first(grouped) from None
    return {key: _freeze(key, tally) for key, tally in sorted(tallies.items())}


def open_client(options: ResolveOptions) -> aiohttp.ClientSession:
    """One HTTP client for a run: connection pool sized to the concurrency, no cookies."""
    tls: ssl.SSLContext | bool = ssl.create_default_context(cafile=options.ca_file) if options.ca_file else True
    connector = aiohttp.TCPConnector(limit=max(1, options.concurrency), ssl=tls, ttl_dns_cache=300)
    return aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar(),
                                 auto_decompress=False)


async def _worker(source: Iterator[Job], client: aiohttp.ClientSession, options: ResolveOptions,
                  sizes: SizeLookup | None, tallies: dict[tuple[str, str], _Tally], silent: _Silent) -> None:
    for job in source:   # one shared iterator: next() never awaits, so workers never interleave in it
        expected = await asyncio.to_thread(sizes, job.ref.name) if sizes else None
        answer = job.answer or silent.answer_for(job.url) or await probe(client, job.url, options)
        silent.note(job.url, answer)
        _record(tallies, job, answer, expected, options)


@dataclass
class _Silent:
    """Hosts that gave no answer (timeout, refused connection) to ``limit`` requests in a row."""

    limit: int
    streaks: dict[str, int] = field(default_factory=dict)

    def answer_for(self, url: str) -> Answer | None:
        host = urlsplit(url).netloc
        if self.streaks.get(host, 0) < self.limit:
            return None
        return Answer(error=f"not asked: {host} gave no answer to {self.limit} requests in a row")

    def note(self, url: str, answer: Answer) -> None:
        host = urlsplit(url).netloc
        if answer.status is not None:
            self.streaks[host] = 0
        elif answer.error.startswith(("timeout", "connection failed")):
            self.streaks[host] = self.streaks.get(host, 0) + 1


def _record(tallies: dict[tuple[str, str], _Tally], job: Job, answer: Answer, expected: int | None,
            options: ResolveOptions) -> None:
    ref = job.ref
    tally = tallies.setdefault((ref.cls, ref.field), _Tally(Capped(options.cap, key=lambda f: f.order)))
    tally.total += 1
    outcome, reason = classify(answer, expected)
    if outcome == "resolved":
        tally.resolved += 1
        return
    if outcome == "missing":
        tally.missing += 1
    else:
        tally.errors += 1
    url = redact_url(job.url, options.secrets)
    tally.failures.add(Failure(ref.cls, ref.object_id, ref.field, ref.path, url, answer.status, reason, outcome))


async def probe(client: aiohttp.ClientSession, url: str, options: ResolveOptions) -> Answer:
    """HEAD the URL (ranged GET where HEAD is refused), retrying 429/5xx and dropped connections."""
    timeout = aiohttp.ClientTimeout(total=options.timeout_s)
    attempt = 0
    while True:
        answer = await _probe_once(client, url, timeout)
        if not _retryable(answer) or attempt == options.retries:
            return answer if attempt == 0 else dataclasses.replace(answer, attempts=attempt + 1)
        await asyncio.sleep(_backoff(attempt, answer, options))
        attempt += 1


def _retryable(answer: Answer) -> bool:
    if answer.status is not None:
        return answer.status in RETRY_STATUSES
    # a peer that let the timeout pass is not asked again: each attempt would cost the full timeout
    return not answer.error.startswith("timeout")


def _backoff(attempt: int, answer: Answer, options: ResolveOptions) -> float:
    delay = min(options.backoff_max_s, options.backoff_s * 2 ** attempt)
    if answer.retry_after is not None:
        delay = min(options.backoff_max_s, max(delay, answer.retry_after))
    return delay * (0.5 + random.random() / 2)


async def _probe_once(client: aiohttp.ClientSession, url: str, timeout: aiohttp.ClientTimeout) -> Answer:
    try:
        answer = await _head(client, url, timeout)
        if answer.status in HEAD_UNSUPPORTED or (answer.status == 200 and answer.length is None):
            answer = await _ranged_get(client, url, timeout)
        return answer
    except TimeoutError:
        return Answer(error=f"timeout after {timeout.total:g} s")
    except aiohttp.ClientError as exc:
        return Answer(error=f"connection failed: {type(exc).__name__}: {exc}")


async def _head(client: aiohttp.ClientSession, url: str, timeout: aiohttp.ClientTimeout) -> Answer:
    async with client.head(url, timeout=timeout, allow_redirects=True) as resp:
        return Answer(resp.status, resp.content_length, retry_after=_retry_after(resp))


async def _ranged_get(client: aiohttp.ClientSession, url: str, timeout: aiohttp.ClientTimeout) -> Answer:
    async with client.get(url, timeout=timeout, headers={"Range": "bytes=0-0"}) as resp:
        length = _range_total(resp.headers.get("Content-Range", "")) if resp.status == 206 else resp.content_length
        if resp.status != 206:
            resp.close()     # a server ignoring Range sends the whole file: do not download it
        return Answer(resp.status, length, retry_after=_retry_after(resp))


def _range_total(content_range: str) -> int | None:
    """Total size from ``bytes 0-0/1234``."""
    total = content_range.rpartition("/")[2].strip()
    return int(total) if total.isdigit() else None


def _retry_after(resp: aiohttp.ClientResponse) -> float | None:
    value = resp.headers.get("Retry-After", "")
    return float(value) if value.isdigit() else None


def _freeze(key: tuple[str, str], tally: _Tally) -> ResolveSummary:
    return ResolveSummary(key[0], key[1], tally.total, tally.resolved, tally.missing, tally.errors,
                          tuple(tally.failures.listed()))


def _first(grouped: BaseExceptionGroup[BaseException]) -> BaseException:
    leaves = list(_leaves(grouped))
    return next((e for e in leaves if isinstance(e, CouldNotVerify)), leaves[0])


def _leaves(exc: BaseException) -> Iterator[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            yield from _leaves(inner)
    else:
        yield exc


def require_verified(summary: ResolveSummary) -> None:
    """Raise when some references could not be checked and none is definitely missing.

    A definite miss is a FAIL even if other URLs errored; errors alone are "could not verify".
    """
    if summary.errors and not summary.missing:
        errors = summary.error_failures()
        first = "; ".join(f.describe() for f in errors[:5])
        kind = TargetTimeout if any(f.reason.startswith("timeout") for f in errors) else TargetUnreachable
        raise kind(
            f"{summary.label}: {summary.errors} of {summary.total} file URLs gave no usable answer "
            f"(first: {first}); check the store/server is reachable, or raise thresholds.timeout_s"
        )
