"""cutover.data.sources: REST counts against a real local HTTP server, JSON exports, choosing the source."""
from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from cutover.data.sources import ExportSource, MongoSource, RestSource, open_source
from cutover.errors import ConfigError, TargetTimeout, TargetUnreachable, UnexpectedAnswer
from cutover.model import Database, Source, Target, Thresholds
from cutover.sandbox.process import free_port
from tests.threaded import serving

COUNTS = {"GameScore": 385, "_User": 30}


class ParseLike(BaseHTTPRequestHandler):
    """Answers like Parse Server: /schemas and /classes/<C>?count=1&limit=0 with the master key only."""

    def do_GET(self) -> None:
        url = urlparse(self.path)
        if self.headers.get("X-Parse-Master-Key") != "mk" or self.headers.get("X-Parse-Application-Id") != "app":
            return self._send(403, {"error": "unauthorized"})
        if url.path == "/parse/schemas":
            return self._send(200, {"results": [{"className": c, "fields": {}} for c in COUNTS]})
        cls = url.path.rsplit("/", 1)[-1]
        if cls == "Slow":
            time.sleep(1.5)
        query = parse_qs(url.query)
        assert query == {"count": ["1"], "limit": ["0"]}, query
        return self._send(200, {"results": [], "count": COUNTS.get(cls, 0)})

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError):  # the client gave up (the timeout test)
            self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def parse_url() -> Iterator[str]:
    with serving(ParseLike) as url:
        yield url + "/parse"


def test_rest_source_lists_and_counts(parse_url: str) -> None:
    src = RestSource(parse_url, "app", "mk", timeout=5)
    assert src.class_names() == ["GameScore", "_User"]
    assert (src.count("GameScore"), src.count("_User"), src.count("Nothing")) == (385, 30, 0)


def test_rest_source_wrong_key_is_unexpected_answer(parse_url: str) -> None:
    with pytest.raises(UnexpectedAnswer, match="master key"):
        RestSource(parse_url, "app", "wrong", timeout=5).count("GameScore")


def test_rest_source_timeout(parse_url: str) -> None:
    with pytest.raises(TargetTimeout):
        RestSource(parse_url, "app", "mk", timeout=0.3).count("Slow")


def test_rest_source_unreachable() -> None:
    with pytest.raises(TargetUnreachable):
        RestSource(f"http://127.0.0.1:{free_port()}/parse", "app", "mk", timeout=2).class_names()


def test_export_source(tmp_path: Path) -> None:
    (tmp_path / "GameScore.json").write_text(json.dumps({"results": [{"objectId": "a"}, {"objectId": "b"}]}))
    (tmp_path / "_User.json").write_text(json.dumps({"results": []}))
    (tmp_path / "Broken.json").write_text("{not json")
    src = ExportSource(tmp_path)
    assert src.class_names() == ["Broken", "GameScore", "_User"]
    assert (src.count("GameScore"), src.count("_User"), src.count("Absent")) == (2, 0, 0)
    with pytest.raises(UnexpectedAnswer, match=r"Broken\.json"):
        src.count("Broken")


def target(**source: Any) -> Target:
    return Target(name="t", source=Source(**source), database=Database(uri="mongodb://x/db"),
                  thresholds=Thresholds(timeout_s=3))


def test_open_source_by_kind(tmp_path: Path) -> None:
    session = SimpleNamespace(source_db="DB")
    mongo = open_source(target(kind="mongodb", uri="mongodb://s/db"), session)
    assert isinstance(mongo, MongoSource) and mongo.budget_s == 180     # the target's budget: 60 x timeout_s
    rest = open_source(target(kind="rest", endpoint="http://p/parse", app_id="a", master_key="m"), session)
    assert isinstance(rest, RestSource) and rest.timeout == 3
    assert isinstance(open_source(target(kind="export", export_dir=str(tmp_path)), session), ExportSource)
    with pytest.raises(ConfigError, match="master_key"):
        open_source(target(kind="rest", endpoint="http://p/parse"), session)
    with pytest.raises(ConfigError, match=r"source\.kind"):
        open_source(target(kind="ftp"), session)
