"""Hostile and broken input: a corpus of bad files, indexed by the real `build_index`.

The corpus (tests/hostile/corpus.py) is written into tmp at test time: 32 bad files plus two
good articles. One indexing run over it happens in a child process (the real reading,
cleaning, chunking, FAISS and SQLite code; only the model is the fake encoder), so its peak
RSS can be measured. Each bad file must be reported with its own clear reason (or indexed
without its hidden text), the good files must be indexed, and the run must finish with
bounded memory. PDFs are parsed in their own child process with a time and memory limit
(rag/formats/pdf.py); its peak RSS is measured too.

The property tests feed arbitrary bytes to every reader and shuffled markup to the web-page
reader (only `SourceError` may come out), and hostile Unicode through cleaning and chunking.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from fakes import FAKE_MODEL, FakeEncoder, count_words
from helpers import ARTIFACTS, HOSTILE_DRIVER
from hostile.corpus import ABSENT, GOOD_A, _cases, write_corpus
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from rag.chunk import chunk_text
from rag.clean import clean
from rag.errors import SourceError
from rag.formats import read_source
from rag.indexing import open_index
from rag.retrieve import retrieve
from rag.sentences import split_sentences
from rag.settings import Settings
from rag.webpage import read_page

NAMES = sorted(_cases(Path("/nonexistent")))
MEMORY_BOUND_KB = 1536 * 1024  # 1.5 GB peak RSS for the indexer
RESULTS = ARTIFACTS / "hostile.json"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Write the corpus and index it once in a child process; the parsed result."""
    tmp = tmp_path_factory.mktemp("hostile")
    sources, index = tmp / "sources", tmp / "index"
    expected = write_corpus(sources, tmp / "outside-secret.txt")
    done = subprocess.run(
        [sys.executable, str(HOSTILE_DRIVER), "once", str(sources), str(index)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["ok"], result
    result.update(expected=expected, sources=sources, index=index, tmp=tmp)
    return result


def test_corpus_is_big_enough() -> None:
    assert len(NAMES) >= 25


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_each_bad_file_gets_its_outcome(run: dict, name: str) -> None:
    kind, pattern = run["expected"][name]
    skipped = dict(run["skipped"])
    if kind == "skip":
        assert name in skipped, f"{name} was not reported as skipped"
        assert re.search(pattern, skipped[name]), f"{name}: {skipped[name]!r}"
    else:
        assert name not in skipped, f"{name} was skipped: {skipped.get(name)}"
    if kind == "warn":
        mine = [w for w in run["warnings"] if w.startswith(f"{name}: ")]
        assert any(re.search(pattern, w) for w in mine), mine


@pytest.mark.slow
def test_good_files_are_indexed_and_nothing_hidden_got_in(
    run: dict, fake_encoder: FakeEncoder
) -> None:
    settings_ = Settings.load(
        env={}, sources=run["sources"], index=run["index"], model=FAKE_MODEL, progress=False
    )
    idx = open_index(settings_)
    try:
        assert idx.vectors.ntotal == idx.store.count("chunks")
        docs = {d["doc_id"]: d for d in idx.store.list_documents()}
        ok = {n for n, (kind, _) in run["expected"].items() if kind != "skip"}
        assert {d.split("#")[0] for d in docs} == ok
        assert retrieve(idx, "lantern regatta lifeboat harbour", 3).passages
        regatta = idx.store.document_by_doc_id("good-regatta.txt")
        assert regatta is not None and GOOD_A.splitlines()[2][:40] in regatta["text"]
        texts = [r[0] for r in idx.store.con.execute("SELECT clean_text FROM documents")]
        chunks = [r[0] for r in idx.store.con.execute("SELECT text FROM chunks")]
        for bad in ABSENT:
            assert not any(bad in t for t in texts + chunks), f"{bad!r} reached the index"
        hidden = idx.store.document_by_doc_id("hidden-css.html")
        assert hidden is not None and "library budget" in hidden["text"]
        assert "Deep text" in idx.store.document_by_doc_id("nested-100k.html")["text"]
        saved = idx.store.document_by_doc_id("saved-page-10mb.html")["text"]
        assert saved.startswith("Marrowby pier reopens\n\nThe Marrowby pier reopened")
        assert "Marrowby ferry" in idx.store.document_by_doc_id("unclosed-100k.html")["text"]
    finally:
        idx.close()
    # The shell metacharacters in a file name were never run.
    assert not (run["tmp"] / "PWNED").exists() and not (run["sources"] / "PWNED").exists()


@pytest.mark.slow
def test_memory_stays_bounded(run: dict) -> None:
    peak, pdf_child = run["peak_rss_kb"], run["children_peak_rss_kb"]
    print(f"\nindexer peak RSS {peak / 1024:.0f} MB; PDF child peak RSS {pdf_child / 1024:.0f} MB")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "files": len(NAMES),
                "peak_rss_mb": round(peak / 1024),
                "pdf_child_peak_rss_mb": round(pdf_child / 1024),
                "summary": run["summary"],
            },
            indent=2,
        )
    )
    assert peak < MEMORY_BOUND_KB
    assert pdf_child < MEMORY_BOUND_KB


# --- property tests ---------------------------------------------------------------------

EXTENSIONS = [".txt", ".md", ".html", ".jsonl"]
hostile_chars = st.sampled_from(
    [
        *"\u200b\u200d\u2060\ufeff\u202a\u202e\u2066\u2069\u200e\x00\x1b\x7f\x85\u2028\r",
        *["\U000e0041", "\u00a0", "\u3000", "<", ">", "&", "{", "}", "\n\n", ". ", "A", "é"],
    ]
)
hostile_text = st.lists(st.one_of(hostile_chars, st.text(max_size=20)), max_size=60).map("".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=2000), ext=st.sampled_from(EXTENSIONS))
def test_readers_only_ever_raise_source_error(tmp_path_factory, data: bytes, ext: str) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / f"f{ext}"
    path.write_bytes(data)
    try:
        docs, _ = read_source(path, folder)
    except SourceError as e:
        assert e.reason and "\n" not in e.reason
        return
    assert docs and all(d.text.strip() for d in docs)


# Pieces of markup that, shuffled, made trafilatura raise (AssertionError, lxml errors).
markup = st.lists(
    st.sampled_from([
        "<p>", "</p>", "<div>", "</div>", "<html>", "<body>", "<head>", "<title>", "</title>",
        "<table>", "<tr>", "<td>", "<ul>", "<li>", "<br>", "<![CDATA[x]]>", "<!--", "-->",
        "<?xml version='1.0' encoding='utf-8'?>", "<svg>", "<math>", "<script>", "</script>",
        "&#0;", "&#xD800;", "\ufeff", "The story goes on. ", "<meta charset='x'>", "<article>",
        "<meta property='og:title' content='", "'>", "<time datetime='2099-13-45'>", "<h1>",
        "<html lang='", "<a href='", "<link rel=canonical href='", "<p style='display:none'>",
        "<frameset>", "<base href='//'>", "<!DOCTYPE html>", "</", "<", ">", "\"", "=", "\r\n",
    ]),
    max_size=60,
).map("".join)  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(markup)
@example("<math>&#0;<img src=x><frame>")  # trafilatura 2.3.1 raises AssertionError on it
def test_web_pages_only_ever_raise_source_error(html: str) -> None:
    try:
        page = read_page(html, "page.html")
    except SourceError as e:
        assert e.reason and "\n" not in e.reason
        return
    assert page.text.strip()


@settings(max_examples=200, deadline=None)
@given(hostile_text)
def test_cleaning_drops_invisible_characters_and_maps_back(raw: str) -> None:
    cleaned = clean(raw)
    for bad in ("\u200b", "\u2060", "\ufeff", "\u202e", "\u2066", "\x00", "\x1b", "\U000e0041"):
        assert bad not in cleaned.text
    for span in cleaned.spans:  # every kept piece is a verbatim slice of the raw text
        piece = cleaned.text[span.clean_start : span.clean_start + span.length]
        raw_piece = raw[span.raw_start : span.raw_start + span.length]
        assert len(piece) == len(raw_piece)


@settings(max_examples=150, deadline=None)
@given(hostile_text, st.integers(min_value=8, max_value=64))
def test_chunks_of_hostile_text_fit_the_window(raw: str, window: int) -> None:
    text = clean(raw).text
    spans = split_sentences(text)
    chunks = chunk_text("d", text, spans, count_words, count_words, window, window, 1)
    for chunk in chunks:
        assert chunk.text == text[chunk.start : chunk.end]
        assert count_words(chunk.text) <= window
    covered = {i for c in chunks for a, b in c.sentences for i in range(a, b)}
    for a, b in spans:  # no visible character of any sentence is lost
        assert all(i in covered for i in range(a, b) if not text[i].isspace())


def test_pdf_child_has_limits() -> None:
    """The PDF parser runs in a child with an address-space limit and a timeout."""
    from rag.formats import pdf

    assert pdf.PDF_MAX_MEMORY <= 1024**3 and pdf.PDF_TIMEOUT_S <= 120
    assert "RLIMIT_AS" in pdf.CHILD.read_text(encoding="utf-8")  # the file the child runs
    assert os.environ.get("HF_HUB_OFFLINE") == "1"  # the corpus run stays offline too
