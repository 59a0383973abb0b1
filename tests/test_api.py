"""rag.api: the front door keeps answering while updates replace the index under it."""

from __future__ import annotations

import threading
from pathlib import Path

from rag import api
from rag.index import LoadedIndex, build_index
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
