"""Plan once (issue 31), run for real against a mongoeco wire server: DB-01 and DB-02 of the bundled catalogue,
serial, with ``-n 2``, and as two shards reading the plan file of ``cutover plan``.

What the runs sent (record.json ``mongo_commands``, every process's commands added up) proves who planned: the
counts are aggregations and the partition walk reads with ``find``; a worker or a shard that planned again would
send them again. The serial run's numbers are the reference.
"""
from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymongo
import pytest

from cutover.sandbox.mongo_server import mongo_uri
from tests.inner_runs import UNUSED_PLUGINS

pytestmark = pytest.mark.usefixtures("seeded")
CLASSES = {"GameScore": 130, "Player": 12, "_User": 4}   # GameScore: 3 partitions of about 50
RUN = ["-k", "test_row_count or test_content", "-p", "no:randomly", "-p", "no:cacheprovider", *UNUSED_PLUGINS,
       "--progress-every", "0", "-q"]


@pytest.fixture(scope="module")
def seeded(mongoeco: pymongo.MongoClient[Any]) -> Iterator[int]:
    """The same classes in the databases `src` and `dst` of one server; yields its port."""
    for name in ("src", "dst"):
        for cls, n in CLASSES.items():
            mongoeco[name][cls].insert_many([{"_id": f"{cls[:3]}{i:07d}", "n": i} for i in range(n)])
    yield int(mongoeco.address[1])
    for name in ("src", "dst"):
        mongoeco.drop_database(name)


@pytest.fixture
def tree(tmp_path: Path, seeded: int) -> Path:
    (tmp_path / "targets.toml").write_text(
        f'[targets.t]\nsource = {{ uri = "{mongo_uri(seeded, "src")}" }}\n'
        f'database = {{ uri = "{mongo_uri(seeded, "dst")}" }}\n'
        "[targets.t.thresholds]\ntimeout_s = 30\npartition_docs = 50\n")
    return tmp_path


def gate(tree: Path, name: str, *args: str) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-m", "pytest", "test_data.py", "--target", "t", "--partial",
                          "--reports-dir", name, *RUN, *args], cwd=tree, capture_output=True, text=True,
                         timeout=120, check=False)
    (run_dir,) = run_dirs(tree, name)
    record = json.loads((run_dir / "record.json").read_text())
    assert record["tests"] and all(t["outcome"] == "passed" for t in record["tests"]), out.stdout[-3000:]
    return record


def run_dirs(tree: Path, name: str) -> list[Path]:
    return [p for p in (tree / name / "t").iterdir() if p.is_dir()]


def sent(record: dict[str, Any], side: str, name: str) -> int:
    return int(record["mongo_commands"]["sent"].get(side, {}).get(name, 0))


def test_workers_take_the_controllers_plan(tree: Path) -> None:
    serial, parallel = gate(tree, "serial"), gate(tree, "xdist", "-n", "2")
    assert [t["label"] for t in parallel["tests"]] == [t["label"] for t in serial["tests"]]
    assert "DB-02[GameScore:p3of3]" in {t["label"] for t in serial["tests"]}
    assert parallel["plan"]["digest"] == serial["plan"]["digest"]
    assert parallel["plan"]["origin"] == "computed by this run"
    # the source's finds: the walk (2 boundaries) and the 5 units, once in all; a worker planning would walk again
    assert sent(parallel, "source", "find") == sent(serial, "source", "find") == 7
    for side in ("source", "target"):
        # the counts (3 classes) once: a worker planning would count them again; each process asks the source
        # once whether it computes a sound digest (one aggregation): one more process, one more
        assert sent(parallel, side, "aggregate") - sent(serial, side, "aggregate") <= 1, side


def test_shards_read_the_plan_file_and_merge(tree: Path) -> None:
    planned = subprocess.run([sys.executable, "-m", "cutover.run.cli", "plan", "--target", "t"], cwd=tree,
                             capture_output=True, text=True, timeout=60, check=False)
    assert planned.returncode == 0, planned.stderr
    assert "planned 3 classes, 5 DB-02 units" in planned.stdout
    shards = [gate(tree, f"shard{k}", "--shard", f"{k}/2", "--plan", "plan.json") for k in (1, 2)]
    digest = json.loads((tree / "plan.json").read_text())["digest"]
    assert [s["plan"]["digest"] for s in shards] == [digest, digest]
    assert all(s["plan"]["origin"] == "read from plan.json (--plan)" for s in shards)
    # the shards only read their partitions: no walk, no count (DB-01 takes the plan's counts)
    units = {t["label"] for s in shards for t in s["tests"] if t["criterion"] == "DB-02"}
    assert len(units) == 5
    assert sum(sent(s, "source", "find") for s in shards) == 5
    dirs = [run_dirs(tree, f"shard{k}")[0] for k in (1, 2)]
    merged = subprocess.run([sys.executable, "-m", "cutover.run.cli", "merge", *map(str, dirs), "--partial",
                             "--reports-dir", "merged"], cwd=tree, capture_output=True, text=True, timeout=60,
                            check=False)
    assert merged.returncode == 0 and "coverage:" not in merged.stdout, merged.stdout


def test_a_plan_of_another_configuration_is_refused(tree: Path) -> None:
    subprocess.run([sys.executable, "-m", "cutover.run.cli", "plan", "--target", "t"], cwd=tree, check=True,
                   capture_output=True, timeout=60)
    text = (tree / "targets.toml").read_text().replace("partition_docs = 50", "partition_docs = 40")
    (tree / "targets.toml").write_text(text)
    out = subprocess.run([sys.executable, "-m", "pytest", "test_data.py", "--target", "t", "--plan", "plan.json",
                          *RUN], cwd=tree, capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode == 4, out.stdout + out.stderr
    assert "--plan plan.json: planned for configuration (config_digest)" in out.stderr + out.stdout
