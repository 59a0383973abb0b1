"""Tests for rag.vectors: each backend's add/remove/search/reconstruct/save/load, the
size-based choice (`fit`), IVF-SQ8 recall@10 against exact search on clustered random
data, and the manifest recording the kind (and an index refusing a mismatch).

Small random data and the fake encoder only; no timings are asserted.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rag import Settings
from rag.errors import IndexMismatchError
from rag.indexing import MANIFEST, VECTORS_FILE, build_index, open_index, read_manifest
from rag.vectors import (
    FlatVectors,
    IVFSQVectors,
    default_nlist,
    default_nprobe,
    fit,
    load_vectors,
)

DIM = 32


def clustered(n: int, dim: int = DIM, clusters: int = 40, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(clusters, dim))
    x = centers[rng.integers(0, clusters, n)] + 0.6 * rng.normal(size=(n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def flat_of(data: np.ndarray, first_id: int = 100) -> FlatVectors:
    flat = FlatVectors(data.shape[1])
    flat.add(list(range(first_id, first_id + len(data))), data)
    return flat


def ivf_of(data: np.ndarray) -> IVFSQVectors:
    ivf = fit(flat_of(data), threshold=1)
    assert isinstance(ivf, IVFSQVectors)
    return ivf


@pytest.mark.parametrize("make", [flat_of, ivf_of], ids=["flat", "ivf_sq8"])
def test_backend_add_remove_search_save_load(make, tmp_path: Path) -> None:
    data = clustered(3000)
    vectors = make(data)
    assert vectors.ntotal == 3000 and vectors.dim == DIM
    top = vectors.search(data[5], 3)
    assert top[0][0] == 105 and top[0][1] == pytest.approx(1.0, abs=0.02)
    assert np.allclose(vectors.reconstruct([105, 106]), data[5:7], atol=0.02)
    assert sorted(vectors.ids().tolist()) == list(range(100, 3100))

    vectors.remove([105, 106, 107])
    assert vectors.ntotal == 2997
    assert all(i not in {105, 106, 107} for i, _ in vectors.search(data[5], 10))
    vectors.add([5000], data[5:6])
    assert vectors.search(data[5], 1)[0][0] == 5000

    path = tmp_path / VECTORS_FILE
    vectors.save(path)
    again = load_vectors(path, vectors.kind, vectors.params)
    assert type(again) is type(vectors)
    assert again.ntotal == vectors.ntotal and again.params == vectors.params
    assert again.search(data[9], 1)[0][0] == 109


def test_empty_flat_search_and_reconstruct() -> None:
    flat = FlatVectors(DIM)
    assert flat.search(np.ones(DIM, dtype=np.float32), 5) == []
    flat.add([], np.zeros((0, DIM), dtype=np.float32))
    flat.remove([])
    assert flat.ntotal == 0


def test_ivf_recall_at_10_against_exact() -> None:
    data = clustered(20_000, seed=1)
    exact = flat_of(data)
    ivf = ivf_of(data)
    assert ivf.params["nlist"] == default_nlist(20_000)
    assert ivf.params["nprobe"] == default_nprobe(ivf.params["nlist"])
    rng = np.random.default_rng(2)
    queries = data[rng.choice(len(data), 200, replace=False)] + 0.1 * rng.normal(size=(200, DIM))
    recall = np.mean(
        [
            len({i for i, _ in exact.search(q, 10)} & {i for i, _ in ivf.search(q, 10)}) / 10
            for q in queries
        ]
    )
    assert recall >= 0.95


def test_fit_picks_backend_by_size_and_keeps_ids() -> None:
    data = clustered(2000)
    flat = flat_of(data)
    assert fit(flat, threshold=5000) is flat
    ivf = fit(flat, threshold=1000)
    assert isinstance(ivf, IVFSQVectors) and ivf.ntotal == 2000
    assert fit(ivf, threshold=1000) is ivf  # list count still fits: no retraining
    back = fit(ivf, threshold=5000)  # shrank below the threshold: exact again
    assert isinstance(back, FlatVectors)
    assert sorted(back.ids().tolist()) == list(range(100, 2100))
    assert back.search(data[7], 1)[0][0] == 107
    assert fit(ivf, threshold=1000, nprobe=7).params["nprobe"] == 7


def test_load_refuses_a_kind_or_params_mismatch(tmp_path: Path) -> None:
    path = tmp_path / VECTORS_FILE
    ivf = ivf_of(clustered(2000))
    ivf.save(path)
    with pytest.raises(IndexMismatchError, match="rebuild"):
        load_vectors(path, "flat", {})
    with pytest.raises(IndexMismatchError):
        load_vectors(path, "ivf_sq8", {**ivf.params, "nlist": ivf.params["nlist"] + 1})
    with pytest.raises(IndexMismatchError, match="cannot read"):
        load_vectors(path, "hnsw", {})
    flat_of(clustered(50)).save(path)
    with pytest.raises(IndexMismatchError):
        load_vectors(path, "ivf_sq8", {})


def test_manifest_records_kind_and_index_switches_by_size(fake_settings: Settings) -> None:
    build_index(fake_settings)
    m = read_manifest(fake_settings.index)
    assert m is not None
    assert m.vectors_kind == "flat" and m.vectors_params["metric"] == "inner_product"
    chunks = m.counts["chunks"]

    ann = fake_settings.with_(ann_threshold=max(1, chunks // 2))
    build_index(ann, rebuild=True)
    m = read_manifest(ann.index)
    assert m is not None and m.vectors_kind == "ivf_sq8"
    assert {"nlist", "nprobe", "quantizer"} <= set(m.vectors_params)
    idx = open_index(ann)
    assert idx.vectors.kind == "ivf_sq8" and idx.vectors.ntotal == chunks
    idx.close()

    # Deleting a source from an IVF index works incrementally (remove_ids).
    source = next(p for p in sorted(ann.sources.iterdir()) if p.suffix == ".txt")
    source.unlink()
    report = build_index(ann)
    assert report.removed >= 1
    idx = open_index(ann)
    assert idx.vectors.ntotal == idx.store.count("chunks") < chunks
    idx.close()

    # A manifest that records another kind than the file holds is refused.
    path = ann.index / MANIFEST
    data = json.loads(path.read_text())
    data["vectors"] = {"kind": "flat", "params": {}}
    path.write_text(json.dumps(data))
    with pytest.raises(IndexMismatchError):
        open_index(ann)
