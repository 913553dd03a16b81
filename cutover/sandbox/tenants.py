"""The classes of a multi-tenant app: ``classes`` small classes of a few objects each (issue 31: an app of 1,000
classes, as apps that create a class per customer hold), on top of the seeded app of :mod:`cutover.sandbox.seed`.

Class k is ``Tenant0001`` ... (1-based, zero-padded to 4 digits): ``DOCS`` objects with a name, a seat count and
a flag, stored as Parse stores them. A few carry more, so that every criterion that iterates over classes meets
them at this breadth: every ``INDEX_EVERY``-th an index on ``name`` (DB-03, DB-04), every ``FILE_EVERY``-th a File
field ``logo`` whose files are in the S3 store (FILE-01, FILE-02), every ``RELATION_EVERY``-th a Relation
``members`` to ``_User`` (its `_Join:members:<class>` table). Pure functions of the seed, like the rest of the app.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

from cutover.sandbox.seed_docs import BASE, file_name, mongo_object_id, object_id, owned

DOCS = 3
INDEX_EVERY, FILE_EVERY, RELATION_EVERY = 50, 100, 100
FIELDS = {"name": "string", "seats": "number", "active": "boolean"}


def name(k: int) -> str:
    return f"Tenant{k:04d}"


def numbers(classes: int) -> range:
    return range(1, classes + 1)


def has_index(k: int) -> bool:
    return k % INDEX_EVERY == 1


def has_files(k: int) -> bool:
    return k % FILE_EVERY == 2


def has_relation(k: int) -> bool:
    return k % RELATION_EVERY == 3


def logo(seed: int, k: int, i: int) -> str:
    return file_name(seed, f"{name(k)}:{i}:logo.png")


def documents(seed: int, k: int, uid: Callable[[int], str]) -> Iterator[dict[str, Any]]:
    """The objects of class k, owned by users of the app (``uid(i)``)."""
    cls = name(k)
    for i in range(DOCS):
        at = BASE + timedelta(hours=k, minutes=i)
        doc: dict[str, Any] = {"_id": object_id(seed, cls, i), "name": f"{cls} seat group {i}", "seats": k * 10 + i,
                               "active": i != 1, **owned(uid(k + i)), "_created_at": at, "_updated_at": at}
        if has_files(k):
            doc["logo"] = logo(seed, k, i)
        yield doc


def joins(seed: int, k: int, uid: Callable[[int], str]) -> Iterator[dict[str, Any]]:
    """The `_Join:members:<class>` rows of class k: each object has two members."""
    cls = name(k)
    for i in range(DOCS):
        for j in range(2):
            yield {"_id": mongo_object_id(seed, "members", k, i, j), "relatedId": uid(k + i + j),
                   "owningId": object_id(seed, cls, i)}


def collections(seed: int, classes: int, uid: Callable[[int], str]) -> Iterator[tuple[str, Iterator[dict[str, Any]]]]:
    for k in numbers(classes):
        yield name(k), documents(seed, k, uid)
        if has_relation(k):
            yield f"_Join:members:{name(k)}", joins(seed, k, uid)


def indexes(classes: int) -> tuple[tuple[str, list[tuple[str, int]], dict[str, Any]], ...]:
    """(collection, keys, options) of the classes that have an index besides `_id_`."""
    return tuple((name(k), [("name", 1)], {"name": "name_1"}) for k in numbers(classes) if has_index(k))


def fields(classes: int) -> dict[str, dict[str, str]]:
    """Each class's `_SCHEMA` fields (Parse's type names)."""
    extra = {k: {**({"logo": "file"} if has_files(k) else {}),
                 **({"members": "relation<_User>"} if has_relation(k) else {})} for k in numbers(classes)}
    return {name(k): {**FIELDS, **extra[k]} for k in numbers(classes)}


def files(seed: int, classes: int) -> Iterator[str]:
    """The names of the logo files the classes refer to (uploaded to the source bucket)."""
    for k in numbers(classes):
        if has_files(k):
            yield from (logo(seed, k, i) for i in range(DOCS))
