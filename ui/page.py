"""The Gradio app: the Chat, Library and Settings tabs, their handlers, the "ask" API.

`build_blocks(settings)` returns the `gr.Blocks`: it lays out each tab with its builder
(`ui.tabs`), binds the handlers of `ui.chat` and `ui.library` to the components, and
adds the "ask" API endpoint (the answer object of `rag ask --json`). `build_web_app`
returns the handler objects too, so tests can call them as the browser would. The handlers
only call `rag.api`; pages are drawn by `ui.render` and exported by `ui.export`.

Left out: serving, theming and the safety middleware (`ui.app`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# ui/__init__.py (run before this module) has switched Gradio's analytics off already.
import gradio as gr

from rag import api as rag
from rag.errors import RagError
from rag.settings import Settings

from .chat import Chat
from .library import Library
from .tabs import ChatTab, LibraryTab, SettingsTab
from .types import Json

TITLE = "News answers — cited"
INTRO = (
    "## News answers, with their sources\nAnswers are sentences quoted from the "
    "indexed articles. Click a **[n]** marker or a source to read the article with "
    "the quote highlighted."
)
MODES = ["extractive"]  # "llm" joins when a local model or server is configured


@dataclass
class WebApp:
    """The built app: its Blocks and the handlers wired into them."""

    demo: gr.Blocks
    chat: Chat
    library: Library


def build_blocks(settings: Settings) -> gr.Blocks:
    """The Gradio Blocks: Chat, Library and Settings tabs and the "ask" API endpoint."""
    return build_web_app(settings).demo


def build_web_app(settings: Settings) -> WebApp:
    """The Blocks of `build_blocks` with the handler objects bound to its components."""
    from rag.conversations import conversations_folder
    from rag.llm import llm_configured

    modes = [*MODES, "llm"] if llm_configured(settings) else list(MODES)
    suffixes = list(rag.supported_suffixes())
    with gr.Blocks(title=TITLE, analytics_enabled=False, fill_width=True) as demo:
        gr.Markdown(INTRO)
        with gr.Tabs() as tabs:
            with gr.Tab("Chat", id="chat"):
                chat_tab = ChatTab.build()
            with gr.Tab("Library", id="library"):
                library_tab = LibraryTab.build(suffixes)
            with gr.Tab("Settings", id="settings"):
                folder = str(conversations_folder(settings))
                prefs = SettingsTab.build(settings, modes, folder)
        gr.api(ask_api(settings), api_name="ask", concurrency_limit=4)
        chat = Chat(settings, modes, chat_tab, prefs)
        library = Library(settings, library_tab, chat_tab.article, tabs)
        chat.wire(demo)
        library.wire(demo)
    demo.queue(default_concurrency_limit=2)
    return WebApp(demo, chat, library)


def ask_api(settings: Settings) -> Any:
    """The "ask" endpoint's function, answering with `settings`."""

    def ask(
        question: str,
        k: int = settings.k,
        history: list[str] | None = None,
        mode: str | None = None,
    ) -> Json:
        """Answer one question; returns the answer object of `rag ask --json` (CONTRACT.md).

        `mode` ("extractive", "llm", "auto"; default the app's setting) picks the answerer."""
        try:
            return rag.answer(
                question, settings, k=int(k), history=history or None, mode=mode or None
            ).to_json()
        except RagError as e:
            raise gr.Error(str(e), print_exception=False) from None

    return ask
