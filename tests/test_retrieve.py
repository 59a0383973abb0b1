"""Tests for rag.retrieve: hybrid dense + BM25 retrieval over a real FAISS + SQLite index.

The fake encoder stands in for the model; everything else (index build, FAISS search,
FTS5 BM25, fusion, per-document cap) is the real code.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes import FAKE_MODEL, FakeEncoder, register_fake

from rag import Settings
from rag.indexing import LoadedIndex, build_index, open_index
from rag.retrieve import retrieve

QUESTION = "When did Russia's Supreme Court lift the ban on the Taliban?"


@pytest.fixture
def seed_index(fake_settings: Settings):
    build_index(fake_settings)
    idx = open_index(fake_settings)
    yield idx
    idx.close()


def reopen(idx: LoadedIndex, **changes: object) -> LoadedIndex:
    return open_index(idx.settings.with_(**changes))


def doc_text(idx: LoadedIndex, doc_id: str) -> str:
    doc = idx.store.document_by_doc_id(doc_id)
    assert doc is not None
    return doc["text"]


def test_returns_k_ranked_passages(seed_index: LoadedIndex) -> None:
    total = seed_index.store.count("chunks")
    for k in (1, 3, 5, 10):
        result = retrieve(seed_index, QUESTION, k)
        assert len(result.passages) == min(k, total)
        assert [p.rank for p in result.passages] == list(range(1, len(result.passages) + 1))
        assert len({p.chunk_id for p in result.passages}) == len(result.passages)
        assert result.ms >= 0 and result.question == QUESTION
        assert result.query_vector.shape == (seed_index.encoder.dim,)


def test_top_passage_is_about_the_question(seed_index: LoadedIndex) -> None:
    top = retrieve(seed_index, "Zamir Kabulov special representative for Afghanistan", 3)
    assert "Kabulov" in top.passages[0].text


def test_passages_carry_document_metadata(seed_index: LoadedIndex) -> None:
    result = retrieve(seed_index, QUESTION, 5)
    for p in result.passages:
        doc = seed_index.store.document_by_doc_id(p.doc_id)
        assert (p.title, p.publisher, p.date, p.url) == (
            doc["title"],
            doc["publisher"],
            doc["date"],
            doc["url"],
        )
        assert p.title  # every seed has a title in its sidecar
    data = result.passages[0].to_json()
    assert {"rank", "doc_id", "title", "text", "score", "start", "end"} <= set(data)
    assert "chunk_id" not in data and "sentences" not in data


def test_passage_text_is_the_cleaned_document_slice(seed_index: LoadedIndex) -> None:
    for question in (QUESTION, "Kazakhstan removed the Taliban from its list", "gas pipeline"):
        result = retrieve(seed_index, question, 10)
        for p in result.passages:
            text = doc_text(seed_index, p.doc_id)
            assert text[p.start : p.end] == p.text
            assert p.sentences
            for sentence in result.sentences[p.rank]:
                assert p.start <= sentence.start < sentence.end <= p.end
                assert text[sentence.start : sentence.end] == sentence.text
                assert sentence.vector.shape == (seed_index.encoder.dim,)
            assert [(s.start, s.end) for s in result.sentences[p.rank]] == p.sentences


def test_the_index_serves_document_metadata_cached_and_without_text(
    seed_index: LoadedIndex,
) -> None:
    listed = seed_index.list_documents()
    assert listed == seed_index.store.list_documents() and len(listed) == 5
    full = seed_index.document_by_doc_id(listed[0]["doc_id"])
    assert full is not None and full["text"]
    meta = seed_index.document(full["id"])
    assert meta == {k: v for k, v in full.items() if k != "text"}
    assert seed_index.document(full["id"]) is meta  # cached: the generation never changes


def test_scores_descend_when_the_cap_is_not_relaxed(seed_index: LoadedIndex) -> None:
    result = retrieve(seed_index, QUESTION, 5)
    scores = [p.score for p in result.passages]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= s <= 1.0 + 1e-9 for s in scores)


@pytest.mark.parametrize(("per_doc", "k"), [(1, 5), (2, 5), (2, 10), (3, 10), (1, 3)])
def test_per_document_cap_when_enough_documents(
    seed_index: LoadedIndex, per_doc: int, k: int
) -> None:
    idx = reopen(seed_index, per_doc=per_doc)
    try:
        for question in (QUESTION, "Kazakhstan", "Serenko interview Telegram channel"):
            passages = retrieve(idx, question, k).passages
            assert len(passages) == k
            docs = [p.doc_id for p in passages]
            assert max(docs.count(d) for d in docs) <= per_doc, docs
    finally:
        idx.close()


def test_cap_is_relaxed_when_too_few_documents(seed_index: LoadedIndex) -> None:
    idx = reopen(seed_index, per_doc=1)
    try:
        passages = retrieve(idx, QUESTION, 8).passages
    finally:
        idx.close()
    assert len(passages) == 8  # k passages rather than fewer
    assert len({p.doc_id for p in passages[:5]}) == 5  # the capped part comes first


def test_lexical_only_match_is_found(tmp_path: Path) -> None:
    """A word the dense model cannot see is still found, by BM25 alone."""
    blind = register_fake("fake-blind", ignore={"zorblax"})
    sources = tmp_path / "sources"
    sources.mkdir()
    for n in range(6):
        (sources / f"{n:02d}.txt").write_text(
            f"Article {n}\n\nWhen was the treaty signed? The treaty was signed in the "
            f"spring of 20{n:02d}. The ministers met in the capital.",
            encoding="utf-8",
        )
    (sources / "zz.txt").write_text(
        "Quintessence flourished\n\nZorblax quintessence flourished remarkably.",
        encoding="utf-8",
    )
    settings = Settings.load(
        env={},
        sources=sources,
        index=tmp_path / "index",
        model="fake-blind",
        candidates=3,
        progress=False,
    )
    build_index(settings)
    idx = open_index(settings)
    try:
        target = {cid for cid, _ in idx.store.bm25("zorblax", 10)}
        assert len(target) == 1
        for question in ("zorblax", "Zorblax?"):
            dense = {cid for cid, _ in idx.vectors.search(blind.vector(question), 3)}
            assert not dense & target  # the dense retriever alone would miss it
            passages = retrieve(idx, question, 3).passages
            assert passages[0].chunk_id in target, question
            assert "Zorblax" in passages[0].text and passages[0].doc_id == "zz.txt"
    finally:
        idx.close()


def test_dense_only_match_is_found(seed_index: LoadedIndex) -> None:
    """Only stop words: BM25 has nothing, dense retrieval still answers with k passages."""
    assert seed_index.store.bm25("what is the of and", 10) == []
    assert len(retrieve(seed_index, "what is the of and", 4).passages) == 4


@pytest.mark.parametrize(
    "question",
    [
        'Taliban" OR * NEAR( -ban',
        "AND OR NOT",
        "ban: {court}^2",
        "Талибан запрет 🎉",
        "????",
        "x" * 2000,
    ],
)
def test_odd_questions_do_not_break_the_query(seed_index: LoadedIndex, question: str) -> None:
    assert len(retrieve(seed_index, question, 3).passages) == 3


def test_retrieval_is_deterministic(seed_index: LoadedIndex) -> None:
    first = retrieve(seed_index, QUESTION, 5).passages
    second = retrieve(seed_index, QUESTION, 5).passages
    assert [(p.chunk_id, p.score) for p in first] == [(p.chunk_id, p.score) for p in second]


def test_fewer_chunks_than_k(tmp_path: Path, fake_encoder: FakeEncoder) -> None:
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "one.txt").write_text("Short article. Two sentences.", encoding="utf-8")
    settings = Settings.load(env={}, sources=sources, index=tmp_path / "index", model=FAKE_MODEL)
    build_index(settings)
    idx = open_index(settings)
    try:
        passages = retrieve(idx, "short article", 10).passages
    finally:
        idx.close()
    assert len(passages) == 1 and passages[0].text == "Short article. Two sentences."


def test_bm25_in_a_big_index_ranks_only_the_rarest_words(
    tmp_path: Path, fake_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above the row budget, a word in more chunks than the budget is not ranked by BM25
    (it would cost a microsecond per row); the rare words still find their chunk."""
    import rag.store

    sources = tmp_path / "many"
    sources.mkdir()
    for n in range(8):
        (sources / f"{n}.txt").write_text(f"Treaty {n}\n\nThe treaty was signed in year {n}.")
    (sources / "rare.txt").write_text("Zorblax\n\nThe zorblax treaty was signed by Quux.")
    settings = fake_settings.with_(sources=sources, index=tmp_path / "index")
    build_index(settings)
    idx = open_index(settings)
    try:
        everything = idx.store.bm25("zorblax quux treaty", 20)
        assert len(everything) == idx.store.chunk_count() == 9  # under budget: all words
        monkeypatch.setattr(rag.store, "BM25_MAX_ROWS", 4)
        rare = idx.store.bm25("zorblax quux treaty", 20)
        assert [cid for cid, _ in rare] == [everything[0][0]]  # "treaty" (9 rows) left out
        assert idx.store.bm25("treaty signed", 20) == []  # only common words: dense's job
        assert retrieve(idx, "treaty signed", 3).passages  # ... which still answers
    finally:
        idx.close()
