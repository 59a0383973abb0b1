"""The in-process backend: a GGUF file run by llama-cpp-python, loaded once per file.

llama-cpp-python is the optional extra `pip install -e ".[llm]"`, imported on first use;
without it the backend raises `LLMUnavailable` naming the install command. Loaded models
are shared by every backend object of the same (file, context, threads), one generation
at a time each, and freed by an exit hook. It speaks no network (rag/llm/server.py does).
"""

from __future__ import annotations

import atexit
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..types import LLMOutput
from .base import LLMUnavailable, Messages, OnToken

INSTALL_HINT = (
    'Install the optional extra: CMAKE_ARGS="-DGGML_NATIVE=OFF" pip install -e ".[llm]" '
    "(builds llama.cpp, about 6 minutes on 2 cores)."
)


@dataclass
class _Loaded:
    model: Any  # llama_cpp.Llama
    lock: threading.Lock = field(default_factory=threading.Lock)  # it is not re-entrant


_MODELS: dict[tuple[str, int, int], _Loaded] = {}
_MODELS_LOCK = threading.Lock()


def _close_models() -> None:
    """Free the loaded models while llama_cpp is intact: left to the garbage collector at
    interpreter exit, each prints an "Exception ignored" traceback."""
    with _MODELS_LOCK:
        for loaded in _MODELS.values():
            loaded.model.close()
        _MODELS.clear()


class LlamaCppBackend:
    """A GGUF model run by llama-cpp-python in this process, loaded once per file."""

    def __init__(self, path: str | Path, n_ctx: int = 4096, threads: int = 0) -> None:
        self.path = Path(path).expanduser()
        self.name = self.path.name
        self.n_ctx, self.threads = n_ctx, threads or max(1, (os.cpu_count() or 2) // 2)
        if not self.path.is_file():
            raise LLMUnavailable(
                f"The local model file {self.path} does not exist "
                "(setting llm_model / RAG_LLM_MODEL / --llm-model)."
            )

    def _loaded(self) -> _Loaded:
        key = (str(self.path.resolve()), self.n_ctx, self.threads)
        with _MODELS_LOCK:
            if key not in _MODELS:
                try:
                    from llama_cpp import Llama
                except ImportError as e:
                    raise LLMUnavailable(
                        f"llama-cpp-python is not installed ({e}), so {self.name} cannot "
                        f"run in-process. {INSTALL_HINT}"
                    ) from None
                try:
                    model = Llama(
                        model_path=str(self.path),
                        n_ctx=self.n_ctx,
                        n_threads=self.threads,
                        seed=0,
                        verbose=False,
                    )
                except (ValueError, RuntimeError, OSError) as e:
                    raise LLMUnavailable(f"The model {self.path} could not be loaded: {e}") from e
                if not _MODELS:
                    atexit.register(_close_models)
                _MODELS[key] = _Loaded(model)
            return _MODELS[key]

    def context_size(self) -> int:
        return int(self._loaded().model.n_ctx())

    def generate(
        self, messages: Messages, max_tokens: int, on_token: OnToken | None = None
    ) -> LLMOutput:
        loaded = self._loaded()
        with loaded.lock:
            started = time.perf_counter()
            first, pieces = 0.0, []
            stream = loaded.model.create_chat_completion(
                messages=messages, temperature=0.0, max_tokens=max_tokens, stream=True
            )
            for chunk in stream:
                piece = chunk["choices"][0].get("delta", {}).get("content") or ""
                if piece:
                    first = first or time.perf_counter() - started
                    pieces.append(piece)
                    if on_token:
                        on_token(piece)
            seconds = time.perf_counter() - started
        return LLMOutput("".join(pieces), len(pieces), seconds, first or seconds)
