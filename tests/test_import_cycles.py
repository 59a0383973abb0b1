"""scripts/import_cycles.py on tiny generated packages: it names a circle, through relative,
absolute and function-level imports, and passes a package without one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from helpers import ROOT

SCRIPT = ROOT / "scripts" / "import_cycles.py"


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def walk(root: Path, *packages: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(root), "--packages", *packages],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_circle_through_a_function_level_relative_import_is_named(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "pkg/__init__.py": '"""Пакет 🙂."""\n',
            "pkg/sub/__init__.py": "from .b import B\n",
            "pkg/a.py": "from pkg.sub import b\n\nA = 1\n",
            "pkg/sub/b.py": "B = 2\n\n\ndef late():\n    from ..a import A\n\n    return A\n",
            "pkg/c.py": "import pkg.a\n",  # imports into the circle, not part of it
        },
    )
    done = walk(root, "pkg")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "import circle: pkg.a -> pkg.sub.b -> pkg.a" in done.stdout
    assert "pkg/sub/b.py:5: pkg.sub.b imports pkg.a" in done.stdout
    assert "pkg.c" not in done.stdout


def test_a_circle_between_two_packages_through_a_package_init_is_named(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "one/__init__.py": "from two.x import X\n\nONE = 1\n",
            "two/__init__.py": "",
            "two/x.py": "from one import ONE\n\nX = ONE\n",
        },
    )
    done = walk(root, "one", "two")
    assert done.returncode == 1
    assert "import circle: one -> two.x -> one" in done.stdout


def test_no_circle_passes(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "pkg/__init__.py": "from . import a\nfrom .a import A\n",
            "pkg/a.py": (
                "from typing import TYPE_CHECKING\n\nimport json\n\nA = 1\n\n"
                "if TYPE_CHECKING:\n    from pkg import b\n"  # never runs: no edge
            ),
            "pkg/b.py": "from .a import A\nimport os.path\n\n\ndef f():\n    from . import a\n",
        },
    )
    done = walk(root, "pkg")
    assert done.returncode == 0, done.stdout
    assert done.stdout == ""


def test_the_projects_own_packages_are_walked() -> None:
    """Whatever it finds, the walk reads every module of the checkout without failing."""
    done = walk(ROOT, "rag", "ui", "bench", "training")
    assert done.returncode in (0, 1) and not done.stderr
    assert "rag.reader" not in done.stdout and "training" not in done.stdout
