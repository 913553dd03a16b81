"""FILE-01's content judgement for a reference that resolved: same bytes and same type family as the source.

Order, cheapest first: the digests both stores keep (:mod:`digests`, read from listings); for S3 objects a
HeadObject of both sides only where the listing cannot decide (an MD5 mismatch might be SSE-KMS, a
multipart ETag of another part size: ``x-amz-checksum-*`` may decide); else a sampled comparison of the
bytes (:mod:`sampling`): what the URL serves (or the target's GridFS) against the source store. The verdict
names the method, so a report says how each file was judged.
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cutover.files.content_type import by_extension, changed_family
from cutover.files.digests import OPAQUE_ENCRYPTION, Judgement, StoreObject, checksums_judgement, compare
from cutover.files.sampling import SampleOptions, Verdict, sample_compare
from cutover.files.store_index import HeadDetails

Reader = Callable[[str, int, int], bytes]          # (name, start, end) -> bytes, blocking
Header = Callable[[str], "HeadDetails | None"]     # name -> HeadObject details, blocking


@dataclass(frozen=True)
class Side:
    """One store as the judge sees it: a reader of byte ranges and, for S3, a HeadObject."""

    label: str
    read: Reader
    head: Header | None = None


@dataclass(frozen=True)
class ContentJudge:
    """Everything the judge needs for one run; :meth:`judge` is called once per resolved reference."""

    source: Side
    target: Side | None          # the target store read directly (GridFS jobs, or where no URL is served)
    options: SampleOptions

    async def judge(self, read_url: Any, name: str, source: StoreObject | None, target: StoreObject | None,
                    served_type: str | None) -> Verdict:
        """``read_url(start, end)``: an awaitable ranged read of what users get (None: read the target store)."""
        if source is None:
            return Verdict("resolved", "none", "not in the source store")
        expected = await self._expected_type(name, source, served_type)
        if served_type is not None and changed_family(expected, served_type):
            return Verdict("corrupt", "content-type", f"served as {served_type or 'no type'}, source type "
                           f"{expected}", expected_type=expected, served_type=served_type)
        judgement = await self._by_digests(name, source, target)
        if judgement.verdict != "undecided":
            return Verdict("resolved" if judgement.verdict == "same" else "corrupt", judgement.method,
                           judgement.reason)
        reader = read_url or self._target_reader(name)
        return await sample_compare(reader, self._source_reader(name), source.size, self.options, judgement.reason)

    async def _expected_type(self, name: str, source: StoreObject, served: str | None) -> str:
        expected = source.content_type or by_extension(name)
        if served is None or source.content_type or not changed_family(expected, served) or not self.source.head:
            return expected
        details = await asyncio.to_thread(self.source.head, name)   # the source's own type decides
        return details.content_type if details and details.content_type else expected

    async def _by_digests(self, name: str, source: StoreObject, target: StoreObject | None) -> Judgement:
        if target is None:
            return Judgement("undecided", "none", "the target store did not list it")
        judgement = compare(source, target)
        if judgement.verdict == "same" or judgement.method == "size" or not (self.source.head and self.target
                                                                              and self.target.head):
            return judgement
        heads = await asyncio.gather(asyncio.to_thread(self.source.head, name),
                                     asyncio.to_thread(self.target.head, name))
        return _with_heads(judgement, heads[0], heads[1])

    def _source_reader(self, name: str) -> Any:
        return lambda start, end: asyncio.to_thread(self.source.read, name, start, end)

    def _target_reader(self, name: str) -> Any:
        if self.target is None:
            raise AssertionError("no target store to read and no URL")
        target = self.target
        return lambda start, end: asyncio.to_thread(target.read, name, start, end)


def _with_heads(judgement: Judgement, source: HeadDetails | None, target: HeadDetails | None) -> Judgement:
    """Refine a digest verdict with HeadObject facts: opaque ETags (SSE-KMS) and additional checksums."""
    if source is None or target is None:
        return judgement
    checksum = checksums_judgement(source.checksums, target.checksums)
    if checksum is not None and checksum.verdict == judgement.verdict == "differs":
        return Judgement("differs", judgement.method, f"{judgement.reason}; {checksum.reason}")
    if checksum is not None:
        return checksum
    if judgement.method == "md5" and {source.encryption, target.encryption} & OPAQUE_ENCRYPTION:
        return Judgement("undecided", "md5", "an ETag of an SSE-KMS object is no MD5")
    return judgement
