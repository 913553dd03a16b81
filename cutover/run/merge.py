"""``cutover merge``: N shard runs of one gate (``--shard K/N``) give one verdict.

Each shard's run directory must be intact (its manifest; its signature when it was signed, checked with the
merge's key when one is given) and be a shard of the same gate: same target, configuration digest, suite
version, shard count and plan (which checks, and the counts and DB-02 partitions they checked: record.json's
``plan`` digest). The coverage gate applies across the shards: every check of the plan must
have been run by exactly one shard. A missing shard leaves its checks not run, a shard given twice (or two
shards claiming one check) leaves them unverifiable: either way their criteria are "not run" and the gate is
INCOMPLETE (non-zero exit) unless something failed. Shards that are not of one gate are a usage error.
"""
from __future__ import annotations

import functools
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cutover.errors import ConfigError
from cutover.run.check_record import CheckRecord, WaiverNote
from cutover.run.criteria import CRITERIA
from cutover.run.gate import Gate, judge
from cutover.run.run_directory import verify_manifest
from cutover.run.shards import ShardPlan, union_digest
from cutover.run.signing import check_signature
from cutover.run.verification import CriterionResult, criterion_results, describe_exclusions

_SAME = ("target", "config_digest", "suite_version")   # a shard of another gate differs in one of these


@dataclass(frozen=True)
class ShardRun:
    run_dir: Path
    record: dict[str, Any]
    plan: ShardPlan
    checks: tuple[CheckRecord, ...] = ()   # record.json's tests, read once when the shard was loaded


@dataclass
class Merged:
    shards: list[ShardRun]
    records: dict[str, CheckRecord]
    criteria: dict[str, CriterionResult]
    gate: Gate
    coverage: list[str] = field(default_factory=list)   # what is wrong with the shards' coverage, plain words


def load_shard(run_dir: Path, key: Any = None, fallback: Any = None) -> ShardRun:
    """One shard's run: intact, signed when it says so (checked with ``key``; a signed shard without ``key``
    with ``fallback``, the public half of the merge's own signing key), recording its shard."""
    if key is None and fallback is not None and check_signature(run_dir, None).signed_by:
        key = fallback
    problems = [*check_signature(run_dir, key).problems, *verify_manifest(run_dir)]
    if problems:
        raise ConfigError(f"{run_dir}: not intact, refusing to merge it: {problems[0]}")
    record = _read_record(run_dir / "record.json")
    if not isinstance(record.get("shard"), dict):
        raise ConfigError(f"{run_dir}: not a shard run (record.json has no 'shard'; run with --shard K/N)")
    plan = _readable(run_dir, "shard", lambda: ShardPlan.from_json(record["shard"]))
    tests = record.get("tests", [])
    if not isinstance(tests, list):
        raise ConfigError(f"{run_dir / 'record.json'}: 'tests' is not a list: {_REWRITTEN}")
    checks = tuple(_readable(run_dir, f"tests[{i}]", functools.partial(record_of, test))
                   for i, test in enumerate(tests))
    return ShardRun(run_dir, record, plan, checks)


_REWRITTEN = "not as cutover writes it (changed after the run, then re-hashed?); run that shard again"


def _read_record(path: Path) -> dict[str, Any]:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read ({getattr(exc, 'strerror', None) or exc})") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}): "
                          f"{_REWRITTEN}") from None
    if not isinstance(record, dict):
        raise ConfigError(f"{path}: not a JSON object: {_REWRITTEN}")
    return record


def _readable(run_dir: Path, key: str, read: Callable[[], Any]) -> Any:
    """``read()``, or one line naming the run, the file, the entry and the problem."""
    try:
        return read()
    except KeyError as exc:
        problem = f"no '{exc.args[0]}'"
    except (TypeError, ValueError, AttributeError) as exc:
        problem = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
    raise ConfigError(f"{run_dir / 'record.json'}: {key}: {problem}: {_REWRITTEN}")


def check_same_gate(shards: list[ShardRun]) -> None:
    """A ConfigError when the shards are not parts of one gate run."""
    first = shards[0]
    for other in shards[1:]:
        for key in _SAME:
            if other.record.get(key) != first.record.get(key):
                raise ConfigError(f"{other.run_dir}: {key} {other.record.get(key)!r} differs from "
                                  f"{first.run_dir}'s {first.record.get(key)!r}: not shards of one gate")
        if other.plan.shard.count != first.plan.shard.count:
            raise ConfigError(f"{other.run_dir}: shard {other.plan.shard.label} is not one of "
                              f"{first.plan.shard.count} like {first.run_dir}'s")


def coverage_problems(shards: list[ShardRun]) -> tuple[list[str], set[str]]:
    """(what is wrong with the shards' coverage in plain words, node ids run by more than one shard)."""
    count = shards[0].plan.shard.count
    seen = Counter(s.plan.shard.index for s in shards)
    problems = [f"shard {k}/{count} given {n} times" for k, n in sorted(seen.items()) if n > 1]
    missing = [k for k in range(1, count + 1) if k not in seen]
    problems += [f"shard {k}/{count} missing" for k in missing]
    digests = {s.plan.digest for s in shards}
    if len(digests) > 1:
        problems.append("the shards planned different work (the data or the selection changed between them)")
    problems += _data_plans(shards)
    claims = Counter(n for s in shards for n in s.plan.assigned)
    duplicated = {n for n, c in claims.items() if c > 1}
    unique = list({s.plan.shard.index: s.plan for s in shards}.values())
    if not missing and len(digests) == 1 and union_digest(unique) != digests.pop():
        problems.append("the shards' checks do not add up to their plan")
    return problems, duplicated


def _data_plans(shards: list[ShardRun]) -> list[str]:
    """A problem when the shards counted or partitioned the data differently (record.json ``plan``: its digest)."""
    digests = {str((s.record.get("plan") or {}).get("digest", "none"))[:12] for s in shards}
    if len(digests) <= 1:
        return []
    return [f"the shards checked different counts or DB-02 partitions (plan sha256 {', '.join(sorted(digests))}): "
            "the data changed between them; plan once with `cutover plan` and give every shard --plan"]


def record_of(test: dict[str, Any]) -> CheckRecord:
    """A test of a shard's record.json as a typed record again; KeyError, TypeError or ValueError naming what is
    not as a gate run writes it."""
    text = {key: _typed(test, key, str, "") for key in ("id", "label", "criterion", "severity", "message",
                                                          "waiver_refused")}
    if text["criterion"] not in CRITERIA:
        raise ValueError(f"criterion {text['criterion'][:40]!r} is not in the catalogue")
    if test.get("outcome") not in _OUTCOMES:
        raise ValueError(f"outcome {str(test.get('outcome'))[:40]!r} is not one of {', '.join(map(str, _OUTCOMES))}")
    waiver = _typed(test, "waiver", dict, None)
    return CheckRecord(id=test["id"], label=test["label"], criterion=text["criterion"], severity=test["severity"],
                       duration=float(test.get("duration", 0.0)), outcome=test.get("outcome"),
                       message=text["message"], waiver=WaiverNote(**waiver) if waiver else None,
                       waiver_refused=text["waiver_refused"], tables=_typed(test, "tables", list, []),
                       facts=_typed(test, "facts", dict, {}), series=_typed(test, "series", list, []))


_OUTCOMES = (None, "passed", "failed", "error", "skipped")


def _typed(test: dict[str, Any], key: str, kind: type, default: Any) -> Any:
    """``test[key]`` when it has the type a gate run writes; ``default`` when absent (required keys: KeyError)."""
    if key not in test and key in ("id", "label", "criterion", "severity"):
        raise KeyError(key)
    value = test.get(key, default)
    if value is not default and not isinstance(value, kind):
        raise TypeError(f"{key} is {_JSON_KINDS.get(type(value), 'null')}, expected {_JSON_KINDS[kind]}")
    return value


_JSON_KINDS = {dict: "an object", list: "an array", str: "a string", int: "a number", float: "a number",
               bool: "true or false"}


def merge(shards: list[ShardRun], partial: bool = False) -> Merged:
    """The verdict of the shards together."""
    check_same_gate(shards)
    problems, duplicated = coverage_problems(shards)
    records: dict[str, CheckRecord] = {}
    for shard in shards:
        for check in shard.checks:
            if check.id not in duplicated:
                records[check.id] = check
    causes = _exclusions(shards, records, duplicated)
    plan = shards[0].plan
    criteria = criterion_results(records.values(), describe_exclusions(causes), plan.source_kind, plan.store)
    if problems:
        criteria = {cid: _unproven(result, problems) for cid, result in criteria.items()}
    verified = {cid: result.verified for cid, result in criteria.items()}
    gate = judge(records.values(), verified, partial=partial and not problems)   # --partial cannot excuse a gap
    return Merged(shards, records, criteria, gate, problems)


def _unproven(result: CriterionResult, problems: list[str]) -> CriterionResult:
    """With a shard missing or doubled, any criterion may have had checks nobody ran once: a pass (or a "not
    applicable" some check said) proves nothing; a failure still stands, and so does a criterion that does not
    apply to the target at all (no check of it was collected)."""
    if result.verdict not in ("pass", "not applicable") or not result.checks:
        return result
    return replace(result, verdict="not run", reason="coverage across shards broken: " + "; ".join(problems))


def _exclusions(shards: list[ShardRun], records: dict[str, CheckRecord],
                duplicated: set[str]) -> dict[str, Counter[str]]:
    """criterion -> checks of the plan not verified across shards, by cause."""
    causes: dict[str, Counter[str]] = {}
    criterion = {c.id: c.criterion for s in shards for c in s.checks}
    for shard in shards:
        for nodeid in shard.plan.assigned:
            cid = criterion.get(nodeid)
            if cid is None:
                continue
            if nodeid in duplicated:
                causes.setdefault(cid, Counter())["run by more than one shard"] += 1
            elif records[nodeid].outcome is None:
                causes.setdefault(cid, Counter())[f"not run (shard {shard.plan.shard.label} stopped)"] += 1
    return causes

