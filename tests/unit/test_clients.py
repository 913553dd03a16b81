"""CLI-01: SDK families, version comparison, and the server-side $group over a real wire server."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymongo
import pytest

from cutover.data.clients import (
    OTHER,
    is_old,
    minimum_label,
    mix_from_rows,
    parse_version,
    sdk_mix,
    sdk_of,
    sdk_table,
)
from cutover.errors import CouldNotVerify
from cutover.sandbox.cache_dir import default_cache_dir
from cutover.sandbox.process import free_port

REPO = Path(__file__).resolve().parents[2]
CACHE = default_cache_dir()  # $CUTOVER_CACHE_DIR, else the per-user cache


@pytest.mark.parametrize(("device", "sdk"), [
    ("ios", "iOS"), ("osx", "iOS"), ("tvos", "iOS"), ("android", "Android"), ("js", "JavaScript"),
    ("web", "JavaScript"), ("dotnet", ".NET"), ("winrt", ".NET"), ("winphone", ".NET"), ("WIN", ".NET"),
    ("embedded", OTHER), ("", OTHER),
])
def test_device_types_map_to_sdk_families(device: str, sdk: str) -> None:
    assert sdk_of(device) == sdk


@pytest.mark.parametrize(("sdk", "version", "old"), [
    ("iOS", "1.11.0", True), ("iOS", "1.12", False), ("iOS", "1.12.0", False), ("iOS", "1.9.9", True),
    ("Android", "1.12.9", True), ("Android", "1.13.0", False), ("Android", "1.13", False),
    ("JavaScript", "js1.6.13", True), ("JavaScript", "js1.6.14", False), ("JavaScript", "js1.10.0", False),
    ("JavaScript", "2.0.0", False), (".NET", "1.6.2", True), (".NET", "1.7.0", False), (".NET", "2.0", False),
    ("iOS", "", None), ("iOS", "beta", None), (OTHER, "0.1", None),
])
def test_versions_compare_numerically_against_the_minimum(sdk: str, version: str, old: bool | None) -> None:
    assert is_old(sdk, version) is old


def test_parse_version_takes_the_first_dotted_number() -> None:
    assert parse_version("js1.6.14") == (1, 6, 14) and parse_version("1.19.4-beta") == (1, 19, 4)
    assert parse_version("") is None


def test_rows_merge_missing_and_null_versions() -> None:
    mix = mix_from_rows([{"_id": {"deviceType": "ios", "parseVersion": "1.11.0"}, "n": 3},
                         {"_id": {"deviceType": "ios"}, "n": 1},
                         {"_id": {"deviceType": "ios", "parseVersion": None}, "n": 2},
                         {"_id": {"deviceType": "android", "parseVersion": "1.26.0"}, "n": 94}])
    assert (mix.total, mix.old, mix.old_share) == (100, 3, 0.03)
    assert sdk_table(mix, "iOS") == [["(none)", "ios", 3, "50.0%", "unknown"], ["1.11.0", "ios", 3, "50.0%", "yes"]]
    assert mix.sdks() == ["Android", "iOS"] and minimum_label("iOS") == "1.12" and minimum_label(OTHER) == "none"


@pytest.fixture(scope="module")
def db(wire: pymongo.MongoClient[Any]) -> Iterator[Any]:
    yield wire["cutover_unit_clients"]
    wire.drop_database("cutover_unit_clients")


def test_server_side_group_over_the_wire(db: Any) -> None:
    docs = ([{"deviceType": "ios", "parseVersion": "1.11.0"}] * 2
            + [{"deviceType": "ios", "parseVersion": "1.17.3"}] * 5
            + [{"deviceType": "js", "parseVersion": "js1.5.0"}] + [{"deviceType": "android"}] * 2)
    db["_Installation"].insert_many([dict(d) for d in docs])
    mix = sdk_mix(db, 10)
    assert (mix.total, mix.old) == (10, 3)
    assert {(g.sdk, g.version, g.count) for g in mix.groups} == {
        ("iOS", "1.11.0", 2), ("iOS", "1.17.3", 5), ("JavaScript", "js1.5.0", 1), ("Android", "", 2)}


def test_empty_collection_is_an_empty_mix(db: Any) -> None:
    assert sdk_mix(db.client["clients_empty"], 10).total == 0


def test_unreachable_server_cannot_be_verified() -> None:
    client: Any = pymongo.MongoClient(f"mongodb://127.0.0.1:{free_port()}/x", serverSelectionTimeoutMS=300)
    with pytest.raises(CouldNotVerify):
        sdk_mix(client["x"], 1)
    client.close()
