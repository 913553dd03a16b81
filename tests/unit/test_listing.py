"""Capped listings: the same items listed whatever order they arrive in, every one counted."""
from __future__ import annotations

import random

from cutover.files.storage import find_orphans
from cutover.listing import Capped


def test_the_first_by_key_are_listed_and_all_are_counted() -> None:
    items = [f"o{n:03d}" for n in range(50)]
    listings = set()
    for seed in range(5):
        shuffled = items[:]
        random.Random(seed).shuffle(shuffled)
        capped = Capped[str](4, key=str)
        for item in shuffled:
            capped.add(item)
        assert capped.total == 50
        listings.add(tuple(capped.listed()))
    assert listings == {("o000", "o001", "o002", "o003")}


def test_a_zero_cap_lists_nothing_but_counts() -> None:
    capped = Capped[int](0, key=int)
    for n in range(3):
        capped.add(n)
    assert (capped.total, capped.listed()) == (3, [])


def test_orphans_are_listed_by_name() -> None:
    found = find_orphans(["z.png", "a.png", "m.png", "b.png"], {"m.png"}, cap=2)
    assert (found.stored, found.orphans, found.listed) == (4, 3, ("a.png", "b.png"))
