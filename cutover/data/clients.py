"""CLI-01: how many installations run a Parse SDK too old to be pointed at a new server URL.

The count is done by the server (one ``$group`` over ``_Installation`` by deviceType and parseVersion);
no installation document leaves the database. deviceType values map to SDK families the way the Parse SDKs
and push adapters spell them: the Apple SDK (ios, osx, tvos, watchos), Android, JavaScript (js, web) and
.NET (dotnet, winrt, winphone, win). The JS SDK prefixes its version (``js1.6.14``); only the first dotted
number of parseVersion is compared. An installation without a parseVersion, or with a deviceType outside
these families (e.g. ``embedded``), is counted and shown but not judged old: nothing says it is.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from cutover.errors import UnexpectedAnswer, as_could_not_verify

COLLECTION = "_Installation"
MINIMUMS: dict[str, tuple[int, ...]] = {"iOS": (1, 12), "Android": (1, 13, 0), "JavaScript": (1, 6, 14),
                                         ".NET": (1, 7, 0)}
FAMILIES = {"ios": "iOS", "osx": "iOS", "tvos": "iOS", "watchos": "iOS", "applewatch": "iOS",
            "android": "Android", "js": "JavaScript", "web": "JavaScript",
            "dotnet": ".NET", "winrt": ".NET", "winphone": ".NET", "win": ".NET"}
OTHER = "other"
_NUMBER = re.compile(r"\d+(?:\.\d+)*")


@dataclass(frozen=True)
class VersionCount:
    sdk: str                 # family (iOS, Android, JavaScript, .NET, other)
    device_type: str
    version: str             # parseVersion as stored ("" when absent)
    count: int
    old: bool | None         # None: cannot tell (no version, or no minimum for this SDK)


@dataclass(frozen=True)
class SdkMix:
    total: int
    groups: tuple[VersionCount, ...]

    @property
    def old(self) -> int:
        return sum(g.count for g in self.groups if g.old)

    @property
    def old_share(self) -> float:
        return self.old / self.total if self.total else 0.0

    def sdks(self) -> list[str]:
        return sorted({g.sdk for g in self.groups}, key=lambda s: (s == OTHER, s))

    def of(self, sdk: str) -> list[VersionCount]:
        return sorted((g for g in self.groups if g.sdk == sdk), key=lambda g: (-g.count, g.version))


def parse_version(text: str) -> tuple[int, ...] | None:
    match = _NUMBER.search(text or "")
    return tuple(int(part) for part in match.group().split(".")) if match else None


def is_old(sdk: str, version: str) -> bool | None:
    """True when ``version`` is below the SDK's minimum; None when it cannot be told."""
    minimum, parsed = MINIMUMS.get(sdk), parse_version(version)
    if minimum is None or parsed is None:
        return None
    width = max(len(minimum), len(parsed))
    return _pad(parsed, width) < _pad(minimum, width)


def sdk_of(device_type: str) -> str:
    return FAMILIES.get((device_type or "").strip().lower(), OTHER)


def sdk_mix(db: Any, timeout_s: float = 30.0) -> SdkMix:
    """Installations per deviceType and parseVersion, counted by the server."""
    pipeline = [{"$group": {"_id": {"deviceType": "$deviceType", "parseVersion": "$parseVersion"},
                            "n": {"$sum": 1}}}]
    rows = _aggregate(db[COLLECTION], pipeline, timeout_s)
    return mix_from_rows(rows)


def mix_from_rows(rows: list[dict[str, Any]]) -> SdkMix:
    merged: dict[tuple[str, str], int] = defaultdict(int)
    for row in rows:
        key = row.get("_id") or {}
        merged[(_text(key.get("deviceType")), _text(key.get("parseVersion")))] += int(row.get("n", 0))
    groups = tuple(VersionCount(sdk_of(d), d, v, n, is_old(sdk_of(d), v)) for (d, v), n in sorted(merged.items()))
    return SdkMix(sum(g.count for g in groups), groups)


def sdk_table(mix: SdkMix, sdk: str) -> list[list[object]]:
    """Rows (parseVersion, deviceType, installations, share of this SDK, too old) for one SDK."""
    groups = mix.of(sdk)
    total = sum(g.count for g in groups) or 1
    verdict = {True: "yes", False: "no", None: "unknown"}
    return [[g.version or "(none)", g.device_type or "(none)", g.count, f"{g.count / total:.1%}", verdict[g.old]]
            for g in groups]


def minimum_label(sdk: str) -> str:
    minimum = MINIMUMS.get(sdk)
    return ".".join(map(str, minimum)) if minimum else "none"


def _pad(version: tuple[int, ...], width: int) -> tuple[int, ...]:
    return version + (0,) * (width - len(version))


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _aggregate(collection: Any, pipeline: list[dict[str, Any]], timeout_s: float) -> list[dict[str, Any]]:
    try:
        return list(collection.aggregate(pipeline, maxTimeMS=int(timeout_s * 1000)))
    except Exception as exc:
        unverified = as_could_not_verify(exc)
        if unverified is not None:
            raise unverified from exc
        raise UnexpectedAnswer(f"$group over {COLLECTION} failed: {exc}") from exc
