"""The criteria registry is the single source of the catalogue: the committed docs/CHECKS.md is its rendering,
``cutover criteria`` prints the same text, and applicability says why a criterion does not apply."""
from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import pytest

import cutover_pytest.checks
from cutover.run.catalogue import render
from cutover.run.cli import main
from cutover.run.criteria import AREAS, CRITERIA, SEVERITIES, SOURCE_KINDS, STORES, not_applicable, severity_of

DOC = Path(__file__).resolve().parents[2] / "docs" / "CHECKS.md"
CHECKS = Path(cutover_pytest.checks.__file__).parent


def test_the_committed_catalogue_is_the_rendered_registry() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), "regenerate it: cutover criteria > docs/CHECKS.md"


def test_cutover_criteria_prints_the_catalogue(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["criteria"]) == 0
    assert capsys.readouterr().out == render()


def test_every_criterion_is_complete_and_listed_once_in_the_document() -> None:
    text = render()
    for criterion in CRITERIA.values():
        assert criterion.severity in SEVERITIES and criterion.area in AREAS
        assert criterion.title and len(criterion.text) > 40
        assert set(criterion.sources) <= set(SOURCE_KINDS) and set(criterion.stores or ()) <= set(STORES)
        assert len(re.findall(rf"^\| {criterion.id} \|", text, re.M)) == 1
    assert f"{len(CRITERIA)} criteria." in text


def test_the_catalogue_has_its_ids_in_order_and_severities_as_specified() -> None:
    assert list(CRITERIA)[:3] == ["DB-01", "DB-02", "DB-03"] and list(CRITERIA)[-1] == "CLI-01"
    assert len(CRITERIA) >= 25
    assert (severity_of("FILE-04"), severity_of("DB-06"), severity_of("API-01")) == ("minor", "major", "blocker")
    assert severity_of("DB-06", {"DB-06": "minor"}) == "minor"


def test_applicability_by_source_kind_and_store() -> None:
    assert not_applicable("DB-01", "export", None) == ""
    assert not_applicable("API-08", "rest", "s3") == ""
    reason = not_applicable("API-08", "export", "s3")
    assert reason.startswith("API-08 does not apply to source kind 'export': a Parse JSON export has no server")
    assert not_applicable("FILE-01", "mongodb", "gridfs") == ""
    assert not_applicable("FILE-01", "mongodb", "gcs") == ""
    # no declared store: every Parse app has one (GridFS by default), so the criterion applies and its checks
    # say they could not run
    assert not_applicable("FILE-01", "mongodb", None) == ""


def test_the_document_says_where_each_criterion_applies() -> None:
    rows = {m.group(1): m.group(2)
            for m in re.finditer(r"^\| ([A-Z]+-\d+) \|.*\| ([^|]+) \| `[a-z_]+\.py` \|$", render(), re.M)}
    assert rows["DB-01"] == "all sources"
    assert rows["API-08"] == "mongodb and rest sources"
    assert rows["FILE-03"] == "all sources; any store (needs a files store)"
    assert "| `test_data.py` |" in render().split("\n| DB-02 ")[0]   # and where its checks live


# -- the registry names each criterion's check module ---------------------------------------------------------
def marked_checks() -> dict[str, set[str]]:
    """module -> the criteria its check functions carry (``@pytest.mark.criterion("ID")``)."""
    found: dict[str, set[str]] = {}
    for path in sorted(CHECKS.glob("test_*.py")):
        module = importlib.import_module(f"cutover_pytest.checks.{path.stem}")
        for name, fn in vars(module).items():
            if name.startswith("test_") and inspect.isfunction(fn):
                marks = [m for m in getattr(fn, "pytestmark", []) if m.name == "criterion"]
                assert len(marks) == 1, f"{path.name}::{name}: a check carries exactly one criterion marker"
                found.setdefault(path.stem, set()).add(str(marks[0].args[0]))
    return found


def test_every_criterion_s_checks_live_in_the_module_the_registry_names() -> None:
    found = marked_checks()
    for cid, criterion in CRITERIA.items():
        assert (CHECKS / f"{criterion.checks}.py").is_file(), f"{cid}: no check module {criterion.checks}.py"
        assert cid in found.get(criterion.checks, set()), f"{cid}: no check of it in {criterion.checks}.py"
    for module, criteria in found.items():
        strays = sorted(cid for cid in criteria if CRITERIA[cid].checks != module)
        assert not strays, f"{module}.py holds checks of {strays}, which the registry places elsewhere"
