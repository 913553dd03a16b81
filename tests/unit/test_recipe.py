"""Every criterion has every part docs/WRITING_CHECKS.md says a criterion needs, and prose about the catalogue
cannot go stale.

The parts: a registry entry (``cutover/run/criteria.py``), the catalogue row (``docs/CHECKS.md``, generated), a
check module marking it (``tests/unit/test_criteria.py`` proves those three), a planted defect that trips it and
a scenario that proves it: a defect of the catalogue (``cutover_testing.defects.DEFECTS``) listing the criterion,
planted in a scenario module and described in ``tests/sandbox/test_defects.py``'s ``EXPECTED``; or, for a defect
planted another way (a server variant, a fault, a target setting, a change made in the scenario), the scenario
named in :data:`PLANTED_ELSEWHERE` below.
"""
from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

import pytest

from cutover.run.criteria import CRITERIA
from cutover.security.rights import NEEDS
from cutover_testing import rest_defects  # noqa: F401  (registers the REST-source defects: the whole catalogue)
from cutover_testing.defects import DEFECTS
from tests.sandbox.test_defects import EXPECTED
from tests.unit.test_criteria import marked_checks

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "tests" / "scenarios"
CHECKS = ROOT / "cutover_pytest" / "checks"

# criterion -> the scenarios (tests/scenarios/<module>::<test>) that plant a defect another way than through the
# catalogue and prove the criterion fails, naming what was planted
PLANTED_ELSEWHERE: dict[str, tuple[str, ...]] = {
    "DB-04": ("test_data_defects.py::test_long_index_values_fail_db04_only",),
    "DB-05": ("test_data_defects.py::test_queries_without_an_index_fail_db05_only",),
    "DB-06": ("test_data_defects.py::test_storage_quota_too_small_fails_db06_only",
              "test_health_window.py::test_each_planted_defect_is_caught_and_named_once_per_run_under_xdist"),
    "API-01": ("test_rest_defects.py::test_planted_defect_fails_naming_the_step",),
    "API-02": ("test_probes.py::test_a_trigger_rejecting_probe_objects_is_a_clear_api_02_failure",
               "test_rest_defects.py::test_planted_defect_fails_naming_the_step"),   # the JS SDK's front
    "API-03": ("test_rest_defects.py::test_planted_defect_fails_naming_the_step",),
    "API-04": ("test_rest_defects.py::test_planted_defect_fails_naming_the_step",),
    "API-05": ("test_rest_defects.py::test_planted_defect_fails_naming_the_step",
               "test_probes.py::test_report_mode_leaves_exactly_what_the_record_lists_and_fails_api_05"),
    "API-06": ("test_rest_defects.py::test_planted_defect_fails_naming_the_step",),
    "API-07": ("test_rest_defects.py::test_planted_defect_fails_naming_the_step",),
    "API-08": ("test_live_defects.py::test_real_defects_are_caught_under_live_traffic",),
    "FILE-04": ("test_files_defects.py::test_planted_defects_fail_naming_object_and_field",),
    "TLS-01": ("test_transport_defects.py::test_plaintext_database_across_regions_fails_tls01",),
    "TLS-02": ("test_transport_defects.py::test_bad_public_certificate_or_protocol_fails_tls02",),
    "TLS-03": ("test_transport_defects.py::test_production_plain_http_public_url_fails_tls03",),
    "SEC-01": ("test_transport_defects.py::test_planted_master_key_fails_sec01",),
    "SEC-02": ("test_transport_defects.py::test_the_admin_database_fails_sec02",),
    "CLI-01": ("test_transport_defects.py::test_raised_share_of_old_sdks_fails_cli01",),
}


@functools.cache
def scenario_text(module: str) -> str:
    return (SCENARIOS / module).read_text(encoding="utf-8")


@functools.cache
def check_names() -> dict[str, set[str]]:
    """criterion -> the names of its check functions (``test_user_round_trip``)."""
    found: dict[str, set[str]] = {}
    for module in marked_checks():
        tree = ast.parse((CHECKS / f"{module}.py").read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                marker = next((d for d in node.decorator_list if "criterion" in ast.unparse(d)), None)
                if marker is not None and isinstance(marker, ast.Call):
                    found.setdefault(str(ast.literal_eval(marker.args[0])), set()).add(node.name)
    return found


def planted_in_scenarios(criterion: str) -> list[str]:
    """The catalogue defects listing ``criterion`` that a scenario module plants (names in quotes)."""
    modules = sorted(p.name for p in SCENARIOS.glob("test_*.py"))
    return [name for name, defect in DEFECTS.items() if criterion in defect.criteria
            and any(f'"{name}"' in scenario_text(m) for m in modules)]


def mentions(module: str, criterion: str) -> bool:
    """The scenario module names the criterion, one of its checks, or a catalogue defect tripping it."""
    words = {f'"{criterion}', *check_names().get(criterion, ()),
             *(f'"{d}"' for d, defect in DEFECTS.items() if criterion in defect.criteria)}
    return any(word in scenario_text(module) for word in words)


@pytest.mark.parametrize("criterion", sorted(CRITERIA))
def test_a_planted_defect_and_its_scenario_prove_the_criterion_fails(criterion: str) -> None:
    catalogue = planted_in_scenarios(criterion)
    elsewhere = PLANTED_ELSEWHERE.get(criterion, ())
    assert catalogue or elsewhere, (
        f"{criterion}: no scenario plants a defect that trips it: add a defect to cutover_testing/defects.py listing "
        f"{criterion} and plant it in tests/scenarios (docs/WRITING_CHECKS.md), or name the scenario that plants it "
        f"another way in PLANTED_ELSEWHERE ({Path(__file__).name})")
    for node in elsewhere:
        module, test = node.split("::")
        assert (SCENARIOS / module).is_file(), f"{criterion}: no scenario module {module}"
        defined = {n.name for n in ast.parse(scenario_text(module)).body if isinstance(n, ast.FunctionDef)}
        assert test in defined, f"{criterion}: {module} defines no {test}"
        assert mentions(module, criterion), f"{criterion}: {module} never names it, one of its checks or a defect of it"


def test_every_catalogue_defect_is_described_planted_and_names_known_criteria() -> None:
    assert set(DEFECTS) == set(EXPECTED), "tests/sandbox/test_defects.py's EXPECTED: what each defect changes"
    unknown = {name: d.criteria for name, d in DEFECTS.items() if not set(d.criteria) <= set(CRITERIA)}
    assert not unknown, f"defects naming criteria the registry does not hold: {unknown}"
    unplanted = sorted(name for name, d in DEFECTS.items() if name not in
                       {p for c in d.criteria for p in planted_in_scenarios(c)})
    # planted nowhere (yet): each is only proven to change what it says (tests/sandbox/test_defects.py)
    assert unplanted == ["long_index_value", "old_sdk_share"], unplanted


def test_every_criterion_reading_the_database_names_the_rights_it_needs() -> None:
    """Without them the preflight could not say which criteria a user's missing privilege leaves unverified."""
    reading = sorted(cid for cid, c in CRITERIA.items() if c.area in ("Data", "Clients"))
    named = {cid for need in NEEDS for cid in need.criteria}
    assert [cid for cid in reading if cid not in named] == [], "name them in cutover/security/rights.py NEEDS"


def test_the_recipe_lists_every_file_a_criterion_touches() -> None:
    recipe = (ROOT / "docs" / "WRITING_CHECKS.md").read_text(encoding="utf-8")
    for path in ("cutover/run/criteria.py", "docs/CHECKS.md", "cutover/data/facade.py", "document_source",
                 "cutover_pytest/checks/", "cutover_testing/defects.py", "tests/scenarios/",
                 "tests/sandbox/test_defects.py", "EXPECTED", "tests/unit/test_recipe.py", "PLANTED_ELSEWHERE",
                 "cutover/security/rights.py", "cutover roles", "cutover/run/evidence.py",
                 "cutover/run/remediation.py", "cutover/run/shards.py"):
        assert path in recipe, f"docs/WRITING_CHECKS.md does not name {path}"


# -- prose about the catalogue that cannot go stale -------------------------------------------------------------
PROSE = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")),
         *(p for package in ("cutover", "cutover_pytest") for p in sorted((ROOT / package).rglob("*.py")))]
_RANGE = re.compile(r"\b([A-Z]+)-(\d\d)\.\.(?:\1-)?(\d\d)\b")
_COUNT = re.compile(r"\b\d+(?:/\d+)? criteria\b")


def _prose(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.name != "CHECKS.md" else ""   # CHECKS.md is generated


def test_no_prose_counts_the_criteria() -> None:
    counted = [f"{p.relative_to(ROOT)}: {m.group(0)}" for p in PROSE for m in _COUNT.finditer(_prose(p))]
    assert not counted, f"a count of criteria goes stale with the next criterion; say n/N or 'every': {counted}"


def test_a_range_from_an_area_s_first_criterion_ends_at_its_last() -> None:
    """'DB-01..DB-07' reads as 'all of them' and is wrong once DB-08 exists; a subset (API-02..07) may stay."""
    last = {prefix: max(int(cid.split("-")[1]) for cid in CRITERIA if cid.startswith(prefix + "-"))
            for prefix in {cid.split("-")[0] for cid in CRITERIA}}
    stale = [f"{p.relative_to(ROOT)}: {m.group(0)}" for p in PROSE for m in _RANGE.finditer(_prose(p))
             if m.group(2) == "01" and int(m.group(3)) != last.get(m.group(1), -1)]
    assert not stale, f"ranges that no longer cover their area (write DB-* or name the criteria): {stale}"
