"""The Chat tab's event handlers: ask, open a citation, reopen and delete conversations.

`Chat(settings, modes)` holds the handlers as methods; `ui.blocks` wires them to the
components. A conversation is a list of CONTRACT answer objects; the chat bubbles, the
sources panel and the Markdown exports are all drawn from it. Every finished answer is
saved with `rag.conversations` (beside the index, or RAG_CONVERSATIONS), so a reload or
a restart reopens the latest conversation and lists the earlier ones. Retrieval,
follow-up rewriting and answer selection all live in `rag`.
"""

from __future__ import annotations

import logging
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# ui/__init__.py (run before this module) has switched Gradio's analytics off already.
import gradio as gr

from rag import api as rag
from rag.conversations import ConversationStore, conversations_folder, new_id
from rag.errors import RagError
from rag.settings import MAX_K, Settings

from . import export, render

log = logging.getLogger(__name__)
Json = dict[str, Any]

STREAM_STEPS = 16  # the answer appears in this many pieces ...
STREAM_DELAY = 0.03  # ... this many seconds apart
DELETE_QUESTION = (
    "Delete this conversation ({n}, first: “{title}”)? It is removed from the "
    "list of earlier conversations and cannot be reopened."
)
CONVERSATION_DELETED = "Conversation deleted."
ASK_FAILED = "Something went wrong while answering; the server log has the details."
NO_SUCH_CONVERSATION = "That conversation is no longer saved."

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


def messages(turns: list[Json]) -> list[Json]:
    """The chat history (messages format) drawn from the conversation's answer objects."""
    out: list[Json] = []
    for i, turn in enumerate(turns):
        out.append({"role": "user", "content": render.user_bubble(turn["question"])})
        out.append({"role": "assistant", "content": render.answer_bubble(turn, i)})
    return out


def exports(turns: list[Json], turn: int) -> tuple[Any, Any]:
    """The two download buttons: the whole conversation and answer `turn`."""
    if not turns or not 0 <= turn < len(turns):
        off = gr.update(value=None, interactive=False)
        return off, off
    stamp = time.strftime("%Y%m%d-%H%M%S")
    conv = _write_export(export.conversation_markdown(turns), f"conversation-{stamp}.md")
    one = export.single_answer_markdown(turns[turn])
    one_path = _write_export(one, f"answer-{turn + 1}-{stamp}.md")
    return gr.update(value=conv, interactive=True), gr.update(value=one_path, interactive=True)


class Chat:
    """Handlers of the Chat tab, bound to one app's settings and conversation store."""

    def __init__(self, settings: Settings, modes: list[str]) -> None:
        self.settings = settings
        self.modes = modes
        self.store = ConversationStore(conversations_folder(settings))

    # --- the list of conversations ---

    def history(self, current: str | None = None) -> Any:
        """The "Earlier conversations" dropdown: every saved one, newest first."""
        choices = [
            (
                f"{c['title']} · {c['questions']} question{'s' if c['questions'] != 1 else ''}"
                f" · {time.strftime('%Y-%m-%d %H:%M', time.localtime(c['updated']))}",
                c["id"],
            )
            for c in self.store.list()
        ]
        ids = {value for _, value in choices}
        return gr.update(choices=choices, value=current if current in ids else None)

    def _show(self, conv: str, turns: list[Json], show_scores: bool) -> tuple[Any, ...]:
        """(chatbot, turns, conv, selected, sources, article, export_all, export_one,
        history) for conversation `conv` with its last answer's sources shown."""
        last = len(turns) - 1
        panel = (
            render.sources_panel(turns[last], last, show_scores=show_scores)
            if turns
            else render.SOURCES_PLACEHOLDER
        )
        return (
            messages(turns),
            turns,
            conv,
            last,
            panel,
            render.ARTICLE_PLACEHOLDER,
            *exports(turns, last),
            self.history(conv),
        )

    def start(self) -> tuple[Any, ...]:
        """Page load: reopen the latest conversation and the saved settings."""
        prefs = self.store.preferences()
        show_scores = bool(prefs.get("show_scores", False))
        latest = next(iter(self.store.list()), None)
        turns = self.store.load(latest["id"]) if latest else None
        shown = self._show(latest["id"], turns, show_scores) if turns else self.new()
        k = prefs.get("k")
        mode = prefs.get("mode")
        return (
            *shown,
            gr.update(value=k) if isinstance(k, int) and 1 <= k <= MAX_K else gr.skip(),
            gr.update(value=mode) if mode in self.modes else gr.skip(),
            gr.update(value=show_scores),
        )

    def new(self) -> tuple[Any, ...]:
        """A new, empty conversation; the current one stays in the list."""
        return self._show(new_id(), [], False)

    def reopen(self, conv: str | None, show_scores: bool) -> tuple[Any, ...]:
        turns = self.store.load(conv or "")
        if turns is None:
            shown = list(self.new())
            shown[4] = render.error_bubble(NO_SUCH_CONVERSATION)
            return tuple(shown)
        return self._show(str(conv), turns, show_scores)

    def ask_delete(self, turns: list[Json]) -> tuple[Any, Any]:
        """Show the confirmation, saying what goes; nothing is deleted yet."""
        if not turns:
            return gr.update(visible=False), ""
        title = render.esc(turns[0].get("question", ""))
        n = f"{len(turns)} question{'s' if len(turns) != 1 else ''}"
        return gr.update(visible=True), DELETE_QUESTION.format(n=n, title=title)

    def delete(self, conv: str, show_scores: bool) -> tuple[Any, ...]:
        """Confirmed: delete conversation `conv`, then show a new, empty one."""
        self.store.delete(conv)
        shown = list(self.new())
        shown[4] = f'<div class="rag-empty">{CONVERSATION_DELETED}</div>'
        return (*shown, gr.update(visible=False))

    def save_preferences(self, k: float, mode: str, show_scores: bool) -> None:
        self.store.save_preferences(k=int(k), mode=mode, show_scores=bool(show_scores))

    # --- asking ---

    def _stream(
        self,
        question: str,
        history: list[str],
        turns: list[Json],
        conv: str,
        k: float,
        show_scores: bool,
        mode: str,
    ) -> Iterator[tuple[Any, ...]]:
        """Stream one answer into the chat; the final update fills the sources panel,
        saves the conversation and refreshes the list of conversations."""
        skip = gr.skip()
        shown = [
            *messages(turns),
            {"role": "user", "content": render.user_bubble(question)},
            {"role": "assistant", "content": render.SEARCHING},
        ]
        yield shown, "", *(skip,) * 7
        try:
            if mode not in self.modes:
                raise RagError(f"Answer mode {mode!r} is not available.")
            answer = rag.answer(
                question, self.settings, k=int(k), history=history or None, mode=mode
            ).to_json()
        except Exception as e:  # a RagError says what to do; anything else is our bug
            if not isinstance(e, RagError):
                log.exception("answering %r failed", question)
            message = str(e) if isinstance(e, RagError) else ASK_FAILED
            shown[-1] = {"role": "assistant", "content": render.error_bubble(message)}
            yield shown, question, *(skip,) * 7
            return
        turn = len(turns)
        words = answer["answer"].split(" ")
        step = max(1, -(-len(words) // STREAM_STEPS))
        for end in range(step, len(words), step):
            partial = " ".join(words[:end]) + " …"
            content = render.answer_bubble(answer, turn, partial=partial)
            shown[-1] = {"role": "assistant", "content": content}
            yield shown, *(skip,) * 8
            time.sleep(STREAM_DELAY)
        turns = [*turns, answer]
        conv = conv or new_id()
        self.store.save(conv, turns)
        yield (
            messages(turns),
            skip,
            turns,
            turn,
            render.sources_panel(answer, turn, show_scores=show_scores),
            *exports(turns, turn),
            conv,
            self.history(conv),
        )

    def ask(
        self, question: str, turns: list[Json], conv: str, k: float, show_scores: bool, mode: str
    ) -> Iterator[tuple[Any, ...]]:
        """The question box: a follow-up of the conversation's earlier questions."""
        history = [t["question"] for t in turns]
        yield from self._ask((question or "").strip(), history, turns, conv, k, show_scores, mode)

    def _ask(
        self,
        question: str,
        history: list[str],
        turns: list[Json],
        conv: str,
        k: float,
        show_scores: bool,
        mode: str,
    ) -> Iterator[tuple[Any, ...]]:
        """Stream the answer to `question`; with no question, change nothing."""
        if not question:
            yield (gr.skip(),) * 9
            return
        yield from self._stream(question, history, turns, conv, k, show_scores, mode)

    def ask_alone(
        self,
        turns: list[Json],
        conv: str,
        k: float,
        show_scores: bool,
        mode: str,
        evt: gr.EventData,
    ) -> Iterator[tuple[Any, ...]]:
        """ "Ask without the earlier questions": the question of a turn, searched as written."""
        data = evt._data if isinstance(evt._data, dict) else {}
        turn = data.get("turn")
        known = isinstance(turn, int) and 0 <= turn < len(turns)
        question = str(turns[turn]["question"]) if known else ""
        yield from self._ask(question, [], turns, conv, k, show_scores, mode)

    def ask_example(
        self,
        turns: list[Json],
        conv: str,
        k: float,
        show_scores: bool,
        mode: str,
        evt: gr.SelectData,
    ) -> Iterator[tuple[Any, ...]]:
        """An example question was clicked: ask it."""
        value = evt.value if isinstance(evt.value, dict) else {}
        question = str(value.get("text") or "").strip()
        yield from self._ask(question, [], turns, conv, k, show_scores, mode)

    # --- the sources panel and the article reader ---

    def open_cite(self, turns: list[Json], show_scores: bool, evt: gr.EventData) -> tuple[Any, ...]:
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
            doc = rag.document(self.settings, item["doc_id"])
        except RagError as e:
            return gr.skip(), render.error_bubble(str(e)), gr.skip(), gr.skip()
        article = render.article_view(
            doc, item["start"], item["end"], label=label, quote=item["quote"] if quote else ""
        )
        panel = render.sources_panel(answer, turn, show_scores=show_scores)
        return panel, article, turn, exports(turns, turn)[1]

    def select_turn(
        self, turns: list[Json], show_scores: bool, evt: gr.SelectData
    ) -> tuple[Any, ...]:
        """A chat message was clicked: show the sources of that answer."""
        index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        turn = (index if isinstance(index, int) else -1) // 2
        if not 0 <= turn < len(turns):
            return (gr.skip(),) * 3
        panel = render.sources_panel(turns[turn], turn, show_scores=show_scores)
        return panel, turn, exports(turns, turn)[1]

    def redraw_sources(self, turns: list[Json], turn: int, show_scores: bool) -> Any:
        if not 0 <= turn < len(turns):
            return gr.skip()
        return render.sources_panel(turns[turn], turn, show_scores=show_scores)
