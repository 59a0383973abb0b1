"""The Gradio layout and its wiring: Chat, Library and Settings tabs, "ask" API.

`build_blocks(settings)` returns the `gr.Blocks`. The handlers live in `ui.chat` and
`ui.library` and only call `rag.api`; pages are drawn by `ui.render` and exported by
`ui.export`. Serving, theming and the safety middleware are `ui.app`'s job.
"""

from __future__ import annotations

from typing import Any

# ui/__init__.py (run before this module) has switched Gradio's analytics off already.
import gradio as gr

from rag import api as rag
from rag.errors import RagError
from rag.settings import MAX_K, MAX_QUESTION_CHARS, Settings

from . import render
from .assets import CITE_JS, LIBRARY_JS, SCROLL_JS
from .chat import Chat
from .library import Library

Json = dict[str, Any]

# Questions the seed articles answer (and one they do not), shown in the empty chat.
EXAMPLES = [
    "When did Russia's Supreme Court lift the ban on the Taliban?",
    "Since when has Moscow kept unofficial contacts with the Taliban?",
    "Which militant group was behind the March 2024 terrorist attack in Moscow?",
    "What fuel could Afghanistan help Russia move toward Southeast Asia?",
    "Who won the 2022 FIFA World Cup?",
]
MODES = ["extractive"]  # "llm" joins when a local model or server is configured
MODE_LABELS = {"extractive": "Extractive (quoted sentences)", "llm": "Local LLM (checked)"}
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


def build_blocks(settings: Settings) -> gr.Blocks:
    """The Gradio Blocks: Chat, Library and Settings tabs and the "ask" API endpoint."""

    from rag.conversations import conversations_folder
    from rag.llm import llm_configured, resolve_mode

    modes = [*MODES, "llm"] if llm_configured(settings) else list(MODES)
    chat = Chat(settings, modes)
    lib = Library(settings)

    def ask_api(
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

    suffixes = list(rag.supported_suffixes())
    private: dict[str, Any] = {"api_visibility": "private"}
    with gr.Blocks(title="News answers — cited", analytics_enabled=False, fill_width=True) as demo:
        turns = gr.State([])  # the conversation: one CONTRACT answer object per question
        conv = gr.State("")  # its id in the conversation store
        selected = gr.State(-1)  # the answer whose sources are shown
        pending = gr.State(None)  # the file a confirmed "Remove" takes away
        gr.Markdown(
            "## News answers, with their sources\nAnswers are sentences quoted from the "
            "indexed articles. Click a **[n]** marker or a source to read the article with "
            "the quote highlighted.",
        )
        with gr.Tabs() as tabs:
            with gr.Tab("Chat", id="chat"), gr.Row(equal_height=False):
                with gr.Column(scale=5):
                    with gr.Row(equal_height=True):
                        history = gr.Dropdown(
                            label="Earlier conversations",
                            choices=[],
                            scale=4,
                            elem_id="rag-history",
                        )
                        new_btn = gr.Button(
                            "New conversation", size="sm", scale=1, elem_id="rag-new"
                        )
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
                        clear_btn = gr.Button(
                            "Delete conversation…", size="sm", elem_id="rag-clear"
                        )
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
            with gr.Tab("Library", id="library"):
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
                            remove_text = gr.HTML(
                                elem_id="rag-remove-text", apply_default_css=False
                            )
                            with gr.Row():
                                remove_yes = gr.Button(
                                    "Yes, move it to the trash",
                                    variant="stop",
                                    size="sm",
                                    elem_id="rag-remove-yes",
                                )
                                remove_no = gr.Button("Cancel", size="sm", elem_id="rag-remove-no")
                    with gr.Column():
                        reindex_btn = gr.Button(
                            "Re-index the sources folder", elem_id="rag-reindex"
                        )
                        maintenance = gr.HTML(elem_id="rag-maintenance", apply_default_css=False)
                search = gr.Textbox(
                    label="Search the library",
                    elem_id="rag-lib-search",
                    placeholder="title, publisher, date or file name",
                )
                table = gr.HTML(
                    elem_id="rag-library", apply_default_css=False, js_on_load=LIBRARY_JS
                )
            with gr.Tab("Settings", id="settings"):
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
                    info="Extractive: the answer is quoted sentences, never generated text. "
                    + (
                        "Local LLM: the local model writes the answer and every sentence is "
                        "checked against the passage it cites; unsupported ones are flagged ⚠."
                        if "llm" in modes
                        else "Start the app with a local model (--llm-model or --llm-url) "
                        "to add the local-LLM mode."
                    ),
                )
                show_scores = gr.Checkbox(
                    False, label="Show match scores", info=SCORES_HELP, elem_id="rag-scores"
                )
                gr.Markdown(SAVED_NOTE.format(folder=conversations_folder(settings)))

        gr.api(ask_api, api_name="ask", concurrency_limit=4)
        ask_in = [turns, conv, k, show_scores, mode]
        ask_out = [
            chatbot,
            question,
            turns,
            selected,
            sources,
            export_all,
            export_one,
            conv,
            history,
        ]
        asking: dict[str, Any] = {"show_progress": "hidden", "concurrency_limit": 4, **private}
        for submit in (question.submit, ask_btn.click):
            submit(chat.ask, [question, *ask_in], ask_out, **asking)
        sources.standalone(chat.ask_alone, ask_in, ask_out, **asking)
        chatbot.example_select(chat.ask_example, ask_in, ask_out, **asking)
        shown = [chatbot, turns, conv, selected, sources, article, export_all, export_one, history]
        demo.load(chat.start, None, [*shown, k, mode, show_scores], **private)
        new_btn.click(chat.new, None, shown, **private)
        history.input(chat.reopen, [history, show_scores], shown, **private)
        clear_btn.click(chat.ask_delete, turns, [clear_confirm, clear_text], **private)
        clear_no.click(lambda: gr.update(visible=False), None, clear_confirm, **private)
        clear_yes.click(chat.delete, [conv, show_scores], [*shown, clear_confirm], **private)
        for setting in (k, mode, show_scores):
            setting.input(chat.save_preferences, [k, mode, show_scores], None, **private)
        sources.cite(
            chat.open_cite,
            [turns, show_scores],
            [sources, article, selected, export_one],
            show_progress="hidden",
            **private,
        )
        chatbot.select(
            chat.select_turn,
            [turns, show_scores],
            [sources, selected, export_one],
            show_progress="hidden",
            **private,
        )
        show_scores.change(
            chat.redraw_sources,
            [turns, selected, show_scores],
            sources,
            show_progress="hidden",
            **private,
        )

        listing = [table, to_remove]
        indexing: dict[str, Any] = {"concurrency_id": "index", "concurrency_limit": 1, **private}
        demo.load(lib.listing, search, listing, **private)
        search.change(lib.listing, search, listing, show_progress="hidden", **private)
        table.read(lib.read, None, [article, tabs], **private)
        files.upload(
            lib.upload,
            [files, search],
            [upload_report, *listing, files],
            show_progress_on=[upload_report],
            **indexing,
        )
        remove_btn.click(
            lib.ask_remove,
            to_remove,
            [maintenance, remove_confirm, remove_text, pending],
            **private,
        )
        remove_no.click(lib.cancel_remove, None, [remove_confirm, pending], **private)
        remove_yes.click(
            lib.remove,
            [pending, search],
            [maintenance, *listing, remove_confirm, pending],
            show_progress_on=[maintenance],
            **indexing,
        )
        reindex_btn.click(
            lib.reindex, search, [maintenance, *listing], show_progress_on=[maintenance], **indexing
        )
    demo.queue(default_concurrency_limit=2)
    return demo
