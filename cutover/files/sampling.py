"""Sampled byte comparison, for objects no shared digest can judge: the same ranges read from both sides.

The plan is deterministic: an object up to ``min_bytes`` is read whole; a larger one in three windows
(start, middle, end) that together cover ``share`` of it, but never less than ``min_bytes``. The start and
the end are where truncation, a wrong header or a swapped file show first. A sample that agrees proves the
sampled bytes only: the verdict says how many of how many were compared.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

RangeRead = Callable[[int, int], Awaitable[bytes]]
WINDOWS = 3


@dataclass(frozen=True)
class Verdict:
    """How the content of one resolved reference was judged."""

    outcome: str                 # resolved | corrupt
    method: str                  # md5 | multipart-etag | crc32c | gridfs-chunks | x-amz-checksum-* | sampled | none
    reason: str = ""
    sampled_bytes: int = 0
    expected_type: str = ""
    served_type: str = ""


@dataclass(frozen=True)
class SampleOptions:
    share: float = 0.05          # share of each object's bytes compared when no digest decides (0..1)
    min_bytes: int = 65536       # never fewer bytes than this (whole objects up to this size)


def plan(size: int, options: SampleOptions) -> list[tuple[int, int]]:
    """(start, end) windows to compare, sorted and disjoint."""
    if size <= 0:
        return []
    want = min(size, max(options.min_bytes, int(size * max(0.0, min(1.0, options.share)))))
    if want >= size:
        return [(0, size)]
    width = -(-want // WINDOWS)
    middle = (size - width) // 2
    starts = sorted({0, middle, size - width})
    return [(s, min(size, s + width)) for s in starts]


async def sample_compare(target: RangeRead, source: RangeRead, size: int, options: SampleOptions,
                         why: str = "") -> Verdict:
    """Read each window from both sides; the first difference makes the verdict "corrupt"."""
    compared = 0
    for start, end in plan(size, options):
        got, want = await target(start, end), await source(start, end)
        compared += end - start
        if got != want:
            at = next((i for i, (a, b) in enumerate(zip(got, want, strict=False)) if a != b), min(len(got), len(want)))
            return Verdict("corrupt", "sampled", f"bytes differ from the source's at offset {start + at} "
                           f"(sampled {compared} of {size} bytes{_because(why)})", sampled_bytes=compared)
    return Verdict("resolved", "sampled", f"sampled {compared} of {size} bytes{_because(why)}",
                   sampled_bytes=compared)


def _because(why: str) -> str:
    return f"; {why}" if why else ""
