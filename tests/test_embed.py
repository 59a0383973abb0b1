"""The bundled model through both runtimes. ONNX Runtime in full precision gives
PyTorch's vectors, so an index built with either is read by the other; the default
embeds documents with int8 weights (close, but a different model name) and questions
in full precision."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import REAL_MODEL, run_python

from rag.embed import (
    STOP_SPINNING,
    OnnxEncoder,
    SentenceTransformerEncoder,
    get_encoder,
    get_query_encoder,
)

TEXTS = [
    "When did Russia's Supreme Court lift the ban on the Taliban?",
    "Верховный суд России исключил движение «Талибан» из списка террористических.",
    "Taliban 🙂 delegation at the forum",
    "x",
    " ".join(["word"] * 400),  # longer than the window: both truncate the same way
]


@pytest.mark.slow
def test_auto_asks_questions_on_onnx_with_torchs_vectors(tmp_path: Path) -> None:
    auto, torch = get_query_encoder(REAL_MODEL), get_encoder(REAL_MODEL, "torch")
    assert auto is get_encoder(REAL_MODEL, "onnx")
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
    # Its threads stop spinning after a run: spinning ones slowed the reader that runs next.
    session = auto._load()[0]
    assert session.get_session_options().get_session_config_entry(STOP_SPINNING) == "1"


@pytest.mark.slow
def test_auto_embeds_documents_with_int8_weights_close_to_the_model() -> None:
    documents, questions = get_encoder(REAL_MODEL), get_query_encoder(REAL_MODEL)
    assert documents is get_encoder(REAL_MODEL, "onnx-int8") and documents is not questions
    # Other vectors, another name: an index built one way is refused by the other.
    assert documents.name != questions.name and documents.dim == questions.dim
    d, q = documents.encode(TEXTS), questions.encode(TEXTS)
    assert np.allclose(np.linalg.norm(d, axis=1), 1.0, atol=1e-5)
    cosines = np.sum(d * q, axis=1)
    assert float(cosines.min()) > 0.97 and float(cosines.mean()) > 0.98
    quantized = list((Path.home() / ".cache" / "rag" / "onnx").glob("*/model_qint8*.onnx"))
    assert len(quantized) == 1
    # A text's int8 vector is the same whatever is embedded with it.
    alone = np.stack([documents.encode([text])[0] for text in TEXTS])
    reordered = documents.encode(TEXTS[::-1])[::-1]
    assert float(np.min(np.sum(alone * d, axis=1))) > 0.99999
    assert float(np.min(np.sum(reordered * d, axis=1))) > 0.99999


QUANTIZE_TINY_MODEL = """
import logging
from pathlib import Path
import numpy as np, onnx
from onnx import TensorProto, helper, numpy_helper
from rag.embed import quantize_int8
x, y = (helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, 4]) for n in "xy")
w = numpy_helper.from_array(np.eye(4, dtype=np.float32), "w")
graph = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "g", [x], [y], [w])
onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), "m.onnx")
quantize_int8(Path("m.onnx"), Path("q.onnx"))
print(Path("q.onnx").is_file(), len(logging.getLogger().handlers))
"""


def test_quantizing_prints_no_advice_and_leaves_logging_unconfigured(tmp_path: Path) -> None:
    # A fresh process: its root logger is unconfigured, as in `rag ask` (pytest's is not).
    result = run_python(QUANTIZE_TINY_MODEL, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "0"]
    assert "pre-processing" not in result.stderr, result.stderr
