"""The Gradio layout and its event handlers: Chat, Library and Settings tabs, "ask" API.

`build_blocks(settings)` returns the `gr.Blocks`. Handlers only call `rag.api` (answer,
documents, document, add_sources, remove_source, index, supported_suffixes) and draw the
results with `ui.render`; retrieval, follow-up rewriting and answer selection all live in
`rag`. A conversation is kept per browser session as a list of CONTRACT answer objects;
the chat bubbles, the sources panel and the Markdown exports are all drawn from that list.
Serving, theming and the safety middleware are `ui.app`'s job, not this module's.
"""

from __future__ import annotations

import logging
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

# ui/__init__.py (run before this module) has switched Gradio's analytics off already.
import gradio as gr

from rag import api as rag
from rag.errors import RagError
from rag.settings import MAX_K, MAX_QUESTION_CHARS, Settings

from . import render
from .assets import CITE_JS, SCROLL_JS

log = logging.getLogger(__name__)
Json = dict[str, Any]

STREAM_STEPS = 16  # the answer appears in this many pieces ...
STREAM_DELAY = 0.03  # ... this many seconds apart
# Questions the seed articles answer (and one they do not), shown under the question box.
EXAMPLES = [
    "When did Russia's Supreme Court lift the ban on the Taliban?",
    "Since when has Moscow kept unofficial contacts with the Taliban?",
    "Which militant group was behind the March 2024 terrorist attack in Moscow?",
    "What fuel could Afghanistan help Russia move toward Southeast Asia?",
    "Who won the 2022 FIFA World Cup?",
]
MODES = ["extractive"]  # "llm" joins when a local model or server is configured
MODE_LABELS = {"extractive": "Extractive (quoted sentences)", "llm": "Local LLM (checked)"}


def _messages(turns: list[Json]) -> list[Json]:
    """The chat history (messages format) drawn from the conversation's answer objects."""
    out: list[Json] = []
    for i, turn in enumerate(turns):
        out.append({"role": "user", "content": render.user_bubble(turn["question"])})
        out.append({"role": "assistant", "content": render.answer_bubble(turn, i)})
    return out


_EXPORTS: list[Path] = []  # the one temporary folder for Markdown exports, made on first use


def _write_export(text: str, name: str) -> str:
    """Write an export under its own random folder (Gradio then copies it to its cache)."""
    if not _EXPORTS:
        _EXPORTS.append(Path(tempfile.mkdtemp(prefix="rag-export-")))
    folder = _EXPORTS[0] / uuid.uuid4().hex
    folder.mkdir()
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def _progress_callback(progress: gr.Progress) -> Callable[[int, int, str], None]:
    def update(done: int, total: int, message: str) -> None:
        progress((done, total) if total else None, desc=message)

    return update


def _same_file(source: str, name: str) -> bool:
    """True when an index report's `source` is the uploaded `name` (maybe renamed `stem-N`)."""
    stem, dot, suffix = name.rpartition(".")
    if source == name:
        return True
    if not dot or not source.startswith(stem + "-") or not source.endswith("." + suffix):
        return False
    return source[len(stem) + 1 : -len(suffix) - 1].isdigit()


def build_blocks(settings: Settings) -> gr.Blocks:
    """The Gradio Blocks: Chat, Library and Settings tabs and the "ask" API endpoint."""

    from rag.llm import llm_configured, resolve_mode

    modes = [*MODES, "llm"] if llm_configured(settings) else list(MODES)

    def chat_turn(
        question: str, turns: list[Json], k: float, show_scores: bool, mode: str
    ) -> Iterator[tuple[Any, ...]]:
        """Stream one answer into the chat; the final update fills the sources panel."""
        question = (question or "").strip()
        if not question:
            yield (gr.skip(),) * 7
            return
        history = [t["question"] for t in turns]
        shown = [
            *_messages(turns),
            {"role": "user", "content": render.user_bubble(question)},
            {"role": "assistant", "content": render.SEARCHING},
        ]
        yield shown, "", gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        try:
            if mode not in modes:
                raise RagError(f"Answer mode {mode!r} is not available.")
            answer = rag.answer(question, settings, k=int(k), history=history, mode=mode).to_json()
        except Exception as e:  # a RagError says what to do; anything else is our bug
            if not isinstance(e, RagError):
                log.exception("answering %r failed", question)
            message = (
                str(e)
                if isinstance(e, RagError)
                else ("Something went wrong while answering; the server log has the details.")
            )
            shown[-1] = {"role": "assistant", "content": render.error_bubble(message)}
            yield shown, question, gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        turn = len(turns)
        words = answer["answer"].split(" ")
        step = max(1, -(-len(words) // STREAM_STEPS))
        for end in range(step, len(words), step):
            partial = " ".join(words[:end]) + " …"
            shown[-1] = {
                "role": "assistant",
                "content": render.answer_bubble(answer, turn, partial=partial),
            }
            yield shown, gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            time.sleep(STREAM_DELAY)
        turns = [*turns, answer]
        yield (
            _messages(turns),
            gr.skip(),
            turns,
            turn,
            render.sources_panel(answer, turn, show_scores=show_scores),
            *_exports(turns, turn),
        )

    def _exports(turns: list[Json], turn: int) -> tuple[Any, Any]:
        if not turns:
            off = gr.update(value=None, interactive=False)
            return off, off
        stamp = time.strftime("%Y%m%d-%H%M%S")
        conv = _write_export(render.conversation_markdown(turns), f"conversation-{stamp}.md")
        one = _write_export(render.answer_markdown(turns[turn]), f"answer-{turn + 1}-{stamp}.md")
        return gr.update(value=conv, interactive=True), gr.update(value=one, interactive=True)

    def open_cite(turns: list[Json], show_scores: bool, evt: gr.EventData) -> tuple[Any, ...]:
        """A [n] marker, source or passage was clicked: show its article, quote marked."""
        data = evt._data if isinstance(evt._data, dict) else {}
        try:
            turn, n, kind = int(data.get("turn", -1)), int(data.get("n", -1)), data.get("kind")
        except (TypeError, ValueError):
            return (gr.skip(),) * 4
        if not 0 <= turn < len(turns) or kind not in ("c", "p"):
            return (gr.skip(),) * 4
        answer = turns[turn]
        if kind == "c":
            item = next((c for c in answer["citations"] if c["n"] == n), None)
            label, quote = f"Source [{n}] — the quoted sentence is highlighted", "quote"
        else:
            item = next((p for p in answer["passages"] if p["rank"] == n), None)
            label, quote = f"Passage ({n}) — the retrieved passage is highlighted", ""
        if item is None:
            return (gr.skip(),) * 4
        try:
            doc = rag.document(settings, item["doc_id"])
        except RagError as e:
            return gr.skip(), render.error_bubble(str(e)), gr.skip(), gr.skip()
        article = render.article_view(
            doc,
            item["start"],
            item["end"],
            label=label,
            quote=item["quote"] if quote else "",
        )
        return (
            render.sources_panel(answer, turn, show_scores=show_scores),
            article,
            turn,
            _exports(turns, turn)[1],
        )

    def select_turn(turns: list[Json], show_scores: bool, evt: gr.SelectData) -> tuple[Any, ...]:
        """A chat message was clicked: show the sources of that answer."""
        index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        index = index if isinstance(index, int) else -1
        turn = index // 2
        if not 0 <= turn < len(turns):
            return (gr.skip(),) * 3
        panel = render.sources_panel(turns[turn], turn, show_scores=show_scores)
        return panel, turn, _exports(turns, turn)[1]

    def redraw_sources(turns: list[Json], turn: int, show_scores: bool) -> Any:
        if not 0 <= turn < len(turns):
            return gr.skip()
        return render.sources_panel(turns[turn], turn, show_scores=show_scores)

    def clear() -> tuple[Any, ...]:
        return (
            [],
            "",
            [],
            -1,
            render.SOURCES_PLACEHOLDER,
            render.ARTICLE_PLACEHOLDER,
            *_exports([], 0),
        )

    # --- library handlers ---

    def library(query: str) -> tuple[str, Any]:
        try:
            docs = rag.documents(settings)
        except RagError as e:
            return render.error_bubble(str(e)), gr.update(choices=[], value=None)
        choices = sorted(
            {(f"{d['title'] or d['doc_id']} — {d['source']}", d["source"]) for d in docs}
        )
        return render.library_table(docs, query or ""), gr.update(choices=choices, value=None)

    def upload(
        files: list[str] | None,
        query: str,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> tuple[Any, ...]:
        """Copy the uploaded files into the sources folder and index them; report per file."""
        paths = [Path(f) for f in files or []]
        if not paths:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        names = [p.name for p in paths]
        try:
            report = rag.add_sources(settings, paths, progress=_progress_callback(progress))
        except RagError as e:
            rows = [(name, False, str(e)) for name in names]
            return render.file_report(rows, "Nothing was added."), *library(query), None
        rows = []
        for name in names:
            reasons = [r for s, r in report.skipped if _same_file(s, name)]
            rows.append((name, not reasons, "; ".join(reasons) or "indexed; ask about it now"))
        rows += [
            (s, False, f"skipped: {r}")
            for s, r in report.skipped
            if not any(_same_file(s, n) for n in names)
        ]
        return render.file_report(rows, str(report)), *library(query), None

    def remove(
        source: str | None,
        query: str,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> tuple[Any, ...]:
        if not source:
            return render.file_report([], "Choose an article to remove first."), *library(query)
        try:
            report = rag.remove_source(settings, source, progress=_progress_callback(progress))
        except RagError as e:
            return render.file_report([(source, False, str(e))]), *library(query)
        return render.file_report([(source, True, "removed")], str(report)), *library(query)

    def reindex(
        query: str,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> tuple[Any, ...]:
        try:
            report = rag.index(settings, progress=_progress_callback(progress))
        except RagError as e:
            return render.file_report([], str(e)), *library(query)
        rows = [(s, False, f"skipped: {r}") for s, r in report.skipped]
        return render.file_report(rows, str(report)), *library(query)

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
    with gr.Blocks(title="News answers — cited", analytics_enabled=False, fill_width=True) as demo:
        turns = gr.State([])  # the conversation: one CONTRACT answer object per question
        selected = gr.State(-1)  # the answer whose sources are shown
        gr.Markdown(
            "## News answers, with their sources\nAnswers are sentences quoted from the "
            "indexed articles. Click a **[n]** marker or a source to read the article with "
            "the quote highlighted.",
        )
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"), gr.Row(equal_height=False):
                with gr.Column(scale=5):
                    chatbot = gr.Chatbot(
                        label="Conversation",
                        elem_id="rag-chat",
                        height=520,
                        render_markdown=False,
                        sanitize_html=True,
                        latex_delimiters=[],
                        allow_tags=False,
                        feedback_options=None,
                        buttons=[],
                        group_consecutive_messages=False,
                        placeholder="Ask about the articles in the library.",
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
                        clear_btn = gr.Button("Clear conversation", size="sm", elem_id="rag-clear")
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
                    gr.Examples(
                        [[q] for q in EXAMPLES], inputs=[question], label="Example questions"
                    )
                with gr.Column(scale=4):
                    sources = gr.HTML(
                        render.SOURCES_PLACEHOLDER,
                        js_on_load=CITE_JS,
                        elem_id="rag-sources",
                        max_height=420,
                    )
                    article = gr.HTML(
                        render.ARTICLE_PLACEHOLDER,
                        js_on_load=SCROLL_JS,
                        elem_id="rag-article",
                        max_height=480,
                    )
            with gr.Tab("Library", id="library"):
                search = gr.Textbox(
                    label="Search the library",
                    elem_id="rag-lib-search",
                    placeholder="title, publisher, date or file name",
                )
                table = gr.HTML(elem_id="rag-library", apply_default_css=False)
                with gr.Row(equal_height=False):
                    with gr.Column():
                        files = gr.File(
                            label=f"Add articles ({' '.join(suffixes)}; several at once)",
                            file_count="multiple",
                            file_types=suffixes,
                            type="filepath",
                            elem_id="rag-upload",
                        )
                        upload_report = gr.HTML(
                            elem_id="rag-upload-report", apply_default_css=False
                        )
                    with gr.Column():
                        to_remove = gr.Dropdown(
                            label="Remove an article (deletes its file from the sources folder)",
                            choices=[],
                            elem_id="rag-remove-choice",
                        )
                        remove_btn = gr.Button("Remove", variant="stop", elem_id="rag-remove")
                        reindex_btn = gr.Button(
                            "Re-index the sources folder", elem_id="rag-reindex"
                        )
                        maintenance = gr.HTML(elem_id="rag-maintenance", apply_default_css=False)
            with gr.Tab("Settings", id="settings"):
                k = gr.Slider(
                    1,
                    MAX_K,
                    value=settings.k,
                    step=1,
                    elem_id="rag-k",
                    label="Passages per answer (k)",
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
                    False, label="Show retrieval scores", elem_id="rag-scores"
                )
                gr.Markdown("These settings last for this browser session.")

        gr.api(ask_api, api_name="ask", concurrency_limit=4)
        private: dict[str, Any] = {"api_visibility": "private"}
        ask_outputs = [chatbot, question, turns, selected, sources, export_all, export_one]
        for submit in (question.submit, ask_btn.click):
            submit(
                chat_turn,
                [question, turns, k, show_scores, mode],
                ask_outputs,
                show_progress="hidden",
                concurrency_limit=4,
                **private,
            )
        cleared = [chatbot, question, turns, selected, sources, article, export_all, export_one]
        clear_btn.click(clear, None, cleared, **private)
        chatbot.clear(clear, None, cleared, **private)
        sources.cite(
            open_cite,
            [turns, show_scores],
            [sources, article, selected, export_one],
            show_progress="hidden",
            **private,
        )
        chatbot.select(
            select_turn,
            [turns, show_scores],
            [sources, selected, export_one],
            show_progress="hidden",
            **private,
        )
        show_scores.change(
            redraw_sources,
            [turns, selected, show_scores],
            sources,
            show_progress="hidden",
            **private,
        )

        listing = [table, to_remove]
        indexing: dict[str, Any] = {"concurrency_id": "index", "concurrency_limit": 1, **private}
        demo.load(library, search, listing, **private)
        search.change(library, search, listing, show_progress="hidden", **private)
        files.upload(upload, [files, search], [upload_report, *listing, files], **indexing)
        remove_btn.click(remove, [to_remove, search], [maintenance, *listing], **indexing)
        reindex_btn.click(reindex, search, [maintenance, *listing], **indexing)
    demo.queue(default_concurrency_limit=2)
    return demo
