"""The bundled model through both runtimes: ONNX Runtime (the default) and PyTorch give
the same vectors, so an index built with either is read by the other."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag.embed import OnnxEncoder, SentenceTransformerEncoder, get_encoder

MODEL = "all-MiniLM-L6-v2"
TEXTS = [
    "When did Russia's Supreme Court lift the ban on the Taliban?",
    "Верховный суд России исключил движение «Талибан» из списка террористических.",
    "Taliban 🙂 delegation at the forum",
    "x",
    " ".join(["word"] * 400),  # longer than the window: both truncate the same way
]


@pytest.mark.slow
def test_auto_runs_the_bundled_model_on_onnx_with_torchs_vectors(tmp_path: Path) -> None:
    auto, torch = get_encoder(MODEL), get_encoder(MODEL, "torch")
    assert isinstance(auto, OnnxEncoder) and isinstance(torch, SentenceTransformerEncoder)
    assert auto.name == torch.name and auto.dim == torch.dim  # one index serves both
    a, t = auto.encode(TEXTS), torch.encode(TEXTS)
    assert a.shape == t.shape == (len(TEXTS), 384)
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    assert float(np.min(np.sum(a * t, axis=1))) > 0.99999
    # One at a time (as questions are) equals the padded batch.
    single = np.stack([auto.encode([text])[0] for text in TEXTS])
    assert float(np.min(np.sum(single * a, axis=1))) > 0.99999
    exported = list((Path.home() / ".cache" / "rag" / "onnx").glob("*/model.onnx"))
    assert len(exported) == 1  # exported once, into the (test session's) cache
