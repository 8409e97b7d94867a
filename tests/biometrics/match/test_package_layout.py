"""The matcher package's shape: no import cycles, no module-level caches."""

from __future__ import annotations

import ast
from pathlib import Path

import scomm.biometrics.match as package

PACKAGE = "scomm.biometrics.match"
ROOT = Path(package.__file__).parent


def _modules() -> dict[str, ast.Module]:
    out = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = (
            ".".join((PACKAGE, *parts[:-1]))
            if parts[-1] == "__init__"
            else ".".join((PACKAGE, *parts))
        )
        out[name] = ast.parse(path.read_text(encoding="utf-8"))
    return out


def _imports(tree: ast.Module, modules: set[str]) -> set[str]:
    """The package's modules `tree` imports; `from P import name` counts as importing P
    (and P.name when that is a module): Python runs P's __init__ either way."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return found & modules


def test_no_module_imports_the_package_front_or_forms_a_cycle() -> None:
    modules = _modules()
    names = set(modules)
    graph = {name: _imports(tree, names) - {name} for name, tree in modules.items()}
    # a submodule that imports a package (its __init__) would import back whatever that
    # package gathers; the front (scomm.biometrics.match) is for other packages only
    for name, targets in graph.items():
        if name != PACKAGE:
            assert PACKAGE not in targets, f"{name} imports {PACKAGE} itself"
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                raise AssertionError("import cycle: " + " -> ".join([*path, node, nxt]))
            if nxt not in state:
                visit(nxt, [*path, node])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [])


def test_no_process_wide_caches() -> None:
    """Tables belong to the matcher that built them (issue 12, no hidden process-wide
    state): no functools caches in the package."""
    for name, tree in _modules().items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Name | ast.Attribute):
                word = node.id if isinstance(node, ast.Name) else node.attr
                assert word not in {"lru_cache", "cache"}, f"{name} uses functools.{word}"
