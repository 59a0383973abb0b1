"""Local-LLM answers: two offline backends, prompt fitting, and the checked answer.

One small module per part, as txtai splits its ANN backends:

* `base`: the `Backend` protocol and `LLMUnavailable`;
* `llamacpp`: `LlamaCppBackend`, a GGUF file run in-process by llama-cpp-python (the
  optional extra `pip install -e ".[llm]"`; imported lazily, with an ImportError message
  naming it);
* `server`: `OpenAIBackend`, any OpenAI-compatible chat-completions server (llama.cpp's
  server, Ollama, LM Studio, vLLM) at a loopback address, streamed over SSE with urllib;
  a non-loopback URL is refused (`check_local_url`) unless `llm_allow_lan` is on, and
  even then only private-range addresses are accepted;
* `factory`: `resolve_mode` (extractive or llm) and `backend_for(settings)`;
* `prompt`: the prompt's wording (constants) and `fit_prompt`, the top passages in the
  model's context (tiktoken counts; lowest-ranked dropped first; a passage is never cut
  mid-sentence);
* `checked`: `answer_with_llm(index, question, k)`, which generates and checks every
  sentence with `rag.grounding`, falling back to the extractive answer with a `note`
  when the model cannot be used or none of its sentences is supported.

Everything public is importable from `rag.llm`. Nothing here leaves the machine.
"""

from ..types import LLMOutput, LLMRun
from .base import Backend, LLMUnavailable, Messages, OnToken
from .checked import answer_with_llm, is_abstention
from .factory import backend_for, llm_configured, resolve_mode
from .llamacpp import INSTALL_HINT, LlamaCppBackend
from .prompt import MESSAGE_OVERHEAD, TOKEN_MARGIN, Fitted, count_tokens, fit_prompt
from .server import OpenAIBackend, check_local_url

__all__ = [
    "INSTALL_HINT",
    "MESSAGE_OVERHEAD",
    "TOKEN_MARGIN",
    "Backend",
    "Fitted",
    "LLMOutput",
    "LLMRun",
    "LLMUnavailable",
    "LlamaCppBackend",
    "Messages",
    "OnToken",
    "OpenAIBackend",
    "answer_with_llm",
    "backend_for",
    "check_local_url",
    "count_tokens",
    "fit_prompt",
    "is_abstention",
    "llm_configured",
    "resolve_mode",
]
