"""The CI configuration the project ships parses as YAML, and runs the reply corpus's live counterpart against real
MongoDB 4.4 and 8.0, standalone and replica set. A plain YAML scalar holding ": " turned a step into a mapping
(the deploy step did, and the README's GitLab snippets): nothing else would notice before a pipeline fails."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = REPO / ".github" / "workflows" / "acceptance.yml"


def test_the_workflow_runs_the_live_counterpart_on_4_4_and_8_0() -> None:
    jobs: dict[str, Any] = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))["jobs"]
    replies = jobs["server-replies"]
    assert replies["strategy"]["matrix"] == {"mongo": ["4.4", "8.0"], "topology": ["standalone", "replset"]}
    assert replies["env"]["CUTOVER_TEST_MONGODB_URI"].startswith("mongodb://127.0.0.1:27017/")
    runs = " ".join(str(step.get("run", "")) for step in replies["steps"])
    assert ".ci/real-mongo" in runs and "tests/unit/test_replies_live.py" in runs
    assert (REPO / ".ci" / "real-mongo").stat().st_mode & 0o111
    assert "server-replies" in jobs["acceptance"]["needs"]


def test_every_run_step_is_a_string() -> None:
    jobs: dict[str, Any] = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))["jobs"]
    steps = [step for job in jobs.values() for step in job["steps"]]
    assert all(isinstance(step["run"], str) for step in steps if "run" in step)


def test_the_readmes_ci_snippets_parse_and_their_scripts_are_strings() -> None:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    for block in re.findall(r"```yaml\n(.*?)```", text, re.S):
        for value in _scripts(yaml.safe_load(block)):
            assert isinstance(value, str), value


def _scripts(node: Any) -> list[Any]:
    if isinstance(node, dict):
        found = [item for key, v in node.items() if key == "script" for item in v]
        return found + [s for v in node.values() for s in _scripts(v)]
    if isinstance(node, list):
        return [s for v in node for s in _scripts(v)]
    return []
