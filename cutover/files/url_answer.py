"""What one file URL answers: a HEAD (a ranged GET where HEAD is refused), with timeouts and retries.

429 and 5xx answers and dropped connections are retried with exponential backoff (``Retry-After`` honoured,
capped at ``backoff_max_s``); a timeout is not retried (each attempt would cost the whole timeout again).
aiohttp is imported where it is used: it costs every run's start ~0.2 s, and most runs never ask a file URL.
"""
from __future__ import annotations

import asyncio
import dataclasses
import random
import ssl
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cutover.files.store_index import Counter

if TYPE_CHECKING:
    import aiohttp

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})   # 503 is also S3's SlowDown
HEAD_UNSUPPORTED = frozenset({405, 501})


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
    content_type: str | None = None   # the Content-Type served (None: not served over HTTP)


def open_client(options: ResolveOptions) -> aiohttp.ClientSession:
    """One HTTP client for a run: connection pool sized to the concurrency, no cookies."""
    import aiohttp

    tls: ssl.SSLContext | bool = ssl.create_default_context(cafile=options.ca_file) if options.ca_file else True
    connector = aiohttp.TCPConnector(limit=max(1, options.concurrency), ssl=tls, ttl_dns_cache=300)
    return aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar(),
                                 auto_decompress=False)


async def ask_url(client: aiohttp.ClientSession, url: str, options: ResolveOptions,
                counter: Counter | None = None) -> Answer:
    """HEAD the URL (ranged GET where HEAD is refused), retrying 429/5xx and dropped connections."""
    import aiohttp

    timeout = aiohttp.ClientTimeout(total=options.timeout_s)
    attempt = 0
    while True:
        if counter is not None:
            counter.add("head url")
        answer = await _ask_once(client, url, timeout)
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
    return backoff_delay(attempt, answer.retry_after, options.backoff_s, options.backoff_max_s)


def backoff_delay(attempt: int, retry_after: float | None, base_s: float, max_s: float) -> float:
    """Exponential from ``base_s``, at least the server's Retry-After, at most ``max_s``, jittered down to half."""
    delay = min(max_s, base_s * 2 ** attempt)
    if retry_after is not None:
        delay = min(max_s, max(delay, retry_after))
    return delay * (0.5 + random.random() / 2)


def retry_after_s(value: str) -> float | None:
    """A Retry-After header given in seconds (the HTTP-date form is not used by the stores)."""
    return float(value) if value.isdigit() else None


async def _ask_once(client: aiohttp.ClientSession, url: str, timeout: aiohttp.ClientTimeout) -> Answer:
    import aiohttp

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
        return Answer(resp.status, resp.content_length, retry_after=_retry_after(resp),
                      content_type=resp.headers.get("Content-Type", ""))


async def _ranged_get(client: aiohttp.ClientSession, url: str, timeout: aiohttp.ClientTimeout) -> Answer:
    async with client.get(url, timeout=timeout, headers={"Range": "bytes=0-0"}) as resp:
        length = _range_total(resp.headers.get("Content-Range", "")) if resp.status == 206 else resp.content_length
        if resp.status != 206:
            resp.close()     # a server ignoring Range sends the whole file: do not download it
        return Answer(resp.status, length, retry_after=_retry_after(resp),
                      content_type=resp.headers.get("Content-Type", ""))


def _range_total(content_range: str) -> int | None:
    """Total size from ``bytes 0-0/1234``."""
    total = content_range.rpartition("/")[2].strip()
    return int(total) if total.isdigit() else None


def _retry_after(resp: aiohttp.ClientResponse) -> float | None:
    return retry_after_s(resp.headers.get("Retry-After", ""))
