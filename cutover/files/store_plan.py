"""Per store, list the bucket or ask only for the objects being checked, whichever the counts favour.

A listing costs a request per 1,000 objects (S3 ListObjectsV2, GCS objects.list), a lookup a request per
reference (HeadObject, a GCS object GET). Neither S3 nor GCS says how many objects a bucket holds, so the
choice is made while listing (the ski-rental rule): the listing goes on while its pages stay fewer than the
references it would save a lookup for; a bucket still unfinished then holds more than 1,000 objects a
reference, the pages read are dropped and each reference is looked up instead. Worst case, a bucket just over
that bound: about twice the cheaper of the two, never a million-object listing for a handful of references.

The references are an estimate made before any class is read (:meth:`FilesFacade.reference_estimate`: each class's
estimated document count times its file fields, from collection metadata); ``None`` (no estimate) always lists.
What was chosen, and why, is a fact of every FILE-01 (``store_plans``).
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Protocol

from cutover.files.digests import StoreObject
from cutover.files.store_index import Page

PAGE_OBJECTS = 1000     # objects a listing request returns at most (S3 and GCS)


@dataclass(frozen=True)
class StorePlan:
    """How one store's facts are read: ``listing`` (the whole bucket) or ``lookups`` (one request a reference)."""

    store: str                  # "source s3:bucket", "target gcs:bucket/prefix"
    strategy: str               # listing | lookups
    references: int | None      # the run's estimated references (None: no estimate, always listed)
    pages: int                  # listing requests made (those of an abandoned listing included)
    objects: int                # objects those pages held

    @property
    def reason(self) -> str:
        refs = "no estimate of the references" if self.references is None else \
            f"about {self.references:,} references to check"
        if self.strategy == "listing":
            return f"listed in {self.pages:,} requests ({self.objects:,} objects), {refs}"
        return (f"looked up, one request a reference: {refs}, and the listing was still unfinished after "
                f"{self.pages:,} requests ({self.objects:,} objects), so the bucket holds more than "
                f"{PAGE_OBJECTS:,} objects a reference")

    def fact(self) -> dict[str, object]:
        return {"strategy": self.strategy, "references": self.references, "list_requests": self.pages,
                "objects_listed": self.objects, "reason": self.reason}


def page_budget(references: int | None) -> int | None:
    """Listing requests worth making before lookups cost less: as many as the references (at least one)."""
    return None if references is None else max(1, references)


def keep_listing(pages_read: int, references: int | None) -> bool:
    budget = page_budget(references)
    return budget is None or pages_read < budget


class Sink(Protocol):
    """Where listed objects go (:class:`cutover.files.listing_file.IndexWriter`)."""

    def add(self, items: list[tuple[str, StoreObject]]) -> None: ...

    def finish(self, plan: StorePlan) -> Mapping[str, StoreObject] | None: ...


@dataclass(frozen=True)
class Listed:
    """A store's plan and, for a listing, its index (None: the references are looked up)."""

    plan: StorePlan
    index: Mapping[str, StoreObject] | None


def list_or_lookup(store: str, pages: Iterator[Page], references: int | None, sink: Sink) -> Listed:
    """List ``pages`` into ``sink`` while :func:`keep_listing` allows; stop early for lookups (no more requests)."""
    read = objects = 0
    for items, more in pages:
        read, objects = read + 1, objects + len(items)
        sink.add(items)
        if more and not keep_listing(read, references):
            plan = StorePlan(store, "lookups", references, read, objects)
            return Listed(plan, sink.finish(plan))
    plan = StorePlan(store, "listing", references, read, objects)
    return Listed(plan, sink.finish(plan))
