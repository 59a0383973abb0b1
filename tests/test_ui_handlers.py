"""Fast tests of the web app's event handlers, called directly: no server, no browser.

`ui.page.build_web_app` lays the tabs out and wires them exactly as the app does; its
`chat` and `library` handler objects are then called with the values the browser would
send, over the seed articles indexed with the fake encoder. Each handler returns the
components it changes as `{component: value}`, so the tests read the result by component.
"""

from __future__ import annotations

import errno
import os
import warnings
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from ui import render  # first: importing `ui` switches Gradio's and the Hub's telemetry off

# isort: split
import gradio as gr
from test_conversations import fill, small_tmpfs  # noqa: F401

from rag import api
from rag.indexing import build_index
from rag.settings import Settings
from rag.types import UNSURE, Answer
from rag.uploads import NOT_UPLOADED
from ui import chat as chat_module
from ui.chat import CONVERSATION_DELETED, NO_SUCH_CONVERSATION, NOT_SAVED
from ui.library import CHANGED, CHOOSE_FIRST, FROM_LIBRARY
from ui.page import WebApp, build_web_app

QUESTION = "Which analyst did the Highly Likely channel interview about the Taliban?"


@pytest.fixture
def app(fake_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[WebApp]:
    monkeypatch.setattr(chat_module, "STREAM_DELAY", 0)
    build_index(fake_settings)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # e.g. Gradio missing a gr.EventData
        yield build_web_app(fake_settings)


def ask(app: WebApp, question: str, turns: list | None = None, mode: str = "extractive") -> list:
    return list(app.chat.ask(question, turns or [], "", 5, False, mode))


def shown(update: Any) -> Any:
    """The value a `gr.update(...)` sets (or the plain value itself)."""
    return update.get("value") if isinstance(update, dict) else update


def test_only_ask_is_public_and_click_handlers_receive_their_event(app: WebApp) -> None:
    deps = app.demo.get_config_file()["dependencies"]
    assert [d["api_name"] for d in deps if d["api_visibility"] == "public"] == ["ask"]
    with_event = {d["api_name"] for d in deps if d["collects_event_data"]}
    assert with_event == {"ask_alone", "ask_example", "open_cite", "select_turn", "read"}


def test_asking_streams_the_answer_then_shows_and_saves_it(app: WebApp) -> None:
    tab = app.chat.tab
    outs = ask(app, QUESTION)
    first, middle, last = outs[0], outs[1:-1], outs[-1]
    assert set(first) == {tab.chatbot, tab.question} and first[tab.question] == ""
    assert first[tab.chatbot][-1]["content"] == render.SEARCHING
    assert middle and all(set(out) == {tab.chatbot} for out in middle)
    assert tab.question not in last  # the question box keeps what the user typed next
    turns = last[tab.turns]
    assert [t.answer.question for t in turns] == [QUESTION]
    assert "Serenko" in turns[0].answer.answer
    assert last[tab.selected] == 0 and "Sources for" in last[tab.sources]
    assert last[tab.export_one]["interactive"] and last[tab.export_all]["interactive"]
    assert Path(shown(last[tab.export_one])).read_text(encoding="utf-8").startswith("# ")
    assert app.chat.store.load(last[tab.conv]) == [t.to_json() for t in turns]
    assert shown(last[tab.history]) == last[tab.conv]


def test_an_empty_question_changes_nothing(app: WebApp) -> None:
    assert ask(app, "   ") == [gr.skip()]


def test_an_answer_mode_not_on_offer_is_said_in_the_chat(app: WebApp) -> None:
    tab = app.chat.tab
    last = ask(app, QUESTION, mode="llm")[-1]
    assert "rag-error" in last[tab.chatbot][-1]["content"]
    assert "not available" in last[tab.chatbot][-1]["content"]
    assert last[tab.question] == QUESTION  # kept, to ask again


def test_conversations_reopen_and_are_deleted_after_asking(app: WebApp) -> None:
    tab = app.chat.tab
    last = ask(app, QUESTION)[-1]
    conv, turns = last[tab.conv], last[tab.turns]
    reopened = app.chat.reopen(conv, False)
    assert set(reopened) == set(tab.conversation_outputs())
    assert reopened[tab.turns] == turns and reopened[tab.article] == render.ARTICLE_PLACEHOLDER
    gone = app.chat.reopen("no-such-id", False)
    assert gone[tab.turns] == [] and NO_SUCH_CONVERSATION in gone[tab.sources]

    assert not shown(app.chat.ask_delete([])[tab.clear_confirm]["visible"])
    confirm = app.chat.ask_delete(turns)
    assert confirm[tab.clear_confirm]["visible"] and "1 question," in confirm[tab.clear_text]
    assert app.chat.store.load(conv) == [t.to_json() for t in turns]  # asking deletes nothing
    deleted = app.chat.delete(conv, False)
    assert CONVERSATION_DELETED in deleted[tab.sources] and deleted[tab.turns] == []
    assert not deleted[tab.clear_confirm]["visible"] and app.chat.store.load(conv) is None


def test_page_load_reopens_the_latest_conversation_and_the_settings(app: WebApp) -> None:
    tab, prefs = app.chat.tab, app.chat.prefs
    empty = app.chat.start()
    assert empty[tab.turns] == [] and prefs.k not in empty and prefs.mode not in empty
    last = ask(app, QUESTION)[-1]
    app.chat.save_preferences(7, "extractive", True)
    start = app.chat.start()
    assert start[tab.conv] == last[tab.conv] and start[tab.turns] == last[tab.turns]
    assert shown(start[prefs.k]) == 7 and shown(start[prefs.show_scores]) is True
    assert "rag-score" in start[tab.sources]  # match scores shown, as saved


def test_two_tabs_in_one_conversation_lose_no_turn(app: WebApp) -> None:
    tab = app.chat.tab
    first = ask(app, QUESTION)[-1]
    conv = first[tab.conv]
    tab_a, tab_b = app.chat.start(), app.chat.start()  # a second tab reopens it too
    assert tab_a[tab.conv] == tab_b[tab.conv] == conv

    def ask_in(shown: dict, question: str) -> dict:
        return list(app.chat.ask(question, shown[tab.turns], conv, 5, False, "extractive"))[-1]

    in_a = ask_in(tab_a, "When did Russia's Supreme Court lift the ban?")
    in_b = ask_in(tab_b, "Which militant group attacked Moscow in March 2024?")
    saved = app.chat.store.load(conv)
    assert [t["question"] for t in saved or []] == [
        QUESTION,
        "When did Russia's Supreme Court lift the ban?",
        "Which militant group attacked Moscow in March 2024?",
    ]
    assert [t.to_json() for t in in_b[tab.turns]] == saved
    assert len(in_b[tab.chatbot]) == 6  # B shows both turns
    assert in_b[tab.selected] == 2 and "Sources for" in in_b[tab.sources]
    assert len(in_a[tab.turns]) == 2  # A sees B's turn on its next answer or reload
    assert [t.to_json() for t in app.chat.start()[tab.turns]] == saved


def test_a_conversation_saved_before_outcome_and_turn_ids_reopens_and_grows(app: WebApp) -> None:
    tab = app.chat.tab
    old = api.answer(QUESTION, app.chat.settings).to_json()
    del old["outcome"]  # as saved before the key existed, and without a turn_id
    conv = "0" * 32
    app.chat.store.save(conv, [old])
    reopened = app.chat.reopen(conv, False)
    assert [t.answer.outcome for t in reopened[tab.turns]] == ["answered"]
    assert "Serenko" in reopened[tab.chatbot][1]["content"]
    asked = list(app.chat.ask("When was that?", reopened[tab.turns], conv, 5, False, "extractive"))
    saved = app.chat.store.load(conv) or []
    assert len(saved) == 2 and saved[0] == old  # kept as saved, not added again
    assert len(asked[-1][tab.turns]) == 2


def test_an_unsure_reply_is_shown_saved_and_exported_as_a_lead(
    app: WebApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    tab, real = app.chat.tab, api.answer

    def unsure(*args: Any, **kwargs: Any) -> Answer:
        """The real answer, offered as a lead (what a decision that is unsure returns)."""
        return replace(real(*args, **kwargs), abstained=True, outcome=UNSURE, confidence=0.31)

    monkeypatch.setattr(api, "answer", unsure)
    outs = ask(app, QUESTION)
    last = outs[-1]
    assert all("rag-unsure" in out[tab.chatbot][-1]["content"] for out in outs[1:-1])
    bubble = last[tab.chatbot][1]["content"]
    assert "rag-unsure" in bubble and render.esc(render.UNSURE_LABEL) in bubble
    assert "Serenko" in bubble and "rag-ref-0-c-1" in bubble and "confidence 31%" in bubble
    assert render.NOT_FOUND_HEADING not in bubble and "rag-unsure" in last[tab.sources]
    assert [t["outcome"] for t in app.chat.store.load(last[tab.conv]) or []] == [UNSURE]
    assert "rag-unsure" in app.chat.reopen(last[tab.conv], False)[tab.chatbot][1]["content"]
    exported = Path(shown(last[tab.export_one])).read_text(encoding="utf-8")
    assert f"*{render.UNSURE_LABEL}*" in exported and "Confidence: 31%" in exported


def test_an_answer_that_cannot_be_saved_stays_on_screen_and_says_why(
    app: WebApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    tab, folder = app.chat.tab, app.chat.store.folder

    def enospc(*_: Any) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with monkeypatch.context() as m:
        m.setattr(os, "fsync", enospc)
        last = ask(app, QUESTION)[-1]
    turns, conv = last[tab.turns], last[tab.conv]
    assert [t.answer.question for t in turns] == [QUESTION]  # kept, with its sources
    assert "Serenko" in last[tab.chatbot][1]["content"] and "Sources for" in last[tab.sources]
    note = NOT_SAVED.format(reason="no space left on device", folder=folder)
    assert last[tab.chatbot][-1]["content"] == render.error_bubble(note)
    assert app.chat.store.load(conv) is None and not list(folder.glob(".tmp-*"))
    # Room again: the next answer saves the one that could not be saved.
    later = list(app.chat.ask("When was that?", turns, conv, 5, False, "extractive"))[-1]
    assert [t["question"] for t in app.chat.store.load(conv) or []] == [QUESTION, "When was that?"]
    assert "rag-error" not in later[tab.chatbot][-1]["content"]


def test_a_real_full_disk_keeps_the_answer_on_screen(
    fake_settings: Settings,
    small_tmpfs: Path,  # noqa: F811  (the fixture imported above)
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(chat_module, "STREAM_DELAY", 0)
    settings = fake_settings.with_(conversations=small_tmpfs / "conversations")
    build_index(settings)
    app = build_web_app(settings)
    fill(small_tmpfs)
    last = ask(app, QUESTION)[-1]
    tab = app.chat.tab
    assert [t.answer.question for t in last[tab.turns]] == [QUESTION]
    assert "could not be saved: no space left on device" in last[tab.chatbot][-1]["content"]
    assert app.chat.store.load(last[tab.conv]) is None
    assert not list(app.chat.store.folder.glob(".tmp-*"))


def test_a_clicked_citation_opens_its_article_with_the_quote(app: WebApp) -> None:
    tab = app.chat.tab
    turns = ask(app, QUESTION)[-1][tab.turns]
    citation = turns[0].answer.citations[0]
    opened = app.chat.open_cite(turns, False, gr.EventData(None, {"turn": 0, "n": 1, "kind": "c"}))
    assert opened[tab.selected] == 0 and "Source [1]" in opened[tab.article]
    assert render.esc(citation.quote) in opened[tab.article]
    for bad in ({"turn": 5, "n": 1, "kind": "c"}, {"turn": 0, "n": 9, "kind": "c"}, {"n": "x"}):
        assert app.chat.open_cite(turns, False, gr.EventData(None, bad)) == gr.skip()
    picked = app.chat.select_turn(turns, True, gr.SelectData(None, {"index": [1, 0], "value": ""}))
    assert picked[tab.selected] == 0 and "rag-score" in picked[tab.sources]
    assert app.chat.redraw_sources(turns, 3, True) == gr.skip()


def test_the_library_lists_reads_and_asks_before_removing(app: WebApp) -> None:
    tab, lib = app.library.tab, app.library
    docs = api.documents(lib.settings)
    listing = lib.listing("")
    assert f"{len(docs)} articles" in listing[tab.table]
    assert len(listing[tab.to_remove]["choices"]) == len(docs)
    doc = docs[0]
    read = lib.read(gr.EventData(None, {"doc": doc["doc_id"]}))
    assert FROM_LIBRARY in read[lib.article]

    nothing = lib.ask_remove(None)
    assert CHOOSE_FIRST in nothing[tab.maintenance] and nothing[tab.pending] is None
    asked = lib.ask_remove(doc["doc_id"])
    pending = asked[tab.pending]
    assert asked[tab.remove_confirm]["visible"] and pending == {"source": doc["source"], "count": 1}
    assert lib.cancel_remove() == {tab.remove_confirm: gr.update(visible=False), tab.pending: None}

    changed = lib.remove({**pending, "count": 2}, "")
    assert render.esc(CHANGED.format(file=doc["source"], count=1)) in changed[tab.maintenance]
    assert len(api.documents(lib.settings)) == len(docs)  # nothing removed
    removed = lib.remove(pending, "")
    assert "rag-ok" in removed[tab.maintenance] and removed[tab.pending] is None
    assert f"{len(docs) - 1} articles" in removed[tab.table]
    assert not (Path(lib.settings.sources) / doc["source"]).exists()


@pytest.fixture
def received(app: WebApp) -> Iterator[Path]:
    """A folder in Gradio's upload folder, as one upload makes (the handler takes no other)."""
    import shutil
    import tempfile

    root = Path(app.library.tab.files.GRADIO_CACHE)
    root.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(dir=root))
    yield folder
    shutil.rmtree(folder)


def test_an_upload_reports_each_file_and_keeps_none_that_fails(
    app: WebApp, received: Path, tmp_path: Path
) -> None:
    tab, lib = app.library.tab, app.library
    assert lib.upload(None, "") == gr.skip()
    good, empty = received / "good.txt", received / "empty.txt"
    good.write_text("The Nile bridge opened in May 2020 after long delays.", encoding="utf-8")
    empty.write_text("", encoding="utf-8")
    outside = tmp_path / "outside.txt"  # named by a client, never uploaded
    outside.write_text("A private note. Nobody uploaded it.", encoding="utf-8")
    report = lib.upload([str(outside)], "", progress=lambda *a, **k: None)
    assert NOT_UPLOADED in report[tab.upload_report]
    assert not (Path(lib.settings.sources) / "outside.txt").exists()
    report = lib.upload([str(good), str(empty)], "good", progress=lambda *a, **k: None)
    assert report[tab.files] is None
    assert report[tab.upload_report].count("rag-ok") == 1
    assert report[tab.upload_report].count("rag-fail") == 1
    assert "1 match" in report[tab.table]
    assert not (Path(lib.settings.sources) / "empty.txt").exists()


def test_an_upload_says_what_its_reader_skipped(app: WebApp, received: Path) -> None:
    tab, lib = app.library.tab, app.library
    lines = received / "feed.jsonl"
    lines.write_text(
        '{"id": "a", "text": "The Nile bridge opened in May 2020. It has four lanes."}\n'
        '{"id": "b", "text": "unterminated\n',
        encoding="utf-8",
    )
    report = lib.upload([str(lines)], "", progress=lambda *a, **k: None)[tab.upload_report]
    assert report.count("rag-ok") == 1
    assert "indexed with 1 warning, ask about it now: line 2: not valid JSON" in report
