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


def fake_reader(folder: Path) -> Path:
    """A reader folder whose ONNX graph reads nothing, for answering through the real hook
    (`RAG_READER_MODEL`): its logit is 0.01 per word piece of the pair's second text (the
    sentence). The shipped tokenizer, calibration and judge; checksums in reader.json like
    a trained one's."""
    import json
    import shutil

    import onnx
    from onnx import TensorProto, helper

    from rag.judge import JUDGE_FILE
    from rag.manifest import file_sha256
    from rag.reader import BUNDLED, MODEL_FILE

    hundredth = helper.make_tensor("hundredth", TensorProto.FLOAT, [], [0.01])
    axis1 = helper.make_tensor("axis1", TensorProto.INT64, [1], [1])
    nodes = [
        helper.make_node("Constant", [], ["hundredth"], value=hundredth),
        helper.make_node("Constant", [], ["axis1"], value=axis1),
        helper.make_node("Cast", ["token_type_ids"], ["second"], to=TensorProto.FLOAT),
        helper.make_node("ReduceSum", ["second", "axis1"], ["pieces"], keepdims=0),
        helper.make_node("Mul", ["pieces", "hundredth"], ["logit"]),
    ]
    names = ("input_ids", "attention_mask", "token_type_ids")
    inputs = [helper.make_tensor_value_info(n, TensorProto.INT64, ["b", "p"]) for n in names]
    outputs = [helper.make_tensor_value_info("logit", TensorProto.FLOAT, ["b"])]
    graph = helper.make_graph(nodes, "fake_reader", inputs, outputs)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    folder.mkdir(parents=True, exist_ok=True)
    onnx.save(model, folder / MODEL_FILE)
    shutil.copy(BUNDLED / "tokenizer.json", folder / "tokenizer.json")
    shutil.copy(BUNDLED / JUDGE_FILE, folder / JUDGE_FILE)
    shipped = json.loads((BUNDLED / "reader.json").read_text())
    meta = {
        "format": 1,
        "base_model": "none (tests/helpers.py fake_reader)",
        "max_length": 80,
        "calibration": shipped["calibration"],
        "sha256": {n: file_sha256(folder / n) for n in (MODEL_FILE, "tokenizer.json")},
    }
    (folder / "reader.json").write_text(json.dumps(meta, indent=1))
    return folder
