"""DB-01 while a declared live sync runs: the exact count of documents created before a cutoff.

Inserts in flight cannot disturb the number of documents whose `_created_at` is older than the cutoff (one
settle delay before the first read), but deletes can: a document deleted on the source stays on the target
for the sync's lag. So the counts are read as a bracket: the source's count, then after one settle delay the
target's, then the source's again. The target then reflects the source at some moment between the two source
reads, and old documents only disappear, so a sound sync gives ``after <= target <= before``. When no delete
happened between the two source reads (``before == after``) the bracket is exact: the target must hold exactly
that many. The second source read is made only when the target holds fewer than the first read (at or above
it the verdict does not depend on it). Each class's target count waits one settle delay after its own source
count, no longer. A round whose source moved is read again (all classes of one process together, one delay
per round); after the last round a moving class is judged by its bracket. Classes whose
documents carry no `_created_at` (`_SCHEMA`, `_Join:*`, GridFS, `_Idempotency`) keep the plain count within
``count_tolerance``.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

CREATED = "_created_at"


@dataclass(frozen=True)
class Bracket:
    """Counts of one class's documents created before ``cutoff``: source before, target, source after."""

    cls: str
    cutoff: datetime
    before: int
    target: int
    after: int
    rounds: int

    @property
    def exact(self) -> bool:
        return self.before == self.after

    @property
    def ok(self) -> bool:
        return self.target == self.before if self.exact else self.after <= self.target <= self.before

    def describe(self) -> str:
        when = self.cutoff.isoformat(timespec="seconds")
        if self.exact:
            return (f"created before {when}: target holds {self.target}, source {self.before} "
                    f"(difference {self.target - self.before:+d})")
        return (f"created before {when}: target holds {self.target}, source {self.before} then {self.after} "
                f"(deletes in flight through {self.rounds} rounds; a sound sync holds between the two)")


Counter = Callable[[str, datetime], int]   # (class, cutoff) -> documents created before the cutoff


def brackets(classes: Iterable[str], source: Counter, target: Counter, settle_s: float, rounds: int = 2,
             clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep
             ) -> dict[str, Bracket]:
    """The brackets of ``classes`` (one settle delay per round, all classes together)."""
    cutoff = datetime.fromtimestamp(clock() - settle_s, UTC)
    moving, found = list(classes), {}
    for round_no in range(1, max(1, rounds) + 1):
        before, read_at = {}, {}
        for cls in moving:
            before[cls], read_at[cls] = source(cls, cutoff), clock()
        for cls in moving:
            # one settle delay after this class's own source read (the later classes' counts took some of it)
            sleep(max(0.0, read_at[cls] + settle_s - clock()))
            theirs = target(cls, cutoff)
            # only a target below the source needs the second source read: at or above it, the verdict is the same
            # whatever the source did since (equal: sound either way; above: more than the source ever held)
            after = source(cls, cutoff) if theirs < before[cls] else before[cls]
            found[cls] = Bracket(cls, cutoff, before[cls], theirs, after, round_no)
        moving = [cls for cls in moving if not found[cls].exact]
        if not moving:
            break
    return found
