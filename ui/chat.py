"""The Chat tab's event handlers: ask, open a citation, reopen and delete conversations.

`Chat(settings, modes, tab, prefs)` holds the handlers as methods and `wire()` connects
them to the components of `ui.tabs.ChatTab` (and reads `SettingsTab`'s k, mode and match
scores). Each handler returns the components it changes, as `{component: value}`; the
others keep their value. A conversation is a list of `Turn`s, each a `rag.types.Answer`
and its id; the chat bubbles, the sources panel and the Markdown exports are all drawn
from their answers. Every finished answer is saved (as its answer object, `turn_id` added)
with `rag.conversations` (beside the index, or RAG_CONVERSATIONS), so a
reload or a restart reopens the latest conversation and lists the earlier ones. Saving
adds the tab's new turn to what is saved, so two tabs asking in one conversation keep
both turns, and the tab that asks then shows every saved turn; the other sees them on its
next answer or reload. An answer that cannot be saved (disk full) stays on screen with a
note that says why, and is saved with the tab's next answer.

Left out: retrieval, follow-up rewriting and answer selection (all in `rag`, reached
through `rag.api`), and the layout (`ui.tabs`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

# ui/__init__.py (run before this module) has switched Gradio's analytics off already.
import gradio as gr

from rag import api as rag
from rag.conversations import ConversationStore, conversations_folder, new_id, turn_key
from rag.errors import RagError, SaveError
from rag.settings import MAX_K, Settings
from rag.types import Answer, Citation, Passage

from . import export, render
from .tabs import ChatTab, SettingsTab, Updates
from .types import Json

log = logging.getLogger(__name__)

STREAM_STEPS = 16  # the answer appears in this many pieces ...
STREAM_DELAY = 0.03  # ... this many seconds apart
DELETE_QUESTION = (
    "Delete this conversation ({n}, first: “{title}”)? It is removed from the "
    "list of earlier conversations and cannot be reopened."
)
CONVERSATION_DELETED = "Conversation deleted."
ASK_FAILED = "Something went wrong while answering; the server log has the details."
NO_SUCH_CONVERSATION = "That conversation is no longer saved."
NOT_SAVED = (
    "The answer is shown but the conversation could not be saved: {reason} ({folder}). "
    "It is saved with your next answer if that can be saved; a reload before then loses it."
)


@dataclass
class Turn:
    """One question of a conversation: its answer, and the id that tells it from the turns
    other tabs add to the same conversation (`rag.conversations.turn_key`)."""

    answer: Answer
    turn_id: str

    def to_json(self) -> Json:
        """The turn as a conversation file keeps it: the answer object and its `turn_id`."""
        return {**self.answer.to_json(), "turn_id": self.turn_id}


def turns_of(saved: list[Json]) -> list[Turn]:
    """The turns of a saved conversation. One that is no answer object is not shown (its
    file keeps it: saving only ever adds turns)."""
    turns = []
    for data in saved:
        try:
            turns.append(Turn(Answer.from_json(data), turn_key(data)))
        except ValueError as e:
            log.warning("a saved turn is not shown: %s", e)
    return turns


def answers(turns: list[Turn]) -> list[Answer]:
    return [t.answer for t in turns]


def messages(turns: list[Turn]) -> list[Json]:
    """The chat history (messages format) drawn from the conversation's answers."""
    out: list[Json] = []
    for i, turn in enumerate(turns):
        out.append({"role": "user", "content": render.user_bubble(turn.answer.question)})
        out.append(_reply(render.answer_bubble(turn.answer, i)))
    return out


def _reply(html: str) -> Json:
    return {"role": "assistant", "content": html}


def download(path: str | None) -> Any:
    """An export button offering the file at `path`, or switched off without one."""
    return gr.update(value=path, interactive=path is not None)


def _clicked(evt: gr.EventData) -> Json:
    """The data a "cite" or "standalone" event carries (see `ui.assets.CITE_JS`)."""
    return evt._data if isinstance(evt._data, dict) else {}


class Chat:
    """Handlers of the Chat tab, bound to one app's settings, conversation store and tab."""

    def __init__(
        self, settings: Settings, modes: list[str], tab: ChatTab, prefs: SettingsTab
    ) -> None:
        self.settings = settings
        self.modes = modes
        self.tab = tab
        self.prefs = prefs
        self.store = ConversationStore(conversations_folder(settings))

    def wire(self, demo: gr.Blocks) -> None:
        """Connect the handlers to the tab's events (and the page load of `demo`)."""
        t, p = self.tab, self.prefs
        private: dict[str, Any] = {"api_visibility": "private"}
        asking: dict[str, Any] = {"show_progress": "hidden", "concurrency_limit": 4, **private}
        quiet: dict[str, Any] = {"show_progress": "hidden", **private}
        ask_in = [t.turns, t.conv, p.k, p.show_scores, p.mode]
        ask_out = [
            t.chatbot,
            t.question,
            t.turns,
            t.selected,
            t.sources,
            t.export_all,
            t.export_one,
            t.conv,
            t.history,
        ]
        for submit in (t.question.submit, t.ask_btn.click):
            submit(self.ask, [t.question, *ask_in], ask_out, **asking)
        t.sources.standalone(self.ask_alone, ask_in, ask_out, **asking)
        t.chatbot.example_select(self.ask_example, ask_in, ask_out, **asking)
        shown = t.conversation_outputs()
        demo.load(self.start, None, [*shown, p.k, p.mode, p.show_scores], **private)
        t.new_btn.click(self.new, None, shown, **private)
        t.history.input(self.reopen, [t.history, p.show_scores], shown, **private)
        t.clear_btn.click(self.ask_delete, t.turns, [t.clear_confirm, t.clear_text], **private)
        t.clear_no.click(self.cancel_delete, None, t.clear_confirm, **private)
        t.clear_yes.click(
            self.delete, [t.conv, p.show_scores], [*shown, t.clear_confirm], **private
        )
        for setting in (p.k, p.mode, p.show_scores):
            setting.input(self.save_preferences, [p.k, p.mode, p.show_scores], None, **private)
        t.sources.cite(
            self.open_cite,
            [t.turns, p.show_scores],
            [t.sources, t.article, t.selected, t.export_one],
            **quiet,
        )
        t.chatbot.select(
            self.select_turn,
            [t.turns, p.show_scores],
            [t.sources, t.selected, t.export_one],
            **quiet,
        )
        p.show_scores.change(
            self.redraw_sources, [t.turns, t.selected, p.show_scores], t.sources, **quiet
        )

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

    def _show(self, conv: str, turns: list[Turn], show_scores: bool) -> Updates:
        """Conversation `conv` in the chat, with its last answer's sources shown (the
        components of `ChatTab.conversation_outputs`)."""
        t, last = self.tab, len(turns) - 1
        panel = (
            render.sources_panel(turns[last].answer, last, show_scores=show_scores)
            if turns
            else render.SOURCES_PLACEHOLDER
        )
        return {
            t.chatbot: messages(turns),
            t.turns: turns,
            t.conv: conv,
            t.selected: last,
            t.sources: panel,
            t.article: render.ARTICLE_PLACEHOLDER,
            t.export_all: download(export.conversation_file(answers(turns))),
            t.export_one: download(export.answer_file(answers(turns), last)),
            t.history: self.history(conv),
        }

    def start(self) -> Updates:
        """Page load: reopen the latest conversation and the saved settings."""
        prefs = self.store.preferences()
        show_scores = bool(prefs.get("show_scores", False))
        latest = next(iter(self.store.list()), None)
        turns = turns_of(self.store.load(latest["id"]) or []) if latest else []
        shown = self._show(latest["id"], turns, show_scores) if latest and turns else self.new()
        shown[self.prefs.show_scores] = gr.update(value=show_scores)
        k, mode = prefs.get("k"), prefs.get("mode")
        if isinstance(k, int) and 1 <= k <= MAX_K:
            shown[self.prefs.k] = gr.update(value=k)
        if mode in self.modes:
            shown[self.prefs.mode] = gr.update(value=mode)
        return shown

    def new(self) -> Updates:
        """A new, empty conversation; the current one stays in the list."""
        return self._show(new_id(), [], False)

    def reopen(self, conv: str | None, show_scores: bool) -> Updates:
        """A conversation was picked from the list: show it (or say it is gone)."""
        saved = self.store.load(conv or "")
        if saved is None:
            return {**self.new(), self.tab.sources: render.error_bubble(NO_SUCH_CONVERSATION)}
        return self._show(str(conv), turns_of(saved), show_scores)

    def ask_delete(self, turns: list[Turn]) -> Updates:
        """Show the confirmation, saying what goes; nothing is deleted yet."""
        t = self.tab
        if not turns:
            return {t.clear_confirm: gr.update(visible=False), t.clear_text: ""}
        title = render.esc(turns[0].answer.question)
        n = f"{len(turns)} question{'s' if len(turns) != 1 else ''}"
        text = DELETE_QUESTION.format(n=n, title=title)
        return {t.clear_confirm: gr.update(visible=True), t.clear_text: text}

    def cancel_delete(self) -> Updates:
        return {self.tab.clear_confirm: gr.update(visible=False)}

    def delete(self, conv: str, show_scores: bool) -> Updates:
        """Confirmed: delete conversation `conv`, then show a new, empty one."""
        self.store.delete(conv)
        return {
            **self.new(),
            self.tab.sources: f'<div class="rag-empty">{CONVERSATION_DELETED}</div>',
            self.tab.clear_confirm: gr.update(visible=False),
        }

    def save_preferences(self, k: float, mode: str, show_scores: bool) -> None:
        self.store.save_preferences(k=int(k), mode=mode, show_scores=bool(show_scores))

    # --- asking ---

    def _ask(
        self,
        question: str,
        history: list[str],
        turns: list[Turn],
        conv: str,
        k: float,
        show_scores: bool,
        mode: str,
    ) -> Iterator[Updates]:
        """Stream the answer to `question` into the chat; the final update fills the sources
        panel, saves the conversation and refreshes the list of conversations. With no
        question, change nothing."""
        if not question:
            yield gr.skip()
            return
        t = self.tab
        asked = [*messages(turns), {"role": "user", "content": render.user_bubble(question)}]
        yield {t.chatbot: [*asked, _reply(render.SEARCHING)], t.question: ""}
        try:
            if mode not in self.modes:
                raise RagError(f"Answer mode {mode!r} is not available.")
            answer = rag.answer(
                question, self.settings, k=int(k), history=history or None, mode=mode
            )
        except Exception as e:  # a RagError says what to do; anything else is our bug
            if not isinstance(e, RagError):
                log.exception("answering %r failed", question)
            message = str(e) if isinstance(e, RagError) else ASK_FAILED
            yield {t.chatbot: [*asked, _reply(render.error_bubble(message))], t.question: question}
            return
        turn = len(turns)
        words = answer.answer.split(" ")
        step = max(1, -(-len(words) // STREAM_STEPS))
        for end in range(step, len(words), step):
            partial = " ".join(words[:end]) + render.STILL_STREAMING
            yield {t.chatbot: [*asked, _reply(render.answer_bubble(answer, turn, partial=partial))]}
            time.sleep(STREAM_DELAY)
        new = Turn(answer, new_id())  # the id tells this turn from another tab's
        turns, conv, unsaved = [*turns, new], conv or new_id(), []
        try:  # with the turns other tabs added
            turns = turns_of(self.store.save(conv, [x.to_json() for x in turns]))
        except SaveError as e:
            note = NOT_SAVED.format(reason=e.reason, folder=e.folder)
            unsaved = [_reply(render.error_bubble(note))]
        turn = [x.turn_id for x in turns].index(new.turn_id)
        yield {
            t.chatbot: messages(turns) + unsaved,
            t.turns: turns,
            t.selected: turn,
            t.sources: render.sources_panel(answer, turn, show_scores=show_scores),
            t.export_all: download(export.conversation_file(answers(turns))),
            t.export_one: download(export.answer_file(answers(turns), turn)),
            t.conv: conv,
            t.history: self.history(conv),
        }

    def ask(
        self, question: str, turns: list[Turn], conv: str, k: float, show_scores: bool, mode: str
    ) -> Iterator[Updates]:
        """The question box: a follow-up of the conversation's earlier questions."""
        history = [t.answer.question for t in turns]
        yield from self._ask((question or "").strip(), history, turns, conv, k, show_scores, mode)

    def ask_alone(
        self,
        turns: list[Turn],
        conv: str,
        k: float,
        show_scores: bool,
        mode: str,
        evt: gr.EventData,
    ) -> Iterator[Updates]:
        """ "Ask without the earlier questions": the question of a turn, searched as written."""
        turn = _clicked(evt).get("turn")
        question = ""
        if isinstance(turn, int) and 0 <= turn < len(turns):
            question = turns[turn].answer.question
        yield from self._ask(question, [], turns, conv, k, show_scores, mode)

    def ask_example(
        self,
        turns: list[Turn],
        conv: str,
        k: float,
        show_scores: bool,
        mode: str,
        evt: gr.SelectData,
    ) -> Iterator[Updates]:
        """An example question was clicked: ask it."""
        value = evt.value if isinstance(evt.value, dict) else {}
        question = str(value.get("text") or "").strip()
        yield from self._ask(question, [], turns, conv, k, show_scores, mode)

    # --- the sources panel and the article reader ---

    def open_cite(self, turns: list[Turn], show_scores: bool, evt: gr.EventData) -> Updates:
        """A [n] marker, source or passage was clicked: show its article, quote marked."""
        data, t = _clicked(evt), self.tab
        try:
            turn, n, kind = int(data.get("turn", -1)), int(data.get("n", -1)), data.get("kind")
        except (TypeError, ValueError):
            return gr.skip()
        if not 0 <= turn < len(turns) or kind not in ("c", "p"):
            return gr.skip()
        answer = turns[turn].answer
        item: Citation | Passage | None
        if kind == "c":
            item = next((c for c in answer.citations if c.n == n), None)
            label = f"Source [{n}] — the quoted sentence is highlighted"
        else:
            item = next((p for p in answer.passages if p.rank == n), None)
            label = f"Passage ({n}) — the retrieved passage is highlighted"
        if item is None:
            return gr.skip()
        try:
            doc = rag.document(self.settings, item.doc_id)
        except RagError as e:
            return {t.article: render.error_bubble(str(e))}
        quote = item.quote if isinstance(item, Citation) else ""
        article = render.article_view(doc, item.start, item.end, label=label, quote=quote)
        return {
            t.sources: render.sources_panel(answer, turn, show_scores=show_scores),
            t.article: article,
            t.selected: turn,
            t.export_one: download(export.answer_file(answers(turns), turn)),
        }

    def select_turn(self, turns: list[Turn], show_scores: bool, evt: gr.SelectData) -> Updates:
        """A chat message was clicked: show the sources of that answer."""
        index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        turn = (index if isinstance(index, int) else -1) // 2
        if not 0 <= turn < len(turns):
            return gr.skip()
        t = self.tab
        return {
            t.sources: render.sources_panel(turns[turn].answer, turn, show_scores=show_scores),
            t.selected: turn,
            t.export_one: download(export.answer_file(answers(turns), turn)),
        }

    def redraw_sources(self, turns: list[Turn], turn: int, show_scores: bool) -> Updates:
        """The match-scores setting changed: redraw the sources shown."""
        if not 0 <= turn < len(turns):
            return gr.skip()
        answer = turns[turn].answer
        return {self.tab.sources: render.sources_panel(answer, turn, show_scores=show_scores)}
