"""The requirements of an extra that are not installed, read from the distribution's own metadata."""
from __future__ import annotations

from importlib import metadata

import pytest

from cutover.run import extras

REQUIRES = {
    "cutover": ['pytest>=8', 'moto[server]>=5; extra == "sandbox"', 'trustme>=1.1; extra == "sandbox"',
                'ruff; extra == "dev"'],
    "moto": ['boto3', 'flask; extra == "server"', 'werkzeug; extra == "server"'],
}


def fake(monkeypatch: pytest.MonkeyPatch, installed: set[str]) -> None:
    def requires(name: str) -> list[str]:
        return REQUIRES.get(name, [])

    def version(name: str) -> str:
        if name not in installed:
            raise metadata.PackageNotFoundError(name)
        return "1.0"

    monkeypatch.setattr(extras.metadata, "requires", requires)
    monkeypatch.setattr(extras.metadata, "version", version)


def test_nothing_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    fake(monkeypatch, {"pytest", "moto", "flask", "werkzeug", "trustme", "boto3"})
    assert extras.missing("sandbox") == []


def test_missing_requirements_and_their_own_extras(monkeypatch: pytest.MonkeyPatch) -> None:
    fake(monkeypatch, {"pytest", "moto", "boto3"})
    assert extras.missing("sandbox") == ["moto[server]", "trustme"]   # moto without flask is moto[server] missing
    fake(monkeypatch, {"pytest"})
    assert extras.missing("sandbox") == ["moto[server]", "trustme"]
    assert extras.missing("dev") == ["ruff"]


def test_the_installed_package_has_its_sandbox_extra() -> None:
    assert extras.missing("sandbox") == []          # the dev install carries it (pip install -e '.[dev]')
    assert extras.missing("sandbox", "no-such-distribution") == []
