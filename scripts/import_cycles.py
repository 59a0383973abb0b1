"""Fail when the modules of rag/, ui/, bench/ and training/ import each other in a circle.

    python scripts/import_cycles.py [ROOT] [--packages rag ui bench training]

Every module under the packages is parsed with `ast` (nothing is imported or run). Each
import, at module level or inside a function or class, becomes an edge to the module of
these packages it names: `import a.b`, `from a.b import c` (to `a.b.c` when that is a
module, else to `a.b`) and relative imports (`from . import x`, `from ..a import y`),
resolved against the importing module's package. Imports under `if TYPE_CHECKING:` never
run and make no edge; imports of anything outside the packages are left out. Each group
of modules that reach each other (a strongly connected component) is printed with one
circle through it and the lines that import, and the exit status is 1; 0 when there is
none. `scripts/check` runs it.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

PACKAGES = ("rag", "ui", "bench", "training")

# (importing module, imported module) -> where: "path:line"
Edges = dict[tuple[str, str], str]


def module_names(root: Path, packages: tuple[str, ...]) -> dict[str, Path]:
    """Dotted name -> file of every module of `packages` under `root` (a package is its
    __init__.py)."""
    names = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            names[".".join(parts)] = path
    return names


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node of `tree` except the bodies of `if TYPE_CHECKING:` blocks."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from (n for child in node.orelse for n in [child, *_runtime_nodes(child)])
            continue
        yield node
        yield from _runtime_nodes(node)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _known(name: str, modules: dict[str, Path]) -> str | None:
    """`name`, or its longest prefix that is a module of the packages; None if none is."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def imports_of(module: str, path: Path, modules: dict[str, Path]) -> Iterator[tuple[str, int]]:
    """(imported module of the packages, line) for each import `module` makes."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = _known(alias.name, modules)
                if target:
                    yield target, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".") if package else []
                if node.level > 1:
                    base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join([*base_parts, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            for alias in node.names:
                target = _known(f"{base}.{alias.name}", modules) if base else None
                if target != f"{base}.{alias.name}":
                    target = _known(base, modules)
                if target:
                    yield target, node.lineno


def import_graph(root: Path, packages: tuple[str, ...] = PACKAGES) -> Edges:
    """Every import between two different modules of `packages`, with where it is."""
    modules = module_names(root, packages)
    edges: Edges = {}
    for module, path in modules.items():
        for target, line in imports_of(module, path, modules):
            if target != module:
                edges.setdefault((module, target), f"{path.relative_to(root)}:{line}")
    return edges


def components(edges: Edges) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm,
    iterative), each sorted, in sorted order."""
    graph: dict[str, list[str]] = {}
    for a, b in sorted(edges):
        graph.setdefault(a, []).append(b)
        graph.setdefault(b, [])
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in graph:
        if start in index:
            continue
        work = [(start, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            if i < len(graph[node]):
                work.append((node, i + 1))
                nxt = graph[node][i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                group = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    group.append(top)
                    if top == node:
                        break
                if len(group) > 1:
                    found.append(sorted(group))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return sorted(found)


def circle(group: list[str], edges: Edges) -> list[str]:
    """One circle through the group's first module: the shortest way back to it."""
    start = group[0]
    inside = set(group)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        nxt = []
        for node in frontier:
            for a, b in sorted(edges):
                if a != node or b not in inside:
                    continue
                if b == start:
                    return [*paths[node], start]
                if b not in paths:
                    paths[b] = [*paths[node], b]
                    nxt.append(b)
        frontier = nxt
    return [start]  # unreachable for a strongly connected group


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "root", nargs="?", type=Path, default=Path(__file__).resolve().parent.parent
    )
    parser.add_argument("--packages", nargs="+", default=list(PACKAGES))
    args = parser.parse_args(argv)
    packages = tuple(p for p in args.packages if (args.root / p).is_dir())
    edges = import_graph(args.root, packages)
    groups = components(edges)
    for group in groups:
        path = circle(group, edges)
        print(f"import circle: {' -> '.join(path)}")
        for a, b in pairwise(path):
            print(f"  {edges[(a, b)]}: {a} imports {b}")
        if len(group) > len(path) - 1:
            print(f"  (the circle's group also holds {', '.join(sorted(set(group) - set(path)))})")
    return 1 if groups else 0


if __name__ == "__main__":
    sys.exit(main())
