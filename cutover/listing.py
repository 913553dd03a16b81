"""Capped listings that do not depend on the order facts arrive in (concurrent answers, a server's natural
order): the ``cap`` first items by a sort key (class, field, ``_id``...) are kept, so a listing is the same on
every run; memory stays bounded at twice the cap."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class Capped(Generic[T]):
    """Everything added is counted; the ``cap`` first by ``key`` are listed."""

    def __init__(self, cap: int, key: Callable[[T], Any]) -> None:
        self.cap, self.key = max(0, cap), key
        self.total = 0
        self._items: list[T] = []

    def add(self, item: T) -> None:
        self.total += 1
        self._items.append(item)
        if len(self._items) > 2 * self.cap:
            self._items = self.listed()

    def listed(self) -> list[T]:
        return sorted(self._items, key=self.key)[:self.cap]
