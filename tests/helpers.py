"""Paths, runners and records shared by the test files: the checkout's folders, the `rag` CLI.

Plain names to import (`from helpers import ROOT, run_cli`); fixtures live in conftest.py
and warning filters in pyproject.toml. Nothing here starts a server or builds an index.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from rag import Settings

ROOT = Path(__file__).resolve().parents[1]  # the checkout
SHARED = ROOT.parent / "shared"  # benchmarks, seeds and QA data beside the checkout
SEED_SOURCES = ROOT / "sources"
SEED_QUESTIONS = ROOT / "tests" / "eval" / "seed_questions.jsonl"
ARTIFACTS = ROOT / "test-artifacts"  # screenshots and measured numbers (git-ignored)
HOSTILE_DRIVER = ROOT / "tests" / "hostile" / "driver.py"
REAL_MODEL = "all-MiniLM-L6-v2"


@dataclass
class RealIndex:
    """What the `real_index` fixture built: the seeds indexed by a real `rag index`."""

    settings: Settings
    sources: Path
    index: Path
    stdout: str  # of the `rag index` run that built it
    stderr: str
    returncode: int


def run_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run `python -m rag.cli ARGS` in a subprocess, in `cwd` (a tmp folder, never the repo:
    the default ./sources and ./index must not be touched)."""
    return subprocess.run(
        [sys.executable, "-m", "rag.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
        env={**os.environ, "CI": "1", **(env or {})},
    )


def run_python(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run `python -c CODE` in a fresh interpreter in `cwd` (what a fresh process imports)."""
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd, timeout=120
    )
