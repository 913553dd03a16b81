"""Which requirements of one of the package's extras (``pip install 'cutover[sandbox]'``) are not installed.

Read from the installed distribution's own metadata, so the list follows pyproject.toml without a copy here.
A requirement with extras of its own (``moto[server]``) needs those extras' requirements too (one level).
"""
from __future__ import annotations

from importlib import metadata

from packaging.requirements import Requirement

DISTRIBUTION = "cutover"


def missing(extra: str, distribution: str = DISTRIBUTION) -> list[str]:
    """Requirement names of ``extra`` that are not installed (empty when all are, or when the metadata of
    ``distribution`` is unavailable, e.g. a source tree on sys.path without an install)."""
    try:
        wanted = _extra_requirements(distribution, extra)
    except metadata.PackageNotFoundError:
        return []
    return [str(req.name) + (f"[{','.join(sorted(req.extras))}]" if req.extras else "")
            for req in wanted if not _installed(req)]


def _extra_requirements(distribution: str, extra: str) -> list[Requirement]:
    found = []
    for text in metadata.requires(distribution) or []:
        req = Requirement(text)
        if req.marker is not None and req.marker.evaluate({"extra": extra}) \
                and not req.marker.evaluate({"extra": ""}):
            found.append(req)
    return found


def _installed(req: Requirement) -> bool:
    try:
        metadata.version(req.name)
    except metadata.PackageNotFoundError:
        return False
    return all(_installed(sub) for extra in req.extras for sub in _extra_requirements(req.name, extra))
