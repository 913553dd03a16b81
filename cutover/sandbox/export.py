"""Write a Parse JSON export from a Parse Server's REST API (read-only, master key), streamed class by class.

The shape is Parse.com's "Export data" zip, unpacked: ``<Class>.json`` holding ``{"results": [...]}`` (objects
as REST returns them), ``_Join:<field>:<Class>.json`` per relation (``{"owningId", "relatedId"}`` rows), plus
``_SCHEMA.json`` (``{"results": [<the /schemas entries>]}``) so DB-03/DB-07 can compare indexes and CLPs.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from cutover.data import RestReader, is_parse_class


def write_export(reader: RestReader, directory: Path, skip: Iterable[str] = ()) -> dict[str, int]:
    """Export every class (but ``skip``) into ``directory``; returns objects written per file."""
    directory.mkdir(parents=True, exist_ok=True)
    schemas, written, left_out = reader.schemas(), {}, set(skip)
    entries = [{"className": s.name, "fields": s.fields, "indexes": s.indexes, "classLevelPermissions": s.permissions}
               for s in schemas.values() if s.name not in left_out]
    written["_SCHEMA"] = write_results(directory / "_SCHEMA.json", entries)
    for cls in sorted(n for n in schemas if is_parse_class(n) and n not in left_out):
        written[cls] = write_results(directory / f"{cls}.json", reader.pages(cls, None, None))
        for name, _ in schemas[cls].relations():
            owners = [str(o["objectId"]) for o in reader.pages(cls, None, None, "objectId")]
            rows = ({"owningId": a, "relatedId": b} for a, b in reader.relation_rows(cls, name, owners))
            written[f"_Join:{name}:{cls}"] = write_results(directory / f"_Join:{name}:{cls}.json", rows)
    return written


def write_results(path: Path, items: Iterable[dict[str, Any]]) -> int:
    count = 0
    with path.open("w", encoding="utf-8") as out:
        out.write('{"results": [')
        for item in items:
            out.write(("," if count else "") + "\n" + json.dumps(item, ensure_ascii=False))
            count += 1
        out.write("\n]}\n")
    return count
