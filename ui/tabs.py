"""The app's three tabs laid out: one builder per tab, each returning its components.

`ChatTab.build()`, `LibraryTab.build(suffixes)` and `SettingsTab.build(settings, modes,
folder)` are called inside the `gr.Blocks` (and the tab) by `ui.page.build_web_app`;
each returns a dataclass of the components it made, including the `gr.State`s of that tab,
so the handlers of `ui.chat` and `ui.library` can name what they read and update
(`Updates`). The user-facing strings of the layout (example questions, help texts) are
constants here.

Left out: what any component does when used (the handlers and their wiring).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# ui/__init__.py (run before this module) has switched Gradio's analytics off already.
import gradio as gr
from gradio.blocks import Block

from rag.settings import MAX_K, MAX_QUESTION_CHARS, Settings

from . import render
from .assets import CITE_JS, LIBRARY_JS, SCROLL_JS

# Questions the seed articles answer (and one they do not), shown in the empty chat.
EXAMPLES = [
    "When did Russia's Supreme Court lift the ban on the Taliban?",
    "Since when has Moscow kept unofficial contacts with the Taliban?",
    "Which militant group was behind the March 2024 terrorist attack in Moscow?",
    "What fuel could Afghanistan help Russia move toward Southeast Asia?",
    "Who won the 2022 FIFA World Cup?",
]
MODE_LABELS = {"extractive": "Extractive (quoted sentences)", "llm": "Local LLM (checked)"}
MODE_HELP = "Extractive: the answer is quoted sentences, never generated text. "
MODE_HELP_LLM = (
    "Local LLM: the local model writes the answer and every sentence is "
    "checked against the passage it cites; unsupported ones are flagged ⚠."
)
MODE_HELP_NO_LLM = (
    "Start the app with a local model (--llm-model or --llm-url) to add the local-LLM mode."
)
K_HELP = (
    "How many of the best-matching passages are read to build each answer and listed "
    "beside it. More can find an answer spread over several articles; fewer keeps the "
    "answer to the closest matches."
)
SCORES_HELP = (
    "Shows, on each passage, how close its meaning is to the question (0 to 1, "
    "comparable from one question to the next)."
)
SAVED_NOTE = "Conversations and these settings are saved on this computer, in {folder}."

# What an event handler returns: the new value (or `gr.update(...)`) of each component it
# changes; the components it leaves out keep theirs. A real type, not a string: Gradio
# reads the handlers' type hints at run time to find their `gr.EventData` parameter.
Updates = dict[Block, Any]


@dataclass
class ChatTab:
    """The Chat tab: the conversation, the question box, and the sources and article beside."""

    turns: gr.State  # the conversation: one `ui.chat.Turn` (an Answer and its id) per question
    conv: gr.State  # its id in the conversation store
    selected: gr.State  # the answer whose sources are shown
    history: gr.Dropdown
    new_btn: gr.Button
    chatbot: gr.Chatbot
    question: gr.Textbox
    ask_btn: gr.Button
    clear_btn: gr.Button
    export_all: gr.DownloadButton
    export_one: gr.DownloadButton
    clear_confirm: gr.Group
    clear_text: gr.HTML
    clear_yes: gr.Button
    clear_no: gr.Button
    sources: gr.HTML
    article: gr.HTML

    def conversation_outputs(self) -> list[Any]:
        """The components that show one conversation (set by `Chat._show`)."""
        return [
            self.chatbot,
            self.turns,
            self.conv,
            self.selected,
            self.sources,
            self.article,
            self.export_all,
            self.export_one,
            self.history,
        ]

    @classmethod
    def build(cls) -> ChatTab:
        turns, conv, selected = gr.State([]), gr.State(""), gr.State(-1)
        with gr.Row(equal_height=False):
            with gr.Column(scale=5):
                with gr.Row(equal_height=True):
                    history = gr.Dropdown(
                        label="Earlier conversations", choices=[], scale=4, elem_id="rag-history"
                    )
                    new_btn = gr.Button("New conversation", size="sm", scale=1, elem_id="rag-new")
                chatbot = gr.Chatbot(
                    label="Conversation",
                    elem_id="rag-chat",
                    height=460,
                    render_markdown=False,
                    sanitize_html=True,
                    latex_delimiters=[],
                    allow_tags=False,
                    feedback_options=None,
                    buttons=[],
                    group_consecutive_messages=False,
                    placeholder="Ask about the articles in the library, or pick an example:",
                    examples=[{"text": q} for q in EXAMPLES],
                )
                with gr.Row():
                    question = gr.Textbox(
                        show_label=False,
                        scale=8,
                        elem_id="rag-question",
                        placeholder="Ask a question, e.g. When was the ban lifted?",
                        max_length=MAX_QUESTION_CHARS,
                        autofocus=True,
                    )
                    ask_btn = gr.Button("Ask", variant="primary", scale=1, elem_id="rag-ask")
                with gr.Row():
                    clear_btn = gr.Button("Delete conversation…", size="sm", elem_id="rag-clear")
                    export_all = gr.DownloadButton(
                        "Export conversation (.md)",
                        size="sm",
                        interactive=False,
                        elem_id="rag-export-all",
                    )
                    export_one = gr.DownloadButton(
                        "Export this answer (.md)",
                        size="sm",
                        interactive=False,
                        elem_id="rag-export-one",
                    )
                with gr.Group(
                    visible=False, elem_id="rag-clear-confirm", elem_classes="rag-confirm"
                ) as clear_confirm:
                    clear_text = gr.HTML(apply_default_css=False)
                    with gr.Row():
                        clear_yes = gr.Button(
                            "Yes, delete it", variant="stop", size="sm", elem_id="rag-clear-yes"
                        )
                        clear_no = gr.Button("Cancel", size="sm", elem_id="rag-clear-no")
            with gr.Column(scale=4, elem_id="rag-right"):
                sources = gr.HTML(render.LOADING, js_on_load=CITE_JS, elem_id="rag-sources")
                article = gr.HTML(
                    render.ARTICLE_PLACEHOLDER, js_on_load=SCROLL_JS, elem_id="rag-article"
                )
        return cls(
            turns=turns,
            conv=conv,
            selected=selected,
            history=history,
            new_btn=new_btn,
            chatbot=chatbot,
            question=question,
            ask_btn=ask_btn,
            clear_btn=clear_btn,
            export_all=export_all,
            export_one=export_one,
            clear_confirm=clear_confirm,
            clear_text=clear_text,
            clear_yes=clear_yes,
            clear_no=clear_no,
            sources=sources,
            article=article,
        )


@dataclass
class LibraryTab:
    """The Library tab: add files, remove one (after asking), re-index, search the table."""

    pending: gr.State  # the file a confirmed "Remove" takes away
    files: gr.File
    upload_report: gr.HTML
    to_remove: gr.Dropdown
    remove_btn: gr.Button
    remove_confirm: gr.Group
    remove_text: gr.HTML
    remove_yes: gr.Button
    remove_no: gr.Button
    reindex_btn: gr.Button
    maintenance: gr.HTML
    search: gr.Textbox
    table: gr.HTML

    @classmethod
    def build(cls, suffixes: list[str]) -> LibraryTab:
        pending = gr.State(None)
        with gr.Row(equal_height=False):
            with gr.Column():
                files = gr.File(
                    label=f"Add articles ({' '.join(suffixes)}; several at once)",
                    file_count="multiple",
                    file_types=suffixes,
                    type="filepath",
                    height=140,
                    elem_id="rag-upload",
                )
            with gr.Column():
                upload_report = gr.HTML(
                    '<div class="rag-empty">Each added file gets its own line here.</div>',
                    elem_id="rag-upload-report",
                    apply_default_css=False,
                )
        with gr.Row(equal_height=False):
            with gr.Column():
                to_remove = gr.Dropdown(
                    label="Remove an article (you are asked first; its file goes to "
                    "the trash folder)",
                    choices=[],
                    elem_id="rag-remove-choice",
                )
                remove_btn = gr.Button("Remove…", variant="stop", elem_id="rag-remove")
                with gr.Group(
                    visible=False, elem_id="rag-remove-confirm", elem_classes="rag-confirm"
                ) as remove_confirm:
                    remove_text = gr.HTML(elem_id="rag-remove-text", apply_default_css=False)
                    with gr.Row():
                        remove_yes = gr.Button(
                            "Yes, move it to the trash",
                            variant="stop",
                            size="sm",
                            elem_id="rag-remove-yes",
                        )
                        remove_no = gr.Button("Cancel", size="sm", elem_id="rag-remove-no")
            with gr.Column():
                reindex_btn = gr.Button("Re-index the sources folder", elem_id="rag-reindex")
                maintenance = gr.HTML(elem_id="rag-maintenance", apply_default_css=False)
        search = gr.Textbox(
            label="Search the library",
            elem_id="rag-lib-search",
            placeholder="title, publisher, date or file name",
        )
        table = gr.HTML(elem_id="rag-library", apply_default_css=False, js_on_load=LIBRARY_JS)
        return cls(
            pending=pending,
            files=files,
            upload_report=upload_report,
            to_remove=to_remove,
            remove_btn=remove_btn,
            remove_confirm=remove_confirm,
            remove_text=remove_text,
            remove_yes=remove_yes,
            remove_no=remove_no,
            reindex_btn=reindex_btn,
            maintenance=maintenance,
            search=search,
            table=table,
        )


@dataclass
class SettingsTab:
    """The Settings tab: passages per answer, answer mode, match scores."""

    k: gr.Slider
    mode: gr.Radio
    show_scores: gr.Checkbox

    @classmethod
    def build(cls, settings: Settings, modes: list[str], folder: str) -> SettingsTab:
        """`modes`: the answer modes on offer; `folder`: where preferences are saved."""
        from rag.llm import resolve_mode

        k = gr.Slider(
            1,
            MAX_K,
            value=settings.k,
            step=1,
            elem_id="rag-k",
            label="Passages per answer (k)",
            info=K_HELP,
        )
        mode = gr.Radio(
            [(MODE_LABELS[m], m) for m in modes],
            value=resolve_mode(settings),
            label="Answer mode",
            elem_id="rag-mode",
            info=MODE_HELP + (MODE_HELP_LLM if "llm" in modes else MODE_HELP_NO_LLM),
        )
        show_scores = gr.Checkbox(
            False, label="Show match scores", info=SCORES_HELP, elem_id="rag-scores"
        )
        gr.Markdown(SAVED_NOTE.format(folder=folder))
        return cls(k=k, mode=mode, show_scores=show_scores)
