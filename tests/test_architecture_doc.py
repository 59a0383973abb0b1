"""docs/architecture.md is true of the code: the files it names exist, each class lives
where its table says (and every public class is in the table), and the layers import as
it says.

Everything is read from the document and the source with `ast`; nothing is imported or run.
"""

from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path

from helpers import ROOT

DOC = ROOT / "docs" / "architecture.md"
PACKAGES = ("rag", "ui", "bench", "training")
# A path of the checkout written in the document: `rag/types.py`, `rag/formats/`, ...
_PATH = re.compile(r"(?<![\w./-])((?:rag|ui|bench|training|tests|scripts|docs)/[\w./-]*)")


def _doc() -> str:
    return DOC.read_text(encoding="utf-8")


def _section(title: str) -> list[str]:
    """The lines of the `## title` section."""
    lines = _doc().splitlines()
    start = lines.index(f"## {title}")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), None)
    return lines[start + 1 : end]


def _class_table() -> set[tuple[str, str]]:
    """(class, module path) of every row of "Where each class lives"."""
    rows = set()
    for line in _section("Where each class lives"):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cells) < 2 or not cells[1].startswith("`"):
            continue
        path = cells[1].strip("`")
        rows |= {(name, path) for name in re.findall(r"`(\w+)`", cells[0])}
    assert rows, f"no class table in {DOC}"
    return rows


def _modules() -> list[Path]:
    return [p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))]


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def test_every_path_the_document_names_exists() -> None:
    named = {m.rstrip(".") for m in _PATH.findall(_doc())}
    assert "rag/types.py" in named
    missing = sorted(p for p in named if not (ROOT / p).exists())
    assert not missing, f"{DOC.name} names paths that do not exist: {missing}"


def test_each_class_lives_where_the_table_says() -> None:
    table = _class_table()
    wrong = []
    for name, path in sorted(table):
        file = ROOT / path
        body = _tree(file).body if file.is_file() else []
        if not any(isinstance(n, ast.ClassDef) and n.name == name for n in body):
            wrong.append(f"{name} in {path}")
    assert not wrong, f"{DOC.name} places classes where they are not defined: {wrong}"


def test_every_public_class_is_in_the_table() -> None:
    table = _class_table()
    defined = {
        (node.name, path.relative_to(ROOT).as_posix())
        for path in _modules()
        for node in _tree(path).body
        if isinstance(node, ast.ClassDef) and not node.name.startswith("_")
    }
    missing = sorted(f"{name} ({path})" for name, path in defined - table)
    assert not missing, f"classes missing from {DOC.name}'s table: {missing}"


def _import_graph() -> dict[tuple[str, str], str]:
    """scripts/import_cycles.py's graph of imports between the packages' modules."""
    spec = importlib.util.spec_from_file_location(
        "import_cycles", ROOT / "scripts" / "import_cycles.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.import_graph(ROOT, PACKAGES)


def test_rag_imports_the_other_packages_only_in_its_commands() -> None:
    edges = _import_graph()
    upward = sorted(
        f"{where}: {a} imports {b}"
        for (a, b), where in edges.items()
        if a.split(".")[0] == "rag" and b.split(".")[0] != "rag" and a != "rag.cli"
    )
    assert not upward, upward
    into_cli = sorted(f"{where}: {a}" for (a, b), where in edges.items() if b == "rag.cli")
    assert not into_cli, f"rag.cli imported by the packages' modules: {into_cli}"


def test_only_the_app_imports_gradio() -> None:
    found = []
    for path in _modules():
        if path.relative_to(ROOT).parts[0] == "ui":
            continue
        for node in ast.walk(_tree(path)):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom) and not node.level
                else []
            )
            found += [
                f"{path.relative_to(ROOT)}:{node.lineno}"
                for n in names
                if n.split(".")[0] == "gradio"
            ]
    assert not found, f"gradio imported outside ui/: {found}"
