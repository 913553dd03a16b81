"""The corpus of MongoDB server replies (tests/fixtures/mongo_replies, see its README): loading and selecting."""
from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import UTC
from functools import cache
from pathlib import Path
from typing import Any

from bson import json_util
from bson.json_util import JSONOptions

CORPUS = Path(__file__).resolve().parent / "fixtures" / "mongo_replies"
OPTIONS = JSONOptions(tz_aware=True, tzinfo=UTC)
RELEASES = ("4.4", "5.0", "6.0", "7.0", "8.0")          # every command, standalone and replica set
SOURCE_ERA = ("3.6", "4.0")                              # an mLab-era source: its catalogue
SHARDED = "8.0-sharded"


@dataclass(frozen=True)
class Reply:
    release: str              # the directory: "4.4", "3.6", "8.0-sharded"
    name: str                 # the file name without .json: "explain_find", "serverStatus_replset"
    provenance: dict[str, Any]
    expect: dict[str, Any]
    document: dict[str, Any]

    @property
    def command(self) -> str:
        return self.name.split("_")[0]

    @property
    def id(self) -> str:
        return f"{self.release}/{self.name}"

    @property
    def server(self) -> str:
        """How cutover's messages name this server: "MongoDB 8.0.4"."""
        return f"MongoDB {self.provenance['server']}"

    def reply(self) -> dict[str, Any]:
        """A fresh copy of the reply document (tests may change it)."""
        return copy.deepcopy(self.document)

    def batch(self) -> list[dict[str, Any]]:
        """The documents of a cursor reply (listIndexes, listCollections)."""
        return list(self.reply()["cursor"]["firstBatch"])


@cache
def everything() -> tuple[Reply, ...]:
    return tuple(_load(path) for path in sorted(CORPUS.glob("*/*.json")))


def _load(path: Path) -> Reply:
    body = json_util.loads(path.read_text(encoding="utf-8"), json_options=OPTIONS)
    return Reply(path.parent.name, path.stem, body["provenance"], body["expect"], body["reply"])


def of(command: str) -> list[Reply]:
    """Every reply to ``command`` (the part of the file name before the first underscore)."""
    return [r for r in everything() if r.command == command]


def one(release: str, name: str) -> Reply:
    return next(r for r in everything() if r.release == release and r.name == name)


def ids(replies: list[Reply]) -> list[str]:
    return [r.id for r in replies]
