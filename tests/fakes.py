"""A deterministic fake text encoder for fast tests, registered through the real hook.

`FakeEncoder` hashes lower-cased words and word bigrams into `dim` buckets (BLAKE2, so the
vectors are the same in every process, unlike `hash()`), then L2-normalizes: texts sharing
words are close, unrelated texts are far, and no model or torch is needed. `count_pieces`
counts words and punctuation marks, which adds up across white space like a real BERT
tokenizer. Every `encode` call is recorded in `calls`, so tests can tell what was
(re-)embedded. It is a stand-in for the model only: FAISS, SQLite, chunking and retrieval
run for real.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Iterable

import numpy as np

from rag.embed import register_encoder

FAKE_MODEL = "fake-hash"
_WORD = re.compile(r"\w+")
_PIECE = re.compile(r"\w+|[^\w\s]")


def _bucket(feature: str, dim: int) -> int:
    digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little") % dim


def count_words(text: str) -> int:
    """A simple additive token counter: words and punctuation marks."""
    return len(_PIECE.findall(text))


class FakeEncoder:
    """Hashed bag of words + bigrams; see the module docstring."""

    def __init__(
        self,
        name: str = FAKE_MODEL,
        dim: int = 64,
        max_pieces: int = 254,
        ignore: Iterable[str] = (),
    ) -> None:
        self.name, self.dim, self.max_pieces = name, dim, max_pieces
        self.ignore = {w.lower() for w in ignore}  # words this "model" cannot see
        self.calls: list[list[str]] = []

    @property
    def texts_encoded(self) -> list[str]:
        return [t for call in self.calls for t in call]

    def vector(self, text: str) -> np.ndarray:
        words = [w for w in _WORD.findall(text.lower()) if w not in self.ignore]
        v = np.zeros(self.dim, dtype=np.float32)
        for feature in words + [f"{a} {b}" for a, b in itertools.pairwise(words)]:
            v[_bucket(feature, self.dim)] += 1.0
        norm = float(np.linalg.norm(v))
        return v / norm if norm else v

    def encode(self, texts: list[str], batch_size: int = 16) -> np.ndarray:
        self.calls.append(list(texts))
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self.vector(t) for t in texts]).astype(np.float32)

    def count_pieces(self, text: str) -> int:
        return count_words(text)


def register_fake(name: str = FAKE_MODEL, **kwargs: object) -> FakeEncoder:
    """Register a fresh `FakeEncoder` under `name` with the real registry and return it."""
    encoder = FakeEncoder(name=name, **kwargs)  # type: ignore[arg-type]
    register_encoder(name, lambda: encoder)
    return encoder
