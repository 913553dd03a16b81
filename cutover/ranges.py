"""The range of every number a targets file declares, kept beside each field of :mod:`cutover.model`.

A field's range rides in its dataclass metadata (``field(default=10.0, metadata=within(0, 3600, ...))``):
:mod:`cutover.run.config` checks it when the file is read, before any connection, and names the interval in its
message; ``docs/targets.md`` states the same interval in the key's row (a unit test holds the two together).
Intervals are written as mathematicians do: ``(0, 3600]`` excludes 0 and includes 3600.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

KEY = "range"   # the metadata key


@dataclass(frozen=True)
class Range:
    low: float
    high: float
    low_open: bool = False     # the low end itself is excluded: (0, ...]
    unit: str = ""             # "seconds", "bytes", ... for messages ("" for a plain integer or number)

    def holds(self, value: float) -> bool:
        above = value > self.low if self.low_open else value >= self.low
        return above and value <= self.high

    @property
    def interval(self) -> str:
        return f"{'(' if self.low_open else '['}{_number(self.low)}, {_number(self.high)}]"

    def expected(self, integer: bool) -> str:
        """What a message says is expected: "seconds in (0, 3600]", "an integer in [1, 1024]"."""
        what = self.unit or ("an integer" if integer else "a number")
        return f"{what} in {self.interval}"


def within(low: float, high: float, *, low_open: bool = False, unit: str = "") -> dict[str, Any]:
    """The metadata of a numeric field: its range."""
    return {KEY: Range(low, high, low_open, unit)}


def range_of(metadata: Any) -> Range | None:
    found = metadata.get(KEY) if metadata else None
    return found if isinstance(found, Range) else None


def _number(value: float) -> str:
    """3600 as 3600, 10 ** 9 as 10^9, 2 ** 63 - 1 as 2^63-1: an interval stays short and unambiguous."""
    if not float(value).is_integer():
        return f"{value:g}"
    number = int(value)
    for base in (10, 2):
        for exponent in range(6 if base == 10 else 32, 64):
            if number in (base ** exponent, base ** exponent - 1):
                return f"{base}^{exponent}" + ("-1" if number == base ** exponent - 1 else "")
    return str(number)
