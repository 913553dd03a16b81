"""DB-08's type tables are what the installed parse-server (9.10.0) itself does, asked through Node.js.

``cutover.data.field_types`` writes down, by hand, three things parse-server decides: how a ``/schemas`` type is
stored in `_SCHEMA` (``MongoSchemaCollection.parseFieldTypeToMongoFieldType``), how a stored type reads back
(``mongoFieldToParseSchemaField``, reached through the exported ``_TESTmongoSchemaToParseSchema``; ``map`` is the
old spelling of ``object``), and the default columns of every system class (``SchemaController.defaultColumns``);
``cutover.data.export_layout`` the class names an export file may carry that start with ``_`` (``systemClasses``
and the internal classes).
The unit tests only round-trip the tables against themselves; here each one is compared with the package's own
answer, so a table that drifts from the server fails.
"""
from __future__ import annotations

import json
import os
import subprocess
from typing import Any

import pytest

from cutover.data import field_types
from cutover.data.export_layout import SYSTEM_CLASSES
from cutover.data.internal_classes import INTERNAL_CLASSES
from cutover.sandbox import node_env
from cutover.sandbox.cache_dir import default_cache_dir

REST_TYPES = ["String", "Number", "Boolean", "Date", "Object", "Array", "GeoPoint", "File", "Bytes", "Polygon"]
TARGETS = {"Pointer": "Player", "Relation": "_User"}
STORED = ["string", "number", "boolean", "date", "object", "map", "array", "geopoint", "file", "bytes", "polygon",
          "*Player", "relation<_User>"]
IMPLICIT = sorted(field_types.IMPLICIT)
SCRIPT = """
const Collection = require('parse-server/lib/Adapters/Storage/Mongo/MongoSchemaCollection.js').default;
const { defaultColumns, systemClasses } = require('parse-server/lib/Controllers/SchemaController.js');
const [rest, targets, stored, implicit] = JSON.parse(process.argv[1]);
const toStored = {};
for (const type of [...rest, ...Object.keys(targets)]) {
  toStored[type] = Collection.parseFieldTypeToMongoFieldType({ type, targetClass: targets[type] });
}
const schema = { _id: 'Probe' };
stored.forEach((type, i) => { schema['f' + i] = type; });
const read = Collection._TESTmongoSchemaToParseSchema(schema).fields;
const toRest = Object.fromEntries(stored.map((type, i) => [type, read['f' + i]]));
const defaults = {};
for (const [cls, fields] of Object.entries(defaultColumns)) {
  if (cls === '_Default') continue;
  defaults[cls] = {};
  for (const [name, spec] of Object.entries(fields)) {
    if (!implicit.includes(name)) defaults[cls][name] = Collection.parseFieldTypeToMongoFieldType(spec);
  }
}
console.log(JSON.stringify({ toStored, toRest, defaults, systemClasses }));
"""


@pytest.fixture(scope="module")
def parse_server() -> dict[str, Any]:
    """What the installed parse-server answers for every type and every system class's default columns."""
    node = node_env.node_runtime()
    installed = node_env.ensure_parse_modules(default_cache_dir(), node)
    done = subprocess.run([str(node.node), "-e", SCRIPT, json.dumps([REST_TYPES, TARGETS, STORED, IMPLICIT])],
                          cwd=installed, capture_output=True, text=True, timeout=60, check=False,
                          env={**os.environ, **node.env(), "NODE_PATH": str(installed / "node_modules")})
    assert done.returncode == 0, done.stderr[-2000:]
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


def test_every_rest_type_is_stored_as_parse_server_stores_it(parse_server: dict[str, Any]) -> None:
    ours = {kind: field_types.storage_type({"type": kind, "targetClass": TARGETS.get(kind, "")})
            for kind in [*REST_TYPES, *TARGETS]}
    assert ours == parse_server["toStored"]


def test_every_stored_type_reads_back_as_parse_server_reads_it(parse_server: dict[str, Any]) -> None:
    assert {stored: field_types.rest_type(stored) for stored in STORED} == parse_server["toRest"]


def test_the_default_columns_are_parse_servers(parse_server: dict[str, Any]) -> None:
    assert parse_server["defaults"] == field_types.DEFAULT_COLUMNS


def test_the_system_class_names_an_export_may_hold_are_parse_servers(parse_server: dict[str, Any]) -> None:
    assert set(parse_server["systemClasses"]) | INTERNAL_CLASSES == SYSTEM_CLASSES
