"""What every local-LLM backend is: the `Backend` protocol, its message and callback
types, and `LLMUnavailable`, the error that makes an answer fall back to extractive.

A backend takes chat messages and returns a `LLMOutput` (rag/types.py); it fits no
prompt and checks no answer. The two backends are rag/llm/llamacpp.py (in-process GGUF)
and rag/llm/server.py (an OpenAI-compatible server on this machine).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from ..errors import RagError
from ..types import LLMOutput

Messages = list[dict[str, str]]
OnToken = Callable[[str], None]


class LLMUnavailable(RagError):
    """The configured model cannot answer now (missing file, server down, no library)."""


class Backend(Protocol):
    name: str  # what the answer object reports as the model

    def context_size(self) -> int:
        """The model's context window in its own tokens."""
        ...

    def generate(
        self, messages: Messages, max_tokens: int, on_token: OnToken | None = None
    ) -> LLMOutput:
        """Greedy chat completion of `messages`; `on_token` sees each piece as it comes."""
        ...
