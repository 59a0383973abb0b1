"""Under load: 24 concurrent gradio_client clients mixing questions and uploads, one app.

The app runs as in tests/test_ui_api.py (real model, a copy of sources/ in tmp, a free
127.0.0.1 port). 18 clients each ask 4 questions through the public `/ask` endpoint;
6 clients each upload a new article through the same upload event the browser uses (the
endpoint is private to the page, so the client is told it may call it), then ask about it.
Every question must be answered, no call may fail, and afterwards the index on disk and
the one the app serves must agree: FAISS ntotal == chunk rows, every upload indexed. The
p50/p95 answer latency under this load is printed and written to test-artifacts/load.json
(numbers, not assertions).
"""

from __future__ import annotations

import json
import shutil
import statistics
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from helpers import ARTIFACTS, SEED_SOURCES

RESULTS = ARTIFACTS / "load.json"
pytestmark = pytest.mark.slow
ASKERS, UPLOADERS, QUESTIONS_EACH = 18, 6, 4
QUESTIONS = [
    "When did Russia's Supreme Court lift the ban on the Taliban?",
    "Since when has Moscow kept unofficial contacts with the Taliban?",
    "Who won the 2022 FIFA World Cup?",
    "What did the court decide?",
    "Why did Russia's Supreme Court lift the ban on the Taliban?",
]
TOWNS = ["Ashcombe", "Brindle", "Corvath", "Dunmere", "Eskdale", "Fallowby"]


def article(town: str) -> str:
    return (
        f"# {town} opens a new footbridge\n\n"
        f"The {town} footbridge over the river opened on 14 April 2025. The mayor of {town} "
        f"said the bridge cost 2.4 million pounds and took eighteen months to build.\n"
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    from rag import api
    from rag.settings import Settings
    from ui.app import build_app, run_in_thread

    tmp = tmp_path_factory.mktemp("load")
    shutil.copytree(SEED_SOURCES, tmp / "sources")
    settings = Settings.load(sources=tmp / "sources", index=tmp / "index", progress=False)
    api.index(settings)
    api.current_index(settings)  # the model and the index are loaded before the clients come
    url, stop = run_in_thread(build_app(settings))
    try:
        yield {"url": url, "settings": settings, "tmp": tmp}
    finally:
        stop()


def _client(url: str) -> Any:
    from gradio_client import Client

    return Client(url, verbose=False, analytics_enabled=False, download_files=False)


def _upload_fn_index(client: Any) -> int:
    """The fn_index of the upload event of the file input #rag-upload."""
    config = client.config
    upload_id = next(
        c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == "rag-upload"
    )
    for i, dep in enumerate(config["dependencies"]):
        if [upload_id, "upload"] in [list(t) for t in dep.get("targets", [])]:
            fn_index = dep.get("id", i)
            client.endpoints[fn_index].is_valid = True  # private to the page, callable by it
            return fn_index
    raise AssertionError("no upload event found")


def test_concurrent_questions_and_uploads(server: dict) -> None:
    from gradio_client import handle_file

    from rag import api
    from rag.indexing import open_index

    url, tmp = server["url"], server["tmp"]
    uploads = tmp / "to-upload"
    uploads.mkdir()
    for town in TOWNS:
        (uploads / f"{town.lower()}-bridge.md").write_text(article(town))
    latencies: list[float] = []
    errors: list[str] = []
    answered = []
    lock = threading.Lock()
    start = threading.Barrier(ASKERS + UPLOADERS)
    clients: list[Any] = []

    def connect() -> Any:
        client = _client(url)
        with lock:
            clients.append(client)
        return client

    def ask(client: Any, question: str) -> dict:
        began = time.perf_counter()
        result = client.predict(question, 5, None, api_name="/ask")
        with lock:
            latencies.append(time.perf_counter() - began)
            answered.append(question)
        assert isinstance(result, dict) and "answer" in result and "citations" in result
        return result

    def asker(n: int) -> None:
        try:
            client = connect()
            start.wait()
            for i in range(QUESTIONS_EACH):
                ask(client, QUESTIONS[(n + i) % len(QUESTIONS)])
        except BaseException as e:
            with lock:
                errors.append(f"asker {n}: {e!r}")

    def uploader(n: int) -> None:
        try:
            client = connect()
            fn_index = _upload_fn_index(client)
            start.wait()
            town = TOWNS[n]
            path = uploads / f"{town.lower()}-bridge.md"
            report, *_ = client.predict([handle_file(str(path))], "", fn_index=fn_index)
            assert "indexed" in str(report), report
            result = ask(client, f"When did the {town} footbridge open?")
            assert "14 April 2025" in result["answer"], result["answer"]
        except BaseException as e:
            with lock:
                errors.append(f"uploader {n}: {e!r}")

    threads = [threading.Thread(target=asker, args=(n,)) for n in range(ASKERS)]
    threads += [threading.Thread(target=uploader, args=(n,)) for n in range(UPLOADERS)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    wall = time.perf_counter() - began
    for client in clients:
        client.close()  # stop their heartbeat streams before the server stops
    assert not any(t.is_alive() for t in threads), "a client hung"
    assert errors == []
    assert len(answered) == ASKERS * QUESTIONS_EACH + UPLOADERS

    settings = server["settings"]
    idx = open_index(settings)  # fresh from disk: checksums, ntotal == chunk rows
    try:
        assert idx.vectors.ntotal == idx.store.count("chunks")
        sources = {d["source"] for d in idx.store.list_documents()}
        assert {f"{t.lower()}-bridge.md" for t in TOWNS} <= sources
    finally:
        idx.close()
    served = api.current_index(settings)  # what the app answers from is the published generation
    assert served.generation == idx.generation
    assert served.vectors.ntotal == served.store.count("chunks")

    latencies.sort()
    p50 = statistics.median(latencies)
    p95 = latencies[min(len(latencies) - 1, round(0.95 * len(latencies)) - 1)]
    summary = {
        "clients": ASKERS + UPLOADERS,
        "questions": len(latencies),
        "uploads": UPLOADERS,
        "p50_s": round(p50, 3),
        "p95_s": round(p95, 3),
        "max_s": round(latencies[-1], 3),
        "wall_s": round(wall, 1),
        "ntotal": idx.vectors.ntotal,
    }
    print("\nload:", json.dumps(summary))
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(summary, indent=2))
