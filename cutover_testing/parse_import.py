"""Import a Parse export into a fresh database on a running sandbox's target MongoDB, by parse-server's own code.

The import runs ``parse_import.js`` with the sandbox's Node.js and its installed parse-server (9.10.0): the
server's startup, its schema validation, ``DatabaseController.create`` and ``addRelation`` write the storage
form, so what the suite then compares against the export was written by Parse Server, not by the suite's own
mapping (:mod:`cutover.data.rest_storage`). The plan names every file and what it holds; nothing is guessed.
"""
from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pymongo

from cutover.errors import SandboxError
from cutover.sandbox.node_env import ensure_parse_modules, node_runtime
from cutover.sandbox.stack import with_database

SCRIPT = Path(__file__).with_name("parse_import.js")
TIMEOUT_S = 120.0


@dataclass(frozen=True)
class ImportPlan:
    """Which export file holds which class (its parts in order) or relation, and the storage fields the real
    database carried that the export does not show (``extra[class][objectId]``)."""

    classes: dict[str, list[Path]]
    relations: list[tuple[str, str, list[Path]]] = field(default_factory=list)
    extra: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)

    def as_json(self, uri: str) -> dict[str, Any]:
        return {"databaseURI": uri, "appId": "imported", "masterKey": "import-only",
                "classes": [{"className": c, "files": [str(f) for f in files]} for c, files in self.classes.items()],
                "relations": [{"className": c, "field": f, "files": [str(p) for p in files]}
                              for c, f, files in self.relations],
                "extra": self.extra}


def import_export(sandbox: Any, db_name: str, plan: ImportPlan) -> str:
    """Import ``plan`` into ``db_name`` on the sandbox's target server; its URI. SandboxError if the import fails."""
    uri = with_database(sandbox.ep.target_uri, db_name)
    node = sandbox.node or node_runtime()
    installed = ensure_parse_modules(sandbox.cache_dir, node)
    plan_file = Path(sandbox.run_dir) / f"import-{db_name}.json"
    plan_file.write_text(json.dumps(plan.as_json(uri)), encoding="utf-8")
    done = subprocess.run([str(node.node), str(SCRIPT), str(plan_file)], cwd=installed, capture_output=True,
                          text=True, timeout=TIMEOUT_S, check=False,
                          env={**os.environ, **node.env(), "NODE_PATH": str(installed / "node_modules")})
    if done.returncode != 0:
        raise SandboxError(f"importing into {db_name} failed (exit {done.returncode}): {done.stderr[-2000:]}")
    return uri


def drop(uri: str) -> None:
    client: pymongo.MongoClient[Any] = pymongo.MongoClient(uri, serverSelectionTimeoutMS=5000)
    try:
        client.drop_database(client.get_default_database().name)
    finally:
        client.close()
