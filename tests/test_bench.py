"""Smoke tests for `rag bench`: the help text, the corpus synthesizer, the scaled index, and
a tiny `--quick` run with the fake encoder (in-process). No timing is asserted."""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import pytest
from fakes import FAKE_MODEL, FakeEncoder
from helpers import REAL_MODEL, SEED_SOURCES, run_cli

from bench.cli import main
from bench.compare import txtai_compare
from bench.corpus import Perturber, synthesize
from bench.scaled import scaled_index
from rag import Settings
from rag.cli import BENCH_MISSING
from rag.cli import main as rag_main
from rag.indexing import build_index, open_index


def test_bench_help(tmp_path: Path) -> None:
    done = run_cli("bench", "--help", cwd=tmp_path, timeout=60)
    assert done.returncode == 0
    for flag in ("--sizes", "--json", "--quick", "--txtai-python"):
        assert flag in done.stdout


def test_rag_bench_without_the_bench_package_says_what_to_do(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "bench", None)  # as if only rag/ and ui/ were installed
    monkeypatch.delitem(sys.modules, "bench.cli", raising=False)
    assert rag_main(["bench", "--quick"]) == 1
    assert capsys.readouterr().err == f"error: {BENCH_MISSING}\n"


def test_perturber_keeps_offsets() -> None:
    text = "The Broncos defeated the Panthers 24-10 on February 7, 2016 in Santa Clara."
    out = Perturber([text, "Dolphins Warriors Carolina Denver"], share=1.0)(text, random.Random(0))
    assert len(out) == len(text) and out != text


def test_synthesized_corpus_indexes(tmp_path: Path, fake_encoder: FakeEncoder) -> None:
    sources = tmp_path / "sources"
    synthesize([SEED_SOURCES], 12, sources)
    assert len(list(sources.glob("*.txt"))) == 12
    settings = Settings.load(
        env={}, sources=sources, index=tmp_path / "index", model=FAKE_MODEL, progress=False
    )
    report = build_index(settings)
    assert report.added == 12
    base_chunks = report.chunks
    for size in (max(1, base_chunks - 3), base_chunks * 3 + 1):
        info = scaled_index(settings, size, tmp_path / f"scaled-{size}")
        assert info["chunks"] == size
        idx = open_index(settings.with_(index=tmp_path / f"scaled-{size}"))
        assert idx.vectors.ntotal == idx.store.count("chunks") == size
        hits = idx.store.bm25("Taliban court", 5)
        assert hits
        idx.close()


def test_bench_quick_json(tmp_path: Path, fake_encoder: FakeEncoder, capsys) -> None:
    code = main(
        [
            "--quick",
            "--json",
            "--quiet",
            "--model",
            FAKE_MODEL,
            "--work",
            str(tmp_path / "w"),
            "--corpus",
            str(SEED_SOURCES),
            "--ann-threshold",
            "250",
        ]
    )
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["index_build"]["chunks"] > 0
    assert result["encode_raw"]["chunks_per_s"] > 0
    assert result["encode_runtime"]["texts_per_s"] > 0
    assert set(result["ratio"]) == {"chunks", "texts", "texts_runtime"}
    assert result["noop_reindex"]["documents"] == 30
    assert "changed" not in result["noop_reindex"]
    sizes = {q["chunks"]: q for q in result["query"]}
    assert set(sizes) == {100, 300}
    assert sizes[100]["vectors"]["kind"] == "flat"
    assert sizes[300]["vectors"]["kind"] == "ivf_sq8"
    for q in result["query"]:
        assert q["p50_ms"] > 0 and 0.0 <= q["recall_at_10"] <= 1.0
        assert q["noop_reindex"]["documents"] == q["documents"]
        assert "changed" not in q["noop_reindex"]


FAKE_TXTAI = """
from pathlib import Path

class Embeddings:
    def __init__(self, path, hybrid, content):
        assert Path(path, "modules.json").exists() and hybrid and not content

    def index(self, rows):
        self.rows = list(rows)

    def search(self, query, limit):
        return [(i, 1.0) for i, _, _ in self.rows[:limit]]
"""


def test_txtai_probe_runs_in_the_other_python(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The probe script runs as it would in a txtai venv (here: a txtai stand-in on the path
    of this Python) and its JSON line becomes the "txtai" result."""
    (tmp_path / "venv" / "txtai").mkdir(parents=True)
    (tmp_path / "venv" / "txtai" / "__init__.py").write_text(FAKE_TXTAI)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "venv"))
    chunks, questions = ["The ban was lifted.", "The court ruled."], ["When?", "Who?", "Why?"]
    result = txtai_compare(sys.executable, REAL_MODEL, chunks, questions, tmp_path)
    assert set(result) == {"search", "build_seconds", "chunks_per_s", "p50_ms", "p95_ms"}
    assert result["chunks_per_s"] > 0 and result["p95_ms"] >= result["p50_ms"] >= 0


def test_embed_backend_setting_is_checked(fake_encoder: FakeEncoder) -> None:
    import pytest

    from rag.embed import get_encoder
    from rag.errors import ModelError, SettingsError

    assert Settings.load(env={}).embed_backend == "auto"
    with pytest.raises(SettingsError):
        Settings.load(env={}, embed_backend="tensorrt")
    with pytest.raises(ModelError):  # ONNX needs a sentence-transformers model folder
        get_encoder(FAKE_MODEL, "onnx")
    assert get_encoder(FAKE_MODEL) is fake_encoder  # "auto": other encoders run as they are


@pytest.mark.slow
def test_scaled_index_keeps_the_base_index_encoder(tmp_path: Path) -> None:
    """A scaled copy records the encoder its base was built with, so it opens under the
    same `embed_backend` (it used to record the default's, refused for any other)."""
    settings = Settings.load(
        env={}, sources=SEED_SOURCES, index=tmp_path / "index", embed_backend="onnx"
    ).with_(progress=False)
    build_index(settings)
    scaled_index(settings, 40, tmp_path / "scaled")
    idx = open_index(settings.with_(index=tmp_path / "scaled"))
    assert idx.encoder.name == "all-MiniLM-L6-v2" and idx.vectors.ntotal == 40
    idx.close()
