"""Build throughput: index_build against bare encoding of the same texts.

**index_build** is `build_index(rebuild=True)` with the model already loaded (its load
belongs to cold start); **encode_raw** a bare `SentenceTransformer.encode` (PyTorch, same
batch size) over the chunk texts and over chunks + sentences; **encode_runtime** the
build's own encoder (ONNX Runtime by default) over chunks + sentences, bare: the build's
time if reading, cleaning, chunking and storing cost nothing. Query latency and memory
are `probes`' business.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.settings import Settings

if TYPE_CHECKING:
    from rag.embed import Encoder, SentenceTransformerEncoder


def measure_build(
    settings: Settings, encoder: Encoder, log: Callable[[str], None], docs: int
) -> tuple[dict[str, Any], list[str]]:
    """Build the index of `settings.sources` and time it against bare encoding.

    Returns the "index_build", "encode_raw", "encode_runtime" and "ratio" results and the
    chunk texts (for the txtai comparison)."""
    from rag.indexing import build_index

    encoder.encode(["warm up the model"])  # the load is cold start's business, not build's
    log(f"index_build: {docs} documents ...")
    t = time.perf_counter()
    build_index(settings, rebuild=True)
    build_s = time.perf_counter() - t
    chunk_texts, sentence_texts = indexed_texts(settings.index)
    n_chunks, n_sent = len(chunk_texts), len(sentence_texts)
    result: dict[str, Any] = {}
    result["index_build"] = {
        "seconds": round(build_s, 2),
        "chunks": n_chunks,
        "sentences": n_sent,
        "chunks_per_s": round(n_chunks / build_s, 1),
        "texts_per_s": round((n_chunks + n_sent) / build_s, 1),
    }
    log(f"encode_raw: {n_chunks} chunks, then {n_chunks + n_sent} chunks + sentences ...")
    raw = raw_encoder(settings.model, settings.batch_size)
    t = time.perf_counter()
    raw(chunk_texts)
    raw_chunks_s = time.perf_counter() - t
    t = time.perf_counter()
    raw(chunk_texts + sentence_texts)
    raw_all_s = time.perf_counter() - t
    result["encode_raw"] = {
        "chunks_per_s": round(n_chunks / raw_chunks_s, 1),
        "texts_per_s": round((n_chunks + n_sent) / raw_all_s, 1),
        "chunks_seconds": round(raw_chunks_s, 2),
        "texts_seconds": round(raw_all_s, 2),
    }
    t = time.perf_counter()
    encoder.encode(chunk_texts + sentence_texts, settings.batch_size)
    runtime_s = time.perf_counter() - t
    result["encode_runtime"] = {
        "backend": type(encoder).__name__,
        "texts_per_s": round((n_chunks + n_sent) / runtime_s, 1),
        "texts_seconds": round(runtime_s, 2),
    }
    result["ratio"] = {
        "chunks": round(
            result["index_build"]["chunks_per_s"] / result["encode_raw"]["chunks_per_s"], 3
        ),
        "texts": round(
            result["index_build"]["texts_per_s"] / result["encode_raw"]["texts_per_s"], 3
        ),
        "texts_runtime": round(runtime_s / build_s, 3),
    }
    return result, chunk_texts


def indexed_texts(index_dir: Path) -> tuple[list[str], list[str]]:
    """The chunk texts and the sentence texts of the index's published generation."""
    from rag.indexing import DB_FILE, read_manifest

    manifest = read_manifest(index_dir)
    assert manifest is not None
    db = index_dir / manifest.generation / DB_FILE
    con = sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True)
    chunks = [r[0] for r in con.execute("SELECT text FROM chunks ORDER BY id")]
    sentences = [
        r[0][r[1] : r[2]]
        for r in con.execute(
            "SELECT d.clean_text, s.start, s.end FROM sentences s JOIN documents d ON d.id=s.doc"
        )
    ]
    con.close()
    return chunks, sentences


def sentence_transformer(model: str) -> SentenceTransformerEncoder | None:
    """`model`'s PyTorch sentence-transformers encoder, or None for other encoders (tests'
    fakes, plugins), which have no bare `SentenceTransformer` to compare against."""
    from rag.embed import SentenceTransformerEncoder, get_encoder

    encoder = get_encoder(model, "torch")
    return encoder if isinstance(encoder, SentenceTransformerEncoder) else None


def raw_encoder(model: str, batch_size: int) -> Callable[[list[str]], Any]:
    """The bare `SentenceTransformer.encode` of `model` (PyTorch), as the issue defines
    encode_raw, when the model is a sentence-transformers one; else its own `encode`."""
    from rag.embed import get_encoder

    encoder = sentence_transformer(model)
    if encoder is None:
        return lambda texts: get_encoder(model, "torch").encode(texts, batch_size)
    st = encoder.load()
    st.encode(["warm up"])
    return lambda texts: st.encode(
        texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True
    )
