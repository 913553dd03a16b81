"""The ``sandbox`` extra pins exactly what the sandbox was checked against, for the interpreters it names."""
from __future__ import annotations

import importlib.metadata
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from cutover.sandbox import node_env
from cutover.sandbox.mongo_shims import PINNED_VERSION

REPO = Path(__file__).resolve().parents[2]


def _sandbox_extra() -> dict[str, Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    requirements = (Requirement(text) for text in project["optional-dependencies"]["sandbox"])
    return {req.name: req for req in requirements}


def test_node_is_a_pinned_wheel_of_a_supported_version_for_every_interpreter() -> None:
    wheel = _sandbox_extra()[node_env.WHEEL]
    assert wheel.marker is None and len(wheel.specifier) == 1
    pinned = next(iter(wheel.specifier))
    assert pinned.operator == "=="
    assert node_env.is_supported(node_env.parse_node_version(pinned.version))
    assert importlib.metadata.version(node_env.WHEEL) == pinned.version  # the tests run on the pinned one


@pytest.mark.parametrize(("python", "installs_mongoeco"), [("3.11", False), ("3.12", False), ("3.13", True),
                                                           ("3.14", True)])
def test_mongoeco_joins_the_environment_from_python_313_pinned_to_the_shims_version(
        python: str, installs_mongoeco: bool) -> None:
    mongoeco = _sandbox_extra()["mongoeco"]
    assert str(mongoeco.specifier) == f"=={PINNED_VERSION}" and mongoeco.extras == {"wire"}
    assert mongoeco.marker is not None
    assert mongoeco.marker.evaluate({"python_version": python}) is installs_mongoeco
