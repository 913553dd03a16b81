"""Concurrent resolution of file URLs: HEAD (or a ranged GET), bounded pool, timeouts, retries.

Jobs are pulled from an iterator by a fixed number of workers, so at most ``concurrency`` requests
are in flight and memory stays bounded whatever the number of references; only counters and the
``cap`` first failures in (objectId, path) order are kept, whatever order the answers came in, so a listing
is the same on every run. Outcomes: *resolved* (2xx, non-empty, size equal to the source's
when known), *missing* (the store answered: 4xx, empty body, wrong size) and *errors* (no usable
answer: timeout, connection failure, 5xx/429 still there after the retries): errors mean
"could not verify", never "resolved". A host that gives no answer at all (timeout, refused) to as many
requests in a row as run at once is not asked again in this resolution: its remaining URLs are errors at once,
instead of one timeout per URL. (aiohttp is imported where it is used, as in :mod:`cutover.files.url_answer`.)
"""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from cutover.errors import CouldNotVerify, TargetTimeout, TargetUnreachable
from cutover.files.content import ContentJudge
from cutover.files.digests import StoreObject
from cutover.files.refs import FileRef
from cutover.files.sampling import Verdict
from cutover.files.store_index import Counter
from cutover.files.url_answer import RETRY_STATUSES, Answer, ResolveOptions, ask_url, open_client
from cutover.files.urls import redact_url
from cutover.listing import Capped

if TYPE_CHECKING:
    import aiohttp

SILENT_STREAK = 8     # no answer to this many requests in a row (at least the concurrency): host not asked again
SizeLookup = Callable[[str], "int | None"]


@dataclass(frozen=True)
class Job:
    """One reference to check at ``url``; with ``answer`` already known (a store read directly), no request."""

    ref: FileRef
    url: str
    answer: Answer | None = None
    source: StoreObject | None = None    # the source store's listing of the file (size, digests)
    target: StoreObject | None = None    # the target store's


@dataclass(frozen=True)
class Failure:
    cls: str
    object_id: str
    field: str
    path: str
    url: str                 # redacted: no query string, credentials or declared secrets
    status: int | None
    reason: str
    outcome: str = "missing"  # missing | corrupt | error
    method: str = ""          # how the content was judged (md5, sampled, content-type...)
    size: int | None = None   # served
    source_size: int | None = None
    source_digest: str = ""
    target_digest: str = ""
    content_type: str = ""    # served

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
    corrupt: int = 0                              # resolved, but not the source's bytes or type family
    methods: tuple[tuple[str, int], ...] = ()     # content judged by each method (resolved references)
    sampled_bytes: int = 0

    @property
    def label(self) -> str:
        return f"{self.cls}.{self.field}"

    def missing_failures(self) -> list[Failure]:
        return [f for f in self.failures if f.outcome == "missing"]

    def corrupt_failures(self) -> list[Failure]:
        return [f for f in self.failures if f.outcome == "corrupt"]

    def error_failures(self) -> list[Failure]:
        return [f for f in self.failures if f.outcome == "error"]


@dataclass
class _Tally:
    failures: Capped[Failure]
    total: int = 0
    resolved: int = 0
    missing: int = 0
    errors: int = 0
    corrupt: int = 0
    methods: dict[str, int] = field(default_factory=dict)
    sampled_bytes: int = 0


@dataclass(frozen=True)
class Run:
    """What one resolution shares: options, the content judge (None: sizes only), the request counter, and
    ``complete``: what adds a job's store facts once its URL has answered (so the URL requests need not wait
    for the store listings)."""

    options: ResolveOptions
    judge: ContentJudge | None = None
    counter: Counter = field(default_factory=Counter)
    complete: Callable[[Job], Awaitable[Job]] | None = None


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


def resolve(jobs: Iterable[Job], options: ResolveOptions, sizes: SizeLookup | None = None,
            judge: ContentJudge | None = None, counter: Counter | None = None,
            complete: Callable[[Job], Awaitable[Job]] | None = None) -> dict[tuple[str, str], ResolveSummary]:
    """Resolve every job; summaries keyed by (class, field). Blocking wrapper around :func:`resolve_async`.

    With ``judge``, a resolved reference's content is also compared with the source's (:mod:`content`);
    ``counter`` counts the HTTP requests sent (``head url``, ``get url``); ``complete`` see :class:`Run`."""
    run = Run(options, judge, counter or Counter(), complete)
    return asyncio.run(resolve_async(jobs, run, sizes))


async def resolve_async(jobs: Iterable[Job], run: Run,
                        sizes: SizeLookup | None = None) -> dict[tuple[str, str], ResolveSummary]:
    tallies: dict[tuple[str, str], _Tally] = {}
    source = iter(jobs)
    options = run.options
    silent = _Silent(max(SILENT_STREAK, options.concurrency))
    async with open_client(options) as client:
        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(max(1, options.concurrency)):
                    group.create_task(_worker(source, client, run, sizes, tallies, silent))
        except BaseExceptionGroup as grouped:
            raise _first(grouped) from None
    return {key: _freeze(key, tally) for key, tally in sorted(tallies.items())}


async def _worker(source: Iterator[Job], client: aiohttp.ClientSession, run: Run,
                  sizes: SizeLookup | None, tallies: dict[tuple[str, str], _Tally], silent: _Silent) -> None:
    for job in source:   # one shared iterator: next() never awaits, so workers never interleave in it
        answer = job.answer or silent.answer_for(job.url) or await ask_url(client, job.url, run.options, run.counter)
        silent.note(job.url, answer)
        if run.complete is not None:
            job = await run.complete(job)
        expected = await _expected_size(job, sizes)
        verdict = None
        if run.judge is not None and classify(answer, expected)[0] == "resolved":
            verdict = await _judge(run, client, job, answer)
        _record(tallies, job, answer, expected, run.options, verdict)


async def _expected_size(job: Job, sizes: SizeLookup | None) -> int | None:
    if job.source is not None:
        return job.source.size
    return await asyncio.to_thread(sizes, job.ref.name) if sizes else None


async def _judge(run: Run, client: aiohttp.ClientSession, job: Job, answer: Answer) -> Verdict:
    """The content verdict; a store or URL that fails while being read makes it an error, not a pass."""
    import aiohttp

    assert run.judge is not None
    served = job.answer is None      # the URL was asked: its bytes and type are what users get
    read_url = (lambda start, end: read_range(client, job.url, start, end, run)) if served else None
    try:
        return await run.judge.judge(read_url, job.ref.name, job.source, job.target,
                                     answer.content_type if served else None)
    except (CouldNotVerify, aiohttp.ClientError, TimeoutError) as exc:
        return Verdict("error", "sampled", f"content could not be read: {type(exc).__name__}: {exc}")


async def read_range(client: aiohttp.ClientSession, url: str, start: int, end: int, run: Run) -> bytes:
    """Bytes ``start`` .. ``end`` - 1 of what the URL serves (a whole answer is cut to the range)."""
    import aiohttp

    run.counter.add("get url")
    timeout = aiohttp.ClientTimeout(total=run.options.timeout_s)
    async with client.get(url, timeout=timeout, headers={"Range": f"bytes={start}-{end - 1}"}) as resp:
        if resp.status not in (200, 206):
            raise CouldNotVerify(f"ranged GET answered HTTP {resp.status}")
        body = await resp.read()
    return body if resp.status == 206 else body[start:end]


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
            options: ResolveOptions, verdict: Verdict | None = None) -> None:
    ref = job.ref
    tally = tallies.setdefault((ref.cls, ref.field), _Tally(Capped(options.cap, key=lambda f: f.order)))
    tally.total += 1
    outcome, reason = classify(answer, expected)
    if outcome == "resolved" and verdict is not None:
        outcome, reason = verdict.outcome, verdict.reason
        tally.sampled_bytes += verdict.sampled_bytes
    if outcome == "resolved":
        tally.resolved += 1
        if verdict is not None:
            tally.methods[verdict.method] = tally.methods.get(verdict.method, 0) + 1
        return
    setattr(tally, _COUNTERS[outcome], getattr(tally, _COUNTERS[outcome]) + 1)
    tally.failures.add(_failure(job, answer, outcome, reason, verdict, options))


_COUNTERS = {"missing": "missing", "corrupt": "corrupt", "error": "errors"}


def _failure(job: Job, answer: Answer, outcome: str, reason: str, verdict: Verdict | None,
             options: ResolveOptions) -> Failure:
    ref, url = job.ref, redact_url(job.url, options.secrets)
    return Failure(ref.cls, ref.object_id, ref.field, ref.path, url, answer.status, reason, outcome,
                   method=verdict.method if verdict else "", size=answer.length,
                   source_size=job.source.size if job.source else None,
                   source_digest=job.source.describe() if job.source else "",
                   target_digest=job.target.describe() if job.target else "",
                   content_type=answer.content_type or "")


def _freeze(key: tuple[str, str], tally: _Tally) -> ResolveSummary:
    return ResolveSummary(key[0], key[1], tally.total, tally.resolved, tally.missing, tally.errors,
                          tuple(tally.failures.listed()), tally.corrupt, tuple(sorted(tally.methods.items())),
                          tally.sampled_bytes)


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
    if summary.errors and not summary.missing and not summary.corrupt:
        errors = summary.error_failures()
        first = "; ".join(f.describe() for f in errors[:5])
        kind = TargetTimeout if any(f.reason.startswith("timeout") for f in errors) else TargetUnreachable
        raise kind(
            f"{summary.label}: {summary.errors} of {summary.total} file URLs gave no usable answer "
            f"(first: {first}); check the store/server is reachable, or raise thresholds.timeout_s"
        )
