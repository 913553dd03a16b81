"""The house's layout holds: every module imports, no import cycle, an area reaches another area only through
that area's package (its facade and the names its ``__init__`` exports), the library never imports pytest or
the glue, and nothing shipped imports the test-only package (docs/ARCHITECTURE.md: the map)."""
from __future__ import annotations

import ast
import functools
import importlib
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("cutover", "cutover_pytest", "cutover_testing")
AREAS = ("data", "files", "rest", "transport", "security", "reach", "run", "sandbox")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))
           if "node_modules" not in p.parts}


def imports(path: Path, *, top_level_only: bool = False) -> Iterator[str]:
    """The modules a file imports (``from pkg import sub`` names the submodule when there is one); with
    ``top_level_only``, only what runs at import time (not in functions, not under TYPE_CHECKING)."""
    tree = parsed(path)
    nodes = _top_level(tree.body) if top_level_only else ast.walk(tree)
    for node in nodes:
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                yield sub if sub in MODULES else node.module


@functools.cache
def parsed(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


def _top_level(body: list[ast.stmt]) -> Iterator[ast.AST]:
    for node in body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, (ast.If, ast.Try)):
            yield from (n for n in ast.walk(node) if isinstance(n, (ast.Import, ast.ImportFrom)))


@pytest.mark.parametrize("name", sorted(n for n in MODULES if not n.endswith("__main__")))
def test_every_module_imports(name: str) -> None:
    importlib.import_module(name)


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = [stack.pop()]
            while component[-1] != v:
                component.append(stack.pop())
            if len(component) > 1:
                found.append(sorted(component))

    for v in edges:
        if v not in index:
            visit(v)
    return found


def import_graph() -> dict[str, set[str]]:
    return {name: {m for m in imports(path, top_level_only=True) if m in MODULES and m != name}
            for name, path in MODULES.items()}


def test_no_import_cycle() -> None:
    assert cycles(import_graph()) == []


def test_the_cycle_finder_finds_one() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def area_of(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if parts[0] == "cutover" and len(parts) > 1 and parts[1] in AREAS else None


def crossings(name: str, imported: list[str]) -> list[str]:
    """What ``name`` imports from the inside of another area (``cutover.files.storage``, not ``cutover.files``)."""
    return sorted(m for m in imported
                  if area_of(m) not in (None, area_of(name)) and len(m.split(".")) > 2)


def test_an_area_reaches_another_only_through_its_package() -> None:
    found = {name: crossings(name, list(imports(path))) for name, path in MODULES.items()
             if name.startswith("cutover.")}
    assert {name: found_ for name, found_ in found.items() if found_} == {}


def test_a_reach_into_another_area_is_found() -> None:
    assert crossings("cutover.transport.facade", ["cutover.files.storage", "cutover.files", "cutover.model"]) == \
        ["cutover.files.storage"]


def test_the_library_never_imports_pytest_or_the_glue_and_nothing_shipped_imports_test_code() -> None:
    forbidden = {"cutover": ("pytest", "cutover_pytest", "cutover_testing"), "cutover_pytest": ("cutover_testing",)}
    found = []
    for name, path in MODULES.items():
        package = name.split(".")[0]
        for imported in imports(path):
            if imported.split(".")[0] in forbidden.get(package, ()):
                found.append(f"{name} imports {imported}")
    assert found == []
