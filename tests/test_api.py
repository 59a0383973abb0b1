"""rag.api: the front door keeps answering while updates replace the index under it."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from rag import api
from rag.indexing import LoadedIndex, build_index
from rag.settings import Settings


def _add(settings: Settings, name: str, text: str) -> None:
    (Path(settings.sources) / name).write_text(text, encoding="utf-8")
    build_index(settings)


def test_a_read_survives_its_generation_being_deleted(fake_settings: Settings) -> None:
    build_index(fake_settings)
    seen: list[str] = []

    def read(index: LoadedIndex) -> list[dict]:
        seen.append(index.generation)
        if len(seen) == 1:  # two updates land while this read is under way
            _add(fake_settings, "a.txt", "The Nile bridge opened in May 2020 after delays.")
            _add(fake_settings, "b.txt", "The Volga bridge opened in June 2021 after delays.")
            assert not (fake_settings.index / index.generation).exists()
        return _in_new_thread(index.store.list_documents)

    docs = api.reading(fake_settings, read)
    assert len(seen) == 2 and seen[0] != seen[1]
    assert {"a.txt", "b.txt"} <= {d["doc_id"] for d in docs}


def _in_new_thread(call):
    """Run `call` in a worker thread, as the web app does: its SQLite connection opens
    there and then, so it finds a deleted generation's file gone."""
    results: list[object] = []

    def run() -> None:
        try:
            results.append(call())
        except Exception as e:
            results.append(e)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if isinstance(results[0], Exception):
        raise results[0]
    return results[0]


def test_remove_moves_the_file_and_its_sidecar_to_the_trash(fake_settings: Settings) -> None:
    from rag.trash import KEEP_DAYS

    build_index(fake_settings)
    name = "000_bc0cf055e4f1d4cb.txt"
    before = {p.name for p in fake_settings.sources.iterdir()}
    api.remove_source(fake_settings, name)
    trashed = sorted(api.trash_folder(fake_settings).rglob("*"))
    assert {p.name for p in trashed if p.is_file()} == {name, name + ".meta.yaml"}
    after = {p.name for p in fake_settings.sources.iterdir()}
    assert before - after == {name, name + ".meta.yaml"}  # nothing else went
    assert name not in {d["source"] for d in api.documents(fake_settings)}
    # A month on, trashing something else purges the old batch, and only that.
    from rag.trash import move_to_trash, purge

    later = time.time() + (KEEP_DAYS + 1) * 86400
    assert purge(fake_settings.sources, now=time.time()) == []
    other = fake_settings.sources / "001_f40b61988599ebfd.txt"
    move_to_trash(fake_settings.sources, other, now=later)
    left = {p.name for p in api.trash_folder(fake_settings).rglob("*") if p.is_file()}
    assert left == {other.name, other.name + ".meta.yaml"}


def test_remove_refuses_paths_outside_the_sources_and_the_trash(fake_settings: Settings) -> None:
    import pytest

    from rag.errors import SourceError

    build_index(fake_settings)
    api.remove_source(fake_settings, "000_bc0cf055e4f1d4cb.txt")
    trashed = next(p for p in api.trash_folder(fake_settings).rglob("*.txt"))
    for bad in ("../x.txt", str(trashed.relative_to(fake_settings.sources)), "missing.txt"):
        with pytest.raises(SourceError):
            api.remove_source(fake_settings, bad)


def test_a_rejected_upload_is_not_kept(fake_settings: Settings, tmp_path: Path) -> None:
    build_index(fake_settings)
    upload = tmp_path / "upload"
    upload.mkdir()
    (upload / "broken.pdf").write_bytes(b"this is not a PDF")
    (upload / "good.txt").write_text("The Nile bridge opened in May 2020 after delays.")
    report = api.add_sources(fake_settings, [upload / "broken.pdf", upload / "good.txt"])
    reasons = dict(report.skipped)
    assert "not kept" in reasons["broken.pdf"]
    assert not (fake_settings.sources / "broken.pdf").exists()
    assert (fake_settings.sources / "good.txt").exists()
    assert (upload / "broken.pdf").exists()  # the user's own file is untouched
    assert "broken.pdf" not in str(api.index(fake_settings))  # no ✘ in later reports


def test_a_broken_file_already_in_the_sources_is_never_deleted(
    fake_settings: Settings, tmp_path: Path
) -> None:
    (fake_settings.sources / "broken.pdf").write_bytes(b"this is not a PDF")
    build_index(fake_settings)
    (tmp_path / "broken.pdf").write_bytes(b"this is not a PDF")
    api.add_sources(fake_settings, [tmp_path / "broken.pdf"])
    assert (fake_settings.sources / "broken.pdf").exists()


def test_conversations_are_saved_listed_reopened_and_deleted(tmp_path: Path) -> None:
    from rag.conversations import ConversationStore, conversations_folder, new_id

    settings = Settings.load(env={}, index=tmp_path / "ix")
    assert conversations_folder(settings) == tmp_path / "conversations"
    custom = Settings.load(env={"RAG_CONVERSATIONS": str(tmp_path / "c")})
    assert conversations_folder(custom) == tmp_path / "c"
    store = ConversationStore(conversations_folder(settings))
    first, second = new_id(), new_id()
    store.save(first, [{"question": "Q1", "answer": "A1"}])
    store.save(second, [{"question": "Q2"}, {"question": "Q3"}])
    listed = store.list()
    assert [c["id"] for c in listed] == [second, first]
    assert listed[0]["title"] == "Q2" and listed[0]["questions"] == 2
    reopened = ConversationStore(conversations_folder(settings))  # as after a restart
    assert reopened.load(first) == [{"question": "Q1", "answer": "A1"}]
    assert reopened.load("../../etc/passwd") is None and not reopened.delete("..")
    assert reopened.delete(first) and reopened.load(first) is None
    store.save_preferences(k=7, show_scores=True)
    assert ConversationStore(store.folder).preferences() == {"k": 7, "show_scores": True}


@pytest.mark.slow  # the session's real-model index
def test_a_followup_that_finds_nothing_new_says_so(real_index) -> None:
    settings = real_index.settings
    first = "Why did Russia's Supreme Court lift the ban on the Taliban?"
    again = api.answer("When was that?", settings, history=[first])  # same two quotes
    assert again.searched != again.question and api.NOTHING_NEW in again.note
    fresh = api.answer("Who is Andrey Serenko?", settings, history=[first])
    assert api.NOTHING_NEW not in fresh.note


def test_removing_a_symlinked_article_moves_the_link_not_its_target(
    fake_settings: Settings,
) -> None:
    target = "000_bc0cf055e4f1d4cb.txt"
    (fake_settings.sources / "alias.txt").symlink_to(target)
    build_index(fake_settings)
    api.remove_source(fake_settings, "alias.txt")
    assert (fake_settings.sources / target).is_file()  # the article linked to stays
    assert not os.path.lexists(fake_settings.sources / "alias.txt")
    trashed = [p.name for p in api.trash_folder(fake_settings).rglob("*") if not p.is_dir()]
    assert trashed == ["alias.txt"]  # the link itself (rglob of its name skips a dangling one)
    docs = {d["source"] for d in api.documents(fake_settings)}
    assert target in docs and "alias.txt" not in docs
