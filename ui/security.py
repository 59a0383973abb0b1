"""Keep the web server local: an ASGI middleware in front of the Gradio app.

Gradio does not check the Host header, so a DNS-rebinding page could talk to a server on
127.0.0.1. `LocalOnly` answers, before Gradio sees a request:

- 400 when the Host header is not a local name (localhost, 127.0.0.1, [::1]) or one the
  app was told to allow (the address it binds, the `allowed_hosts` setting);
- 403 when an Origin header is present and is not this same local origin (cross-site
  requests, `Origin: null`);
- 404 for `/monitoring` and Gradio routes that reach outside or store runs remotely
  (run history buckets, vibe editing), and 403 for `file=` URLs naming a remote
  http(s) file, which Gradio would otherwise fetch from the internet.

It leaves authentication, upload limits and served folders to Gradio's own settings.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any
from urllib.parse import unquote, urlsplit

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
# Binding to every interface does not make every name local.
_WILDCARD = frozenset({"", "0.0.0.0", "::", "*"})
_BLOCKED = re.compile(
    r"^(?:/monitoring(?:/.*)?"
    r"|(?:/gradio_api)?/(?:run-history|vibe-edit|undo-vibe-edit|vibe-code|proxy=).*)$",
    re.IGNORECASE,
)
_REMOTE_FILE = re.compile(r"/file=\s*(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)


def host_name(host_header: str) -> str | None:
    """The host name of a Host header (port and IPv6 brackets removed), lower case."""
    value = host_header.strip().lower()
    if not value:
        return None
    if value.startswith("["):
        end = value.find("]")
        if end < 0 or (value[end + 1 :] and not re.fullmatch(r":\d{1,5}", value[end + 1 :])):
            return None
        return value[1:end]
    name, _, port = value.partition(":")
    if port and not port.isdigit():
        return None
    return name.rstrip(".") or None


def allowed_hosts(bind_host: str = "127.0.0.1", extra: Iterable[str] = ()) -> frozenset[str]:
    """Local names, the bound address (unless a wildcard) and `extra` (the `allowed_hosts`
    setting's names among them)."""
    names = set(LOCAL_HOSTS)
    if bind_host.strip().lower() not in _WILDCARD:
        names.add(bind_host.strip().lower().strip("[]"))
    names.update(h.strip().lower().strip("[]") for h in extra if h.strip())
    return frozenset(names)


def origin_ok(origin: str, host_header: str, hosts: frozenset[str]) -> bool:
    """True when `origin` is an http(s) origin naming an allowed host and the same host:port."""
    try:
        parts = urlsplit(origin.strip())
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    return host_name(parts.netloc) in hosts and parts.netloc.lower() == host_header.strip().lower()


def blocked_path(path: str) -> int | None:
    """The status to answer for a path the app never serves (404 or 403), else None."""
    if _BLOCKED.match(path):
        return 404
    if _REMOTE_FILE.search(unquote(path)):
        return 403
    return None


class LocalOnly:
    """ASGI middleware: the Host, Origin and path checks described in the module docstring."""

    def __init__(self, app: ASGIApp, hosts: Iterable[str] = LOCAL_HOSTS) -> None:
        self.app = app
        self.hosts = frozenset(h.lower() for h in hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "")
        if host_name(host) not in self.hosts:
            await _deny(scope, send, 400, "Bad Host header: this server answers local names only.")
            return
        origin = headers.get("origin")
        if origin is not None and not origin_ok(origin, host, self.hosts):
            await _deny(scope, send, 403, "Cross-origin requests are refused.")
            return
        status = blocked_path(scope.get("path", ""))
        if status is not None:
            await _deny(scope, send, status, "Not found." if status == 404 else "Forbidden.")
            return
        await self.app(scope, receive, send)


async def _deny(scope: Scope, send: Send, status: int, text: str) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    body = text.encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
