"""Count scomm's modules, import cycles and imports that point up the layers, from the source.

Reads `src/scomm` (or `--src DIR`, e.g. an older checkout's) as text with `ast`: every
`import scomm...` and `from scomm... import ...` at any depth of a module, type-only imports
included; `from package import name` counts as importing `package.name` when that is a
module, else the package itself. A cycle is a group of modules that import each other
(a strongly connected component of two or more). An upward import goes from a module to a
layer above its own, the layers being those of README "Layers and layout"; the names the
modules had before the simulator moved under `scomm.sim` (`scomm.synth`, `scomm.bench`,
`scomm.ops_run`, ...) are placed in their layers too, so an old tree can be counted the
same way (`git worktree add /tmp/old REV && python bench/import_graph.py --src /tmp/old/src`).

Run: .venv/bin/python bench/import_graph.py [--src DIR]   (a table, then one JSON line)
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# Top to bottom; a module belongs to the layer of its longest matching prefix.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("cli", ("scomm.cli", "scomm.__main__", "scomm.simulate_cli", "scomm.ops_cli",
             "scomm.progress_bars", "scomm.synth.cli")),
    ("sim", ("scomm.sim", "scomm.synth", "scomm.bench", "scomm.simulation", "scomm.ops_run",
             "scomm.demo", "scomm.reports.scenario", "scomm.scenarios")),
    ("system", ("scomm.system",)),
    ("operations", ("scomm.operations",)),
    ("services", ("scomm.services", "scomm.reports")),
    ("bus", ("scomm.bus",)),
    ("audit", ("scomm.audit",)),
    ("store", ("scomm.store",)),
    ("nist", ("scomm.nist", "scomm.forms")),
    ("biometrics", ("scomm.biometrics",)),
    ("config", ("scomm.config",)),
    ("domain", ("scomm.domain", "scomm.rules")),
    ("errors", ("scomm.errors",)),
]  # fmt: skip


def modules_of(src: Path) -> dict[str, Path]:
    found = {}
    for path in sorted((src / "scomm").rglob("*.py")):
        name = ".".join(path.relative_to(src).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


def imports_of(modules: dict[str, Path]) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                edges[name] |= {a.name for a in node.names if a.name.startswith("scomm")}
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                if not target.startswith("scomm"):
                    continue
                for alias in node.names:
                    sub = f"{target}.{alias.name}"
                    edges[name].add(sub if sub in modules else target)
        edges[name] = {t for t in edges[name] if t in modules and t != name}
    return edges


def cycles_of(edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components of two or more modules (iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        found.append(sorted(group))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(edges[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return found


def layer_of(module: str) -> int | None:
    best: tuple[int, int] | None = None
    for position, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if module == prefix or module.startswith(prefix + "."):
                if best is None or len(prefix) > best[1]:
                    best = (position, len(prefix))
    return None if best is None else best[0]


def upward_of(edges: dict[str, set[str]]) -> list[tuple[str, str]]:
    up = []
    for source, targets in edges.items():
        for target in targets:
            a, b = layer_of(source), layer_of(target)
            if a is not None and b is not None and b < a:
                up.append((source, target))
    return sorted(up)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, default=REPO / "src", help="the folder of scomm/")
    args = parser.parse_args()
    modules = modules_of(args.src)
    if not modules:
        sys.exit(f"no scomm package under {args.src}")
    edges = imports_of(modules)
    cycles = cycles_of(edges)
    upward = upward_of(edges)
    print(f"{'modules':<16}{len(modules):>6}")
    print(f"{'import cycles':<16}{len(cycles):>6}")
    for group in cycles:
        print(f"    {' <-> '.join(group)}")
    print(f"{'upward imports':<16}{len(upward):>6}")
    for source, target in upward:
        print(f"    {source} -> {target}")
    record = {
        "src": str(args.src),
        "modules": len(modules),
        "cycles": cycles,
        "upward_imports": [list(pair) for pair in upward],
    }
    print(json.dumps(record))


if __name__ == "__main__":
    main()
