"""Content-Type families: a file must keep the family of type it had on the source.

An ``image/png`` served as ``application/octet-stream`` is downloaded instead of shown; ``image/png`` served
as ``image/jpeg`` still displays. So the family is the top-level type for image, audio, video, font and text,
and the full type for ``application/*`` (``application/pdf`` and ``application/json`` behave differently).
Parse Server itself serves a file with the type of its name's extension (``mime.getType``), and stores
that type on upload: the extension is the expected type where the source store does not say.
"""
from __future__ import annotations

import functools
import mimetypes

_BY_MAJOR = frozenset({"image", "audio", "video", "font", "text"})
UNKNOWN = frozenset({"", "application/octet-stream", "binary/octet-stream"})


def bare(content_type: str) -> str:
    return content_type.split(";")[0].strip().lower()


@functools.lru_cache(maxsize=1024)
def family(content_type: str) -> str:
    """The family of a type ("" when none is stated or the type is a generic byte stream)."""
    kind = bare(content_type)
    if kind in UNKNOWN:
        return ""
    major = kind.split("/")[0]
    return major if major in _BY_MAJOR else kind


def by_extension(name: str) -> str:
    """The type a file's name implies, "" when its extension is unknown."""
    stem, dot, extension = name.rpartition(".")
    return _by_suffix(extension.lower()) if dot and stem else ""


@functools.lru_cache(maxsize=512)
def _by_suffix(extension: str) -> str:
    guessed, _ = mimetypes.guess_type(f"x.{extension}", strict=False)
    return guessed or ""


def changed_family(expected: str, served: str) -> bool:
    """Whether a file expected as ``expected`` is served as another family (unknown expected: never)."""
    want = family(expected)
    return bool(want) and family(served) != want
