"""The HTTP backend: an OpenAI-compatible chat-completions server on this machine.

llama.cpp's server, Ollama, LM Studio or vLLM at a loopback address, streamed over SSE
with urllib (no client library). `check_local_url` refuses a URL that would send
questions and articles off the machine with a `SettingsError`, unless `llm_allow_lan` is
on, and even then only private-range addresses pass. It starts no server and loads no
model (rag/llm/llamacpp.py runs one in-process).
"""

from __future__ import annotations

import ipaddress
import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from ..errors import SettingsError
from ..types import LLMOutput
from .base import LLMUnavailable, Messages, OnToken


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
            addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
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
    ) -> LLMOutput:
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
        return LLMOutput("".join(pieces), tokens, seconds, first or seconds)


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
