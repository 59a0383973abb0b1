"""FAISS vector indexes keyed by SQLite chunk row ids: exact for small, IVF-SQ8 for large.

Two kinds of index share one interface (`add`, `remove`, `search`, `reconstruct`, `save`, `load`,
`ntotal`, `dim`, `kind`, `params`):

- `FlatVectors` (kind "flat"): `IndexIDMap2(IndexFlatIP)`, exact cosine search on
  normalized float32 vectors (4 bytes x dim per vector).
- `IVFSQVectors` (kind "ivf_sq8"): `IndexIVFScalarQuantizer` with 8-bit codes (1 byte x dim
  per vector) and `nlist` inverted lists, searched with `nprobe` of them; ids are the
  index's own (`add_with_ids`), kept in a hash-table direct map so that vectors stay
  reconstructible (decoded from their codes) and `remove` works. Recall@10 against exact
  search is checked by `rag bench` and by tests/test_vectors.py.

`fit(vectors, threshold)` returns the kind of index the index size calls for (exact below
`threshold` vectors, IVF-SQ8 at or above it), converting through the stored vectors when
the kind or the IVF's list count no longer fits; `load_vectors(path, kind, params)` reads
a saved index and refuses one whose kind or parameters differ from what the manifest
records. Files are written where the caller says; atomicity and checksums are the index
builder's job. No HNSW: FAISS cannot delete from it, and at 10^6 vectors IVF-SQ8
searches in ~2 ms CPU with recall@10 0.98 in 411 MB (BENCHMARKS.md).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from .errors import IndexMismatchError

if TYPE_CHECKING:
    import numpy as np

# IVF defaults: lists ~ 2 sqrt(n); probe enough lists for recall@10 >= 0.95 vs exact.
IVF_MIN_NLIST = 16
IVF_NPROBE_SHARE = 0.03  # of the lists, at least IVF_MIN_NPROBE
IVF_MIN_NPROBE = 24
TRAIN_PER_LIST = 64  # training sample: this many vectors per list (k-means)
TRAIN_ITERATIONS = 12


class Vectors(Protocol):
    kind: str
    dim: int
    index: Any  # the FAISS index itself

    @property
    def ntotal(self) -> int: ...

    @property
    def params(self) -> dict[str, Any]: ...

    def add(self, ids: Sequence[int] | np.ndarray, vectors: np.ndarray) -> None: ...

    def remove(self, ids: list[int]) -> None: ...

    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]: ...

    def reconstruct(self, ids: list[int]) -> np.ndarray: ...

    def ids(self) -> np.ndarray: ...

    def save(self, path: Path) -> None: ...


class _Faiss:
    """What both kinds share: a FAISS index keyed by chunk ids, saved to one file."""

    index: Any

    def save(self, path: Path) -> None:
        import faiss

        faiss.write_index(self.index, str(path))

    @property
    def ntotal(self) -> int:
        return int(self.index.ntotal)

    def add(self, ids: Sequence[int] | np.ndarray, vectors: np.ndarray) -> None:
        import numpy as np

        if len(ids):
            self.index.add_with_ids(
                np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64)
            )

    def remove(self, ids: list[int]) -> None:
        import numpy as np

        if len(ids):
            self.index.remove_ids(np.asarray(ids, dtype=np.int64))

    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """(id, cosine) of the k nearest vectors, best first (approximate for IVF)."""
        return _search(self.index, self.ntotal, vector, k)


class FlatVectors(_Faiss):
    """Exact inner-product search; see the module docstring."""

    kind = "flat"

    def __init__(self, dim: int, index: object | None = None) -> None:
        import faiss

        self.dim = dim
        self.index = index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dim))

    @classmethod
    def load(cls, path: Path) -> FlatVectors:
        import faiss

        index = faiss.read_index(str(path))
        return cls(index.d, index)

    @property
    def params(self) -> dict[str, Any]:
        return {"metric": "inner_product", "dtype": "float32"}

    def reconstruct(self, ids: list[int]) -> np.ndarray:
        import numpy as np

        return self.index.reconstruct_batch(np.asarray(ids, dtype=np.int64))

    def ids(self) -> np.ndarray:
        import faiss

        return faiss.vector_to_array(self.index.id_map)


class IVFSQVectors(_Faiss):
    """Inverted lists of 8-bit scalar-quantized vectors; see the module docstring."""

    kind = "ivf_sq8"

    def __init__(self, index: object, nprobe: int | None = None) -> None:
        self.index = index
        self.dim = int(index.d)  # type: ignore[attr-defined]
        if nprobe is not None:
            index.nprobe = nprobe  # type: ignore[attr-defined]

    @classmethod
    def train(
        cls, dim: int, sample: np.ndarray, nlist: int, nprobe: int | None = None
    ) -> IVFSQVectors:
        """An empty index whose lists and quantizer ranges are learned from `sample`."""
        import faiss
        import numpy as np

        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFScalarQuantizer(
            quantizer, dim, nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
        )
        index.cp.seed = 1234
        index.cp.max_points_per_centroid = TRAIN_PER_LIST
        index.cp.niter = TRAIN_ITERATIONS
        index.train(np.ascontiguousarray(sample, dtype=np.float32))
        index.set_direct_map_type(faiss.DirectMap.Hashtable)  # type: ignore[attr-defined]  # SWIG
        return cls(index, nprobe if nprobe is not None else default_nprobe(nlist))

    @classmethod
    def load(cls, path: Path) -> IVFSQVectors:
        import faiss

        index = faiss.read_index(str(path))
        if not isinstance(index, faiss.IndexIVFScalarQuantizer):
            raise IndexMismatchError(f"{path} is not an IVF-SQ8 index.")
        return cls(index)

    @property
    def nlist(self) -> int:
        return int(self.index.nlist)

    @property
    def nprobe(self) -> int:
        return int(self.index.nprobe)

    @property
    def params(self) -> dict[str, Any]:
        return {
            "metric": "inner_product",
            "nlist": self.nlist,
            "nprobe": self.nprobe,
            "quantizer": "SQ8",
        }

    def reconstruct(self, ids: list[int]) -> np.ndarray:
        """The vectors of `ids`, decoded from their 8-bit codes (error ~ 1e-3 per value)."""
        import numpy as np

        if not len(ids):
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self.index.reconstruct(int(i)) for i in ids])

    def ids(self) -> np.ndarray:
        import faiss
        import numpy as np

        lists = self.index.invlists
        parts = [
            faiss.rev_swig_ptr(lists.get_ids(n), lists.list_size(n)).copy()
            for n in range(self.nlist)
            if lists.list_size(n)
        ]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def _search(index: Any, ntotal: int, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
    import faiss
    import numpy as np

    if ntotal == 0:
        return []
    # One query is faster on one thread: OpenMP's team start-up and spin-waiting cost more
    # than they save, and far more when other processes compete for the cores.
    faiss.omp_set_num_threads(1)
    scores, ids = index.search(np.asarray(vector, dtype=np.float32).reshape(1, -1), k)
    return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]


def default_nlist(n: int) -> int:
    """Inverted lists for `n` vectors: about 2 sqrt(n), at least IVF_MIN_NLIST."""
    return max(IVF_MIN_NLIST, round(2 * math.sqrt(max(n, 1))))


def default_nprobe(nlist: int) -> int:
    return min(nlist, max(IVF_MIN_NPROBE, math.ceil(IVF_NPROBE_SHARE * nlist)))


def all_vectors(vectors: Vectors) -> tuple[np.ndarray, np.ndarray]:
    """(ids, float32 vectors) of everything stored, for rebuilding another kind."""
    ids = vectors.ids()
    return ids, vectors.reconstruct(ids.tolist()) if len(ids) else ids


def fit(vectors: Vectors, threshold: int, nprobe: int | None = None) -> Vectors:
    """`vectors` itself, or the same ids and vectors in the kind their count calls for.

    Exact below `threshold` vectors; IVF-SQ8 at or above it, retrained (lists learned
    anew) when its list count is off by more than 2x from `default_nlist(ntotal)`, so an
    index that grew or shrank a lot is re-clustered. The vectors are never re-embedded:
    they come from the index itself (exactly from flat, decoded from IVF-SQ8).
    """
    import numpy as np

    n = vectors.ntotal
    if n < threshold:
        if isinstance(vectors, FlatVectors):
            return vectors
        ids, data = all_vectors(vectors)
        flat = FlatVectors(vectors.dim)
        flat.add(ids.tolist(), data)
        return flat
    want = default_nlist(n)
    if isinstance(vectors, IVFSQVectors) and want / 2 <= vectors.nlist <= want * 2:
        if nprobe is not None:
            vectors.index.nprobe = nprobe
        return vectors
    import faiss

    faiss.omp_set_num_threads(os.cpu_count() or 1)  # training and adding use every core
    ids, data = all_vectors(vectors)
    rng = np.random.default_rng(0)
    take = min(n, want * TRAIN_PER_LIST)
    sample = data[np.sort(rng.choice(n, take, replace=False))] if take < n else data
    ivf = IVFSQVectors.train(vectors.dim, sample, want, nprobe)
    del sample
    step = 1 << 16
    for i in range(0, n, step):
        ivf.add(ids[i : i + step].tolist(), data[i : i + step])
    return ivf


VECTOR_KINDS: dict[str, Any] = {FlatVectors.kind: FlatVectors, IVFSQVectors.kind: IVFSQVectors}


def load_vectors(path: Path, kind: str = "flat", params: dict[str, Any] | None = None) -> Vectors:
    """Read a saved index, checking it is the `kind` (and `params`) the manifest records."""
    cls = VECTOR_KINDS.get(kind)
    if cls is None:
        raise IndexMismatchError(
            f"The index's vectors are of kind {kind!r}, which this version cannot read "
            f"(known: {', '.join(VECTOR_KINDS)}). Rebuild it with: rag index --rebuild"
        )
    vectors = cls.load(path)
    recorded = {k: v for k, v in (params or {}).items() if k != "nprobe"}
    actual = {k: v for k, v in vectors.params.items() if k != "nprobe"}
    loaded_kind = "ivf_sq8" if _is_ivf(vectors.index) else "flat"
    if loaded_kind != kind or (recorded and recorded != actual):
        raise IndexMismatchError(
            f"{path} holds a {loaded_kind} index {actual}, but the manifest records "
            f"{kind} {recorded}. Rebuild it with: rag index --rebuild"
        )
    if isinstance(vectors, IVFSQVectors) and params and params.get("nprobe"):
        vectors.index.nprobe = int(params["nprobe"])
    return vectors


def _is_ivf(index: Any) -> bool:
    import faiss

    return isinstance(index, faiss.IndexIVF)
