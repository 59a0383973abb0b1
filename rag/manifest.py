"""The index manifest: what `INDEX/manifest.json` records, read, written and checked here.

`Manifest` is the typed view of the file: the published generation folder, the `Shape`
the index was built with (format, pipeline, model name and dimension, chunking
settings, and a hash of them all), the vector index's kind and parameters, row counts,
and each data file's SHA-256 and size. `to_json()` writes exactly the JSON earlier
versions wrote and `from_json()` reads theirs, so existing indexes keep opening.
`check_compatible` refuses an index built with other settings, naming each difference.
Nothing here touches the data files except to hash them; publishing a generation is
rag/publish.py, building one rag/indexing.py, opening one rag/loaded.py.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .embed import Encoder, get_encoder, get_query_encoder
from .errors import IndexCorruptError, IndexMismatchError
from .settings import Settings

FORMAT_VERSION = 1
# Bump when cleaning, splitting or chunking change what an index holds.
PIPELINE_VERSION = 1
MANIFEST = "manifest.json"
DB_FILE = "rag.sqlite"
VECTORS_FILE = "vectors.faiss"
COUNTED = ("files", "documents", "chunks", "sentences")  # tables whose rows are recorded


@dataclass(frozen=True)
class Shape:
    """Everything that shaped an index's contents; an index opens only with an equal one.

    `chunking` holds the settings marked `shapes_index` (Settings.index_fingerprint(),
    without the model, which is the encoder's own name here). `id` hashes the rest.
    """

    model: str
    dim: int
    chunking: dict[str, Any]
    format: int | None = FORMAT_VERSION  # None: not recorded (refused as a difference)
    pipeline: int | None = PIPELINE_VERSION
    id: str = ""

    def to_json(self) -> dict[str, Any]:
        """The manifest's "shape" object, keys in the order earlier versions wrote them."""
        data = {"format": self.format, "pipeline": self.pipeline, "model": self.model}
        return {**data, "dim": self.dim, **self.chunking, "id": self.id}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Shape:
        own = {"format", "pipeline", "model", "dim", "id"}
        return cls(
            model=data.get("model"),  # type: ignore[arg-type]  # None: refused on check
            dim=data.get("dim"),  # type: ignore[arg-type]
            chunking={k: v for k, v in data.items() if k not in own},
            format=data.get("format"),
            pipeline=data.get("pipeline"),
            id=data.get("id") or "",
        )


def fingerprint(settings: Settings, encoder: Encoder) -> Shape:
    """The shape an index built now with `settings` and `encoder` has, its `id` filled in."""
    chunking = {k: v for k, v in settings.index_fingerprint().items() if k != "model"}
    shape = Shape(encoder.name, encoder.dim, chunking)
    unhashed = {k: v for k, v in shape.to_json().items() if k != "id"}
    digest = hashlib.sha256(json.dumps(unhashed, sort_keys=True).encode()).hexdigest()[:16]
    return replace(shape, id=digest)


@dataclass(frozen=True)
class FileSum:
    """A data file of a generation as published: its SHA-256 and size in bytes."""

    sha256: str
    bytes: int


@dataclass(frozen=True)
class Manifest:
    """The typed contents of `manifest.json`; see the module docstring."""

    generation: str  # the folder name, e.g. "gen-000007"
    shape: Shape
    counts: dict[str, int]  # rows per table of COUNTED
    files: dict[str, FileSum]  # DB_FILE and VECTORS_FILE
    vectors_kind: str = "flat"  # rag/vectors.py VECTOR_KINDS; older indexes record none
    vectors_params: dict[str, Any] = field(default_factory=dict)
    built_at: str = ""  # UTC, ISO 8601 to the second
    format: int | None = FORMAT_VERSION

    def to_json(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "generation": self.generation,
            "shape": self.shape.to_json(),
            "vectors": {"kind": self.vectors_kind, "params": self.vectors_params},
            "counts": self.counts,
            "files": {n: {"sha256": f.sha256, "bytes": f.bytes} for n, f in self.files.items()},
            "built_at": self.built_at,
        }

    def encode(self) -> bytes:
        """The file's bytes, as every version has written them."""
        return json.dumps(self.to_json(), indent=2).encode()

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Manifest:
        """Raises KeyError, TypeError or ValueError for a manifest missing what it must hold."""
        vectors = data.get("vectors") or {}
        return cls(
            generation=str(data["generation"]),
            shape=Shape.from_json(data.get("shape") or {}),
            counts={str(k): int(v) for k, v in data["counts"].items()},
            files={
                str(name): FileSum(str(meta["sha256"]), int(meta.get("bytes", 0)))
                for name, meta in data["files"].items()
            },
            vectors_kind=vectors.get("kind", "flat"),
            vectors_params=vectors.get("params") or {},
            built_at=str(data.get("built_at", "")),
            format=data.get("format"),
        )


def read_manifest(index_dir: Path) -> Manifest | None:
    """The manifest of `index_dir`, None when there is none; IndexCorruptError when unreadable."""
    path = index_dir / MANIFEST
    if not path.exists():
        return None
    data: Any = None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Manifest.from_json(data)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        if isinstance(data, dict) and data.get("format") != FORMAT_VERSION:
            raise _other_format(data.get("format"), index_dir) from e  # not ours to parse
        raise IndexCorruptError(
            f"{path} is unreadable ({e}). Rebuild it with: rag index --rebuild"
        ) from e


def check_compatible(manifest: Manifest, wanted: Shape, index_dir: Path) -> None:
    """Refuse an index built with another model, dimension, format or chunking."""
    built = manifest.shape.to_json()
    diffs = [
        f"{key}: index has {built.get(key)!r}, settings want {value!r}"
        for key, value in wanted.to_json().items()
        if key != "id" and built.get(key) != value
    ]
    if diffs:
        raise IndexMismatchError(
            f"The index in {index_dir} was built with other settings ("
            + "; ".join(diffs)
            + f"). Rebuild it with: rag index --rebuild --index {index_dir}"
        )


def check_format(manifest: Manifest, index_dir: Path) -> None:
    """Refuse an index written in another on-disk format than this version reads."""
    if manifest.format != FORMAT_VERSION:
        raise _other_format(manifest.format, index_dir)


def _other_format(found: object, index_dir: Path) -> IndexMismatchError:
    return IndexMismatchError(
        f"The index in {index_dir} has format {found}, this version "
        f"reads format {FORMAT_VERSION}. Rebuild it with: rag index --rebuild"
    )


def vectors_meta(manifest: Manifest) -> dict[str, Any]:
    """The vector index's kind and parameters as recorded (`load_vectors`' keywords)."""
    return {"kind": manifest.vectors_kind, "params": dict(manifest.vectors_params)}


def document_encoder(settings: Settings, manifest: Manifest | None) -> Encoder:
    """The encoder for an index's documents: `settings.embed_backend`'s, except that under
    "auto" an index whose documents are in full precision (built with `onnx` or `torch`,
    or by a version before int8 documents) is read and updated that way. Its vectors are
    the model's own and the question encoder is the same either way, so there is nothing
    to rebuild; `rag index --rebuild` switches it to the current default."""
    encoder = get_encoder(settings.model, settings.embed_backend, settings.onnx_cache)
    if settings.embed_backend == "auto" and manifest is not None:
        full = get_query_encoder(settings.model, "auto", settings.onnx_cache)
        if full is not encoder and manifest.shape.model == full.name:
            return full
    return encoder


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
