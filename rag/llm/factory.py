"""Choosing how to answer: extractive or LLM mode, and which local backend runs.

`resolve_mode` turns `answer_mode` ("auto": llm when a model or server is configured) into
"llm" or "extractive"; `backend_for` builds the configured backend, a GGUF file
(`llm_model`) winning over a server (`llm_url`). It loads nothing and connects nowhere:
the backends do that on their first use.
"""

from __future__ import annotations

from ..errors import SettingsError
from ..settings import Settings
from .base import Backend, LLMUnavailable
from .llamacpp import LlamaCppBackend
from .server import OpenAIBackend


def llm_configured(settings: Settings) -> bool:
    return bool(settings.llm_model or settings.llm_url)


def resolve_mode(settings: Settings, mode: str | None = None) -> str:
    """ "llm" or "extractive": `mode` if given, else settings.answer_mode ("auto": llm
    when a model or server is configured)."""
    mode = mode or settings.answer_mode
    if mode not in ("auto", "extractive", "llm"):
        raise SettingsError(f"Answer mode {mode!r} is unknown: use extractive, llm or auto.")
    if mode == "auto":
        return "llm" if llm_configured(settings) else "extractive"
    return mode


def backend_for(settings: Settings) -> Backend:
    """The configured backend: llm_model (a GGUF file) wins over llm_url (a server)."""
    if settings.llm_model:
        return LlamaCppBackend(settings.llm_model, settings.llm_context, settings.llm_threads)
    if settings.llm_url:
        return OpenAIBackend(
            settings.llm_url,
            settings.llm_name,
            n_ctx=settings.llm_context,
            allow_lan=settings.llm_allow_lan,
            timeout=settings.llm_timeout,
        )
    raise LLMUnavailable(
        "No local model is configured: set llm_model (a .gguf file, --llm-model) or "
        "llm_url (an OpenAI-compatible server on this machine, --llm-url)."
    )
