"""The web app's entry points: `build_app(settings)`, `serve(settings, host, port)`.

`build_app` mounts the Gradio Blocks of `ui.page` on a FastAPI app behind the
local-only middleware of `ui.security`, with Gradio's own safety settings: no monitoring,
no run history, an upload size limit, no served folders beyond Gradio's cache, files given
to events only from Gradio's upload folder, a theme with system fonts only. `serve` builds
the index first when there is none (progress on the terminal), reports uploads a killed
run left unindexed, loads the index, then runs uvicorn; `run_in_thread` does the same in
the background for tests. `/gradio_api/ask` (named endpoint "ask") returns the answer
object of `rag ask --json`. No retrieval or answer logic here.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

# ui/__init__.py (run before this module) has switched Gradio's analytics off already.
import gradio as gr
from fastapi import FastAPI

from rag import api as rag
from rag.settings import Settings

from .assets import CSS
from .page import build_blocks
from .security import LocalOnly, allowed_hosts

MAX_UPLOAD = rag.MAX_UPLOAD_BYTES  # Gradio refuses bigger uploads (413); rag.add_sources too
THEME = gr.themes.Default(
    font=["ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif"],
    font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"],
)


def build_app(
    settings: Settings, *, host: str = "127.0.0.1", extra_hosts: tuple[str, ...] = ()
) -> FastAPI:
    """The whole web app as an ASGI app: Gradio UI + API behind the local-only middleware."""
    demo = build_blocks(settings)
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    extra = (*extra_hosts, *settings.allowed_hosts.split(","))
    app.add_middleware(LocalOnly, hosts=allowed_hosts(host, extra))
    own = [str(settings.sources.resolve()), str(settings.index.resolve())]
    app = gr.mount_gradio_app(
        app,
        demo,
        path="/",
        server_name=host,
        footer_links=["api"],
        run_history=False,
        allowed_paths=[],
        blocked_paths=own,
        max_file_size=MAX_UPLOAD,
        enable_monitoring=False,
        show_error=True,
        ssr_mode=False,
        pwa=False,
        mcp_server=False,
        theme=THEME,
        css=CSS,
    )
    # Gradio checks that a file given to an event is one it received (in its upload
    # folder) only once `launch()` has run, which a mounted app never does: without this,
    # any client could name any file on the machine and have it copied and indexed.
    demo.has_launched = True
    return app


def _terminal_progress() -> Callable[[int, int, str], None]:
    last = [0.0]

    def show(done: int, total: int, message: str) -> None:
        now = time.monotonic()
        if now - last[0] < 1.0 and done < total:
            return
        last[0] = now
        print(f"  {message}: {done}/{total}", file=sys.stderr, flush=True)

    return show


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 7860) -> None:
    """Run the web app; with no index yet, build it from the sources first (with progress)."""
    import uvicorn

    if not rag.has_index(settings):
        print(
            f"No index in {settings.index} yet; building it from {settings.sources} ...",
            file=sys.stderr,
            flush=True,
        )
        report = rag.index(settings.with_(progress=False), progress=_terminal_progress())
        print(report, file=sys.stderr, flush=True)
    for source, what in rag.recover_uploads(settings):
        print(f"{source}: {what}", file=sys.stderr, flush=True)
    print("Loading the index and the embedding model ...", file=sys.stderr, flush=True)
    rag.current_index(settings)
    app = build_app(settings, host=host)
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"Listening on {host}: other machines can connect; only the local names, "
            f"{host} and RAG_ALLOWED_HOSTS are accepted as Host.",
            file=sys.stderr,
        )
    shown = {"0.0.0.0": "127.0.0.1", "::": "[::1]", "": "127.0.0.1"}.get(host, host)
    shown = f"[{shown}]" if ":" in shown and not shown.startswith("[") else shown
    print(f"Open http://{shown}:{port}/ (Ctrl+C to stop)", file=sys.stderr, flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")


def run_in_thread(
    app: FastAPI, host: str = "127.0.0.1", port: int = 0
) -> tuple[str, Callable[[], None]]:
    """Serve `app` from a background thread (tests, notebooks): (base URL, stop function).

    Port 0 picks a free port. The stop function shuts the server down and joins the thread.
    """
    import threading

    import uvicorn

    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="rag-ui-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("The web app did not start; see the log above.")
        time.sleep(0.05)
    bound = server.servers[0].sockets[0].getsockname()[1]

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=5)
        if thread.is_alive():  # open event streams: stop waiting for them
            server.force_exit = True
            thread.join(timeout=5)

    return f"http://{host}:{bound}/", stop
