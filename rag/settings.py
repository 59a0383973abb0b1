"""One typed settings object: defaults, descriptions, `RAG_*` environment overrides.

Precedence, lowest first: the defaults below, `RAG_<NAME>` environment variables, then
explicit overrides (CLI flags, UI controls) passed to `Settings.load(**overrides)`.
Settings that shape the index (model, chunking) are recorded in its manifest; see
`index_fingerprint()`. This module only parses values; it checks nothing on disk.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from .errors import SettingsError

MAX_K = 50
MAX_QUESTION_CHARS = 2000


def _opt(default: Any, help: str, *, shapes_index: bool = False) -> Any:
    return field(default=default, metadata={"help": help, "shapes_index": shapes_index})


@dataclass(frozen=True)
class Settings:
    sources: Path = _opt(
        Path("sources"), "Folder of articles to index (.txt .md .html .pdf .jsonl)."
    )
    index: Path = _opt(Path("index"), "Folder where the built index is kept.")
    conversations: str = _opt(
        "", "Folder where the chat app keeps conversations (default: beside the index)."
    )
    k: int = _opt(5, f"Passages retrieved per question (1..{MAX_K}).")
    model: str = _opt(
        "all-MiniLM-L6-v2",
        "Embedding model: a registered encoder name or a sentence-transformers folder.",
        shapes_index=True,
    )
    chunk_tokens: int = _opt(
        200, "Target chunk size in tiktoken (cl100k) tokens.", shapes_index=True
    )
    chunk_overlap: int = _opt(
        1, "Sentences repeated at the start of the next chunk.", shapes_index=True
    )
    max_wordpieces: int = _opt(
        256, "Embedder window in word pieces; no chunk may exceed it.", shapes_index=True
    )
    batch_size: int = _opt(
        16, "Texts per embedding batch (8-16 ran fastest on a 2-core CPU; 64 was 30% slower)."
    )
    candidates: int = _opt(40, "Candidates each retriever (dense, BM25) proposes before fusion.")
    per_doc: int = _opt(2, "Most passages one document may hold among the top k.")
    answer_sentences: int = _opt(4, "Most sentences in an extractive answer.")
    abstain_below: float = _opt(
        -1.0,
        "Abstain when no retrieved sentence reaches this cosine to the question (0..1; -1: "
        "0.40 with the cosine scorer; with the trained reader, the floor it fitted on "
        "held-out data, its judge deciding the rest).",
    )
    answer_reader: str = _opt(
        "trained",
        "How answer sentences are chosen: trained (the shipped reader reads the best "
        "sentences and its judge orders them and decides between answered, unsure and not "
        "found) or cosine (similarity and word overlap only, with the abstain_below "
        "threshold).",
    )
    reader_threshold: float = _opt(
        -1.0,
        "Answer only when the judge's probability that the best sentence is right reaches "
        "this, else reply unsure or not found (0..1; -1: its fitted answer_at, judge.json).",
    )
    reader_shortlist: int = _opt(
        0,
        "Sentences of the cheap ranking the trained reader reads (1..40; 0: as many as its "
        "judge was fitted on, judge.json). More can find answers ranked lower, at about "
        "5-9 ms a sentence on a 2-core CPU.",
    )
    reader_model: str = _opt(
        "", "Folder of a reader made by `rag train-reader` (empty: the one shipped)."
    )
    progress: bool = _opt(True, "Show a progress bar while indexing (only on a terminal).")
    answer_mode: str = _opt(
        "auto",
        "Answer mode: extractive (quoted sentences), llm (a local model, every sentence "
        "checked against its citation), or auto (llm when llm_model or llm_url is set).",
    )
    llm_model: str = _opt(
        "", "Local LLM: path of a GGUF file run in-process (needs the [llm] extra)."
    )
    llm_url: str = _opt(
        "",
        "Local LLM: base URL of an OpenAI-compatible server on this machine, e.g. "
        "http://127.0.0.1:8080/v1 (llm_model wins when both are set).",
    )
    llm_name: str = _opt("", "Local LLM: model name sent to the llm_url server.")
    llm_allow_lan: bool = _opt(
        False, "Allow an llm_url on a private-network host (never a public one)."
    )
    llm_context: int = _opt(4096, "Local LLM: context window in tokens (0: the GGUF file's own).")
    llm_max_tokens: int = _opt(256, "Local LLM: most tokens in a generated answer.")
    llm_threads: int = _opt(
        0, "Local LLM: CPU threads for the in-process model (0: half the cores)."
    )
    llm_timeout: float = _opt(120.0, "Local LLM: seconds to wait for the llm_url server.")
    ann_threshold: int = _opt(
        200_000,
        "Chunks from which the vector index is approximate (IVF-SQ8) instead of exact.",
    )
    ann_nprobe: int = _opt(0, "Inverted lists an IVF-SQ8 index searches (0: about 3% of them).")
    embed_backend: str = _opt(
        "auto",
        "Embedding runtime: auto (where possible, onnx-int8 for documents and onnx for "
        "questions), torch, onnx (ONNX Runtime: torch's vectors, about 3x faster per "
        "question) or onnx-int8 (int8 weights, about 2.5x faster for documents, vectors "
        "move by cosine ~0.007). Changing it for documents means rebuilding the index.",
    )

    onnx_cache: str = _opt(
        "",
        "Folder where the embedding model's ONNX copies are exported, once "
        "(empty: $XDG_CACHE_HOME/rag/onnx, else ~/.cache/rag/onnx).",
    )
    allowed_hosts: str = _opt(
        "",
        "Host names the web app also answers to, comma-separated (it always answers "
        "localhost, 127.0.0.1, [::1] and the address it listens on).",
    )

    @classmethod
    def load(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then `RAG_*` variables from `env` (default `os.environ`), then overrides.

        Overrides whose value is None are ignored, so CLI flags left unset fall through.
        """
        environ = os.environ if env is None else env
        values: dict[str, Any] = {}
        origin: dict[str, str] = {}
        for f in fields(cls):
            raw = environ.get(f"RAG_{f.name.upper()}")
            if raw is not None and raw != "":
                origin[f.name] = f"RAG_{f.name.upper()}"
                values[f.name] = _parse(f.name, type(f.default), raw, origin[f.name])
        unknown = set(overrides) - {f.name for f in fields(cls)}
        if unknown:
            raise SettingsError(f"Unknown setting(s): {', '.join(sorted(unknown))}.")
        for name, value in overrides.items():
            if value is not None:
                default = next(f.default for f in fields(cls) if f.name == name)
                origin[name] = f"--{name.replace('_', '-')}"
                values[name] = _parse(name, type(default), value, origin[name])
        settings = cls(**values)
        settings.validate(origin)
        return settings

    def with_(self, **changes: Any) -> Settings:
        """A copy with some settings changed (and checked)."""
        new = replace(self, **{k: v for k, v in changes.items() if v is not None})
        new.validate()
        return new

    def validate(self, origin: dict[str, str] | None = None) -> None:
        """Raise SettingsError for an out-of-range value, naming the flag or variable
        it came from when `origin` says."""
        checks = [
            ("k", 1 <= self.k <= MAX_K, f"must be between 1 and {MAX_K}"),
            ("chunk_tokens", 16 <= self.chunk_tokens <= 2048, "must be between 16 and 2048"),
            ("chunk_overlap", 0 <= self.chunk_overlap <= 3, "must be between 0 and 3"),
            ("max_wordpieces", 32 <= self.max_wordpieces <= 8192, "must be between 32 and 8192"),
            ("batch_size", 1 <= self.batch_size <= 4096, "must be between 1 and 4096"),
            ("candidates", 1 <= self.candidates <= 1000, "must be between 1 and 1000"),
            ("per_doc", 1 <= self.per_doc <= MAX_K, f"must be between 1 and {MAX_K}"),
            ("answer_sentences", 1 <= self.answer_sentences <= 10, "must be between 1 and 10"),
            (
                "abstain_below",
                self.abstain_below == -1.0 or 0.0 <= self.abstain_below <= 1.0,
                "must be -1 (by answer reader) or between 0 and 1",
            ),
            (
                "answer_reader",
                self.answer_reader in ("trained", "cosine"),
                "must be trained or cosine",
            ),
            (
                "reader_threshold",
                self.reader_threshold == -1.0 or 0.0 <= self.reader_threshold <= 1.0,
                "must be -1 (calibrated) or between 0 and 1",
            ),
            (
                "reader_shortlist",
                0 <= self.reader_shortlist <= 40,
                "must be 0 (calibrated) or between 1 and 40",
            ),
            (
                "answer_mode",
                self.answer_mode in ("auto", "extractive", "llm"),
                "must be auto, extractive or llm",
            ),
            ("llm_context", 0 <= self.llm_context <= 1_048_576, "must be 0 or a token count"),
            ("llm_max_tokens", 1 <= self.llm_max_tokens <= 8192, "must be between 1 and 8192"),
            ("llm_threads", 0 <= self.llm_threads <= 256, "must be between 0 and 256"),
            ("llm_timeout", 0 < self.llm_timeout <= 3600, "must be between 0 and 3600"),
            ("ann_threshold", self.ann_threshold >= 1, "must be at least 1"),
            ("ann_nprobe", 0 <= self.ann_nprobe <= 65536, "must be between 0 and 65536"),
            (
                "embed_backend",
                self.embed_backend in ("auto", "torch", "onnx", "onnx-int8"),
                "must be auto, torch, onnx or onnx-int8",
            ),
        ]
        for name, ok, why in checks:
            if not ok:
                where = f" (from {origin[name]})" if origin and name in origin else ""
                raise SettingsError(f"Setting {name} = {getattr(self, name)!r}{where} {why}.")

    def index_fingerprint(self) -> dict[str, Any]:
        """The settings that shape the index; a loaded index must match all of them."""
        return {
            f.name: getattr(self, f.name) for f in fields(self) if f.metadata.get("shapes_index")
        }


def describe() -> list[tuple[str, str, str]]:
    """(name, default, description) for every setting, for `--help` and the docs."""
    return [(f.name, str(f.default), f.metadata["help"]) for f in fields(Settings)]


def _parse(name: str, kind: type, raw: Any, where: str) -> Any:
    if isinstance(raw, kind) and not (kind is int and isinstance(raw, bool)):
        return raw
    text = str(raw).strip()
    try:
        if kind is bool:
            if text.lower() in {"1", "true", "yes", "on"}:
                return True
            if text.lower() in {"0", "false", "no", "off"}:
                return False
            raise ValueError
        return kind(text)
    except ValueError:
        raise SettingsError(
            f"{where} = {text!r} is not a valid {kind.__name__} (setting {name})."
        ) from None
