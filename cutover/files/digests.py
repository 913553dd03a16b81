"""Content digests as each store keeps them, and how two of them compare (no byte is downloaded here).

What each store offers, and what it proves:
- S3 ``ETag``: the MD5 of the bytes for a single-part upload (32 hex digits); for a multipart upload it is
  ``md5(part md5s)-N``, which depends on the part size: equal multipart ETags prove equal content, unequal
  ones prove nothing unless the part sizes are known to match. Objects encrypted with SSE-KMS or SSE-C have
  ETags that are no MD5 at all. ``x-amz-checksum-*`` (HeadObject with checksum mode on) are compared when
  both sides hold the same full-object algorithm.
- GCS ``md5Hash`` (absent on composite objects) and ``crc32c`` (always), both in a listing.
- GridFS: the ``md5`` field of ``fs.files`` where a driver wrote one (deprecated, rarely present), else a
  digest of the chunks computed by the server (see :mod:`cutover.files.gridfs_state`), comparable only
  between two GridFS stores with the same ``chunkSize``.
A comparison answers "same", "differs" or "undecided" (then the content is sampled, :mod:`sampling`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_MD5 = re.compile(r"^[0-9a-f]{32}$")
_MULTIPART = re.compile(r"^([0-9a-f]{32})-(\d+)$")
OPAQUE_ENCRYPTION = frozenset({"aws:kms", "aws:kms:dsse"})


@dataclass(frozen=True, slots=True)
class StoreObject:
    """One object as a store describes it: size and the digests it keeps (empty: none)."""

    size: int
    etag: str = ""               # S3 ETag without quotes
    md5: str = ""                # hex MD5 of the whole content (GCS md5Hash, GridFS md5)
    crc32c: str = ""             # GCS crc32c (base64, as GCS gives it)
    chunks: str = ""             # GridFS: "<chunkSize>:<server-side digest of the chunks>"
    content_type: str = ""       # where the listing gives it (GCS, GridFS); S3 listings do not

    @property
    def plain_md5(self) -> str:
        """The MD5 of the content when this object states one."""
        if self.md5:
            return self.md5
        return self.etag if _MD5.match(self.etag) else ""

    def describe(self) -> str:
        parts = [f"size {self.size}"]
        parts += [f"{k} {v}" for k, v in (("etag", self.etag), ("md5", self.md5), ("crc32c", self.crc32c),
                                          ("chunks", self.chunks)) if v]
        return ", ".join(parts)


@dataclass(frozen=True)
class Judgement:
    """The verdict of a digest comparison and the method that gave it."""

    verdict: str                 # same | differs | undecided
    method: str                  # md5 | multipart-etag | crc32c | gridfs-chunks | x-amz-checksum-* | ...
    reason: str = ""


def multipart(etag: str) -> tuple[str, int] | None:
    """(digest, parts) of a multipart ETag, else None."""
    found = _MULTIPART.match(etag)
    return (found.group(1), int(found.group(2))) if found else None


def compare(source: StoreObject, target: StoreObject) -> Judgement:
    """Compare two objects by the digests both stores keep; never "same" without a digest that proves it."""
    if source.size != target.size:
        return Judgement("differs", "size", f"{target.size} bytes, source has {source.size}")
    for judge in (_md5, _multipart_etag, _crc32c, _chunks):
        judgement = judge(source, target)
        if judgement is not None:
            return judgement
    return Judgement("undecided", "none", "no digest both stores keep")


def _md5(source: StoreObject, target: StoreObject) -> Judgement | None:
    a, b = source.plain_md5, target.plain_md5
    if not a or not b:
        return None
    return Judgement("same" if a == b else "differs", "md5", "" if a == b else f"MD5 {b}, source has {a}")


def _multipart_etag(source: StoreObject, target: StoreObject) -> Judgement | None:
    a, b = multipart(source.etag), multipart(target.etag)
    if a is None or b is None or a[1] != b[1]:
        return None
    if a == b:
        return Judgement("same", "multipart-etag")
    # same part count, different ETag: the part size may differ (8 MiB vs 10 MiB), so this proves nothing
    return Judgement("undecided", "multipart-etag", f"multipart ETags differ ({b} vs {a}), part sizes unknown")


def _crc32c(source: StoreObject, target: StoreObject) -> Judgement | None:
    a, b = source.crc32c, target.crc32c
    if not a or not b:
        return None
    return Judgement("same" if a == b else "differs", "crc32c", "" if a == b else f"CRC32C {b}, source has {a}")


def _chunks(source: StoreObject, target: StoreObject) -> Judgement | None:
    a, b = source.chunks, target.chunks
    if not a or not b or a.split(":")[0] != b.split(":")[0]:
        return None    # digests of different chunk sizes are not comparable
    return Judgement("same" if a == b else "differs", "gridfs-chunks",
                     "" if a == b else "GridFS chunk digest differs from the source's")


def checksums_judgement(source: dict[str, str], target: dict[str, str]) -> Judgement | None:
    """Compare ``x-amz-checksum-*`` values (HeadObject with checksum mode): full-object ones only."""
    for algorithm in sorted(set(source) & set(target)):
        a, b = source[algorithm], target[algorithm]
        if "-" in a or "-" in b:
            continue    # a composite checksum of parts: depends on the part size, as a multipart ETag
        method = f"x-amz-checksum-{algorithm}"
        return Judgement("same" if a == b else "differs", method,
                         "" if a == b else f"{method} {b}, source has {a}")
    return None
