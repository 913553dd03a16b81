"""The Dashboard export fixture (tests/fixtures/exports/dashboard_parts) is what the Parse JavaScript SDK writes.

Parse Dashboard exports a class as a JSON array of ``obj._toFullJSON()`` with ``__type`` deleted
(``Browser.react.js``, ``confirmExportSelectedRows``; tests/fixtures/exports/README.md). The fixture was written by
hand; here the SDK pinned for the suite (``cutover/rest/sdk``, installed into ``<cache>/parse-sdk``) rebuilds every
object of it from its fields and writes it as the Dashboard does: each must come out equal to the fixture's, key
for key and in the same order (``objectId`` and ``className`` last), so the reader is tested on the SDK's output,
not only on what this project wrote.
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from cutover.rest.sdk_client import SDK_PACKAGES
from cutover.sandbox import node_env
from cutover.sandbox.cache_dir import default_cache_dir

PARTS = Path(__file__).resolve().parents[1] / "fixtures" / "exports" / "dashboard_parts"
SCRIPT = """
const Parse = require('parse/node');
Parse.initialize('export-shape');
const objects = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const written = objects.map(({ className, ...fields }) => {
  const full = Parse.Object.fromJSON({ className, ...fields })._toFullJSON();
  delete full.__type;
  return full;
});
console.log(JSON.stringify(written));
"""


def fixture_objects() -> list[dict[str, Any]]:
    return [obj for path in sorted(PARTS.glob("*.json")) for obj in json.loads(path.read_text(encoding="utf-8"))]


@pytest.fixture(scope="module")
def sdk_written() -> list[dict[str, Any]]:
    """Every fixture object as the SDK writes it for a Dashboard export, in the fixture's order."""
    node = node_env.node_runtime()
    installed = node_env.ensure_pinned(default_cache_dir(), SDK_PACKAGES, node)
    done = subprocess.run([str(node.node), "-e", SCRIPT], input=json.dumps(fixture_objects()), cwd=installed,
                          capture_output=True, text=True, timeout=60, check=False,
                          env={**os.environ, **node.env(), "NODE_PATH": str(installed / "node_modules")})
    assert done.returncode == 0, done.stderr[-2000:]
    written: list[dict[str, Any]] = json.loads(done.stdout)
    return written


def test_every_dashboard_fixture_object_is_what_the_sdk_writes(sdk_written: list[dict[str, Any]]) -> None:
    ours = fixture_objects()
    assert len(ours) == 7
    assert sdk_written == ours
    assert [list(obj) for obj in sdk_written] == [list(obj) for obj in ours]
