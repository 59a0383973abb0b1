"""Opening the published index for reading: `open_index(settings)` -> `LoadedIndex`.

Before anything is served, the manifest is checked against this version's format and
the settings (model, dimension, chunking), every data file against its checksum, and
FAISS' vector count against the chunk rows and the manifest; each refusal says how to
fix it. A `LoadedIndex` keeps its generation open even after a newer one is published
(rag/api.py reopens). It builds and writes nothing (rag/indexing.py does).
"""

from __future__ import annotations

from typing import Any

from .embed import get_query_encoder
from .errors import IndexCorruptError, IndexMismatchError, IndexMissingError
from .manifest import (
    DB_FILE,
    VECTORS_FILE,
    Manifest,
    check_compatible,
    check_format,
    document_encoder,
    file_sha256,
    fingerprint,
    read_manifest,
    vectors_meta,
)
from .settings import Settings
from .store import Store
from .vectors import load_vectors


class LoadedIndex:
    """A published generation opened for reading: store, vectors, encoder, manifest."""

    def __init__(self, settings: Settings) -> None:
        index_dir = settings.index
        manifest = read_manifest(index_dir)
        if manifest is None:
            raise IndexMissingError(
                f"No index in {index_dir}. Build one with: rag index --sources {settings.sources} "
                f"--index {index_dir}"
            )
        check_format(manifest, index_dir)
        self.encoder = document_encoder(settings, manifest)
        check_compatible(manifest, fingerprint(settings, self.encoder), index_dir)
        # Questions may use a more precise encoder of the same model (see get_query_encoder).
        self.query_encoder = get_query_encoder(
            settings.model, settings.embed_backend, settings.onnx_cache
        )
        generation = index_dir / manifest.generation
        for name, summed in manifest.files.items():
            path = generation / name
            if not path.exists() or file_sha256(path) != summed.sha256:
                raise IndexCorruptError(
                    f"{path} is missing or does not match its checksum in the manifest. "
                    "Rebuild the index with: rag index --rebuild"
                )
        self.manifest: Manifest = manifest
        self.settings = settings
        self.store = Store(generation / DB_FILE, readonly=True)
        meta = vectors_meta(manifest)
        if settings.ann_nprobe:  # a search-time setting: overrides what the build recorded
            meta["params"]["nprobe"] = settings.ann_nprobe
        self.vectors = load_vectors(generation / VECTORS_FILE, **meta)
        chunks = self.store.count("chunks")
        recorded = manifest.counts["chunks"]
        if self.vectors.ntotal != chunks or chunks != recorded:
            raise IndexCorruptError(
                f"The index in {index_dir} is inconsistent: {self.vectors.ntotal} vectors, "
                f"{chunks} chunk rows, manifest says {recorded}. "
                "Rebuild it with: rag index --rebuild"
            )
        if self.vectors.dim != self.encoder.dim:
            raise IndexMismatchError(
                f"The index vectors have dimension {self.vectors.dim} but the model "
                f"{self.encoder.name} gives {self.encoder.dim}. Rebuild with: rag index --rebuild"
            )
        self._documents: dict[int, dict[str, Any]] = {}

    @property
    def generation(self) -> str:
        """The folder name of the generation this index reads, e.g. "gen-000007"."""
        return self.manifest.generation

    def document(self, doc: int) -> dict[str, Any]:
        """Metadata (without the text) of the document with row id `doc`, cached: the
        generation is immutable, and every retrieval asks for its passages' documents."""
        if doc not in self._documents:
            meta = self.store.document(doc)
            meta.pop("text")
            self._documents[doc] = meta
        return self._documents[doc]

    def document_by_doc_id(self, doc_id: str) -> dict[str, Any] | None:
        """The document `doc_id` with its cleaned text, or None if the index lacks it."""
        return self.store.document_by_doc_id(doc_id)

    def list_documents(self) -> list[dict[str, Any]]:
        """Every document's metadata and chunk count, by doc_id."""
        return self.store.list_documents()

    def close(self) -> None:
        self.store.close()


def open_index(settings: Settings) -> LoadedIndex:
    return LoadedIndex(settings)
