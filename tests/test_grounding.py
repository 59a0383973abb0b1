"""The sentence checker (rag.grounding): markers, claims, support, quotes, calibration.

Fast tests use hand-made passages and the fake encoder; the slow test re-measures the
calibration fixture (tests/eval/grounding_claims.jsonl) with the real model and the real
seed index, and fails if the thresholds no longer separate true from false claims.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fakes import FakeEncoder
from helpers import ROOT

from rag.clean import normalize_for_match
from rag.grounding import (
    COSINE_MIN,
    OVERLAP_MIN,
    Given,
    check_answer,
    parse_markers,
    split_claims,
)
from rag.retrieve import Sentence
from rag.sentences import split_sentences
from rag.types import Passage

CLAIMS = Path(__file__).parent / "eval" / "grounding_claims.jsonl"
DOC = (
    "Moscow news. On April 17, 2025, Russia's Supreme Court lifted the ban on the Taliban. "
    "The group had been listed as a terrorist organization since 2003. "
    "Informal contacts with the Taliban began as early as 2015."
)
OTHER = "Kazakhstan removed the Taliban from its terrorist list in December 2023."


def _given(n: int, text: str, encoder: FakeEncoder, offset: int = 100, doc: str = "d") -> Given:
    """A passage over `text` (as if it sat at `offset` in document `doc`), with vectors."""
    spans = split_sentences(text)
    vectors = encoder.encode([text[a:b] for a, b in spans])
    sentences = [
        Sentence(offset + a, offset + b, text[a:b], v, 0.0, frozenset())
        for (a, b), v in zip(spans, vectors, strict=True)
    ]
    passage = Passage(
        rank=n,
        chunk_id=n,
        doc_id=f"{doc}{n}",
        title=f"Title {n}",
        publisher="Pub",
        date="2025-04-18",
        url="",
        text=text,
        start=offset,
        end=offset + len(text),
        score=1.0,
        sentences=[(s.start, s.end) for s in sentences],
    )
    return Given(n, passage, sentences)


@pytest.fixture
def given() -> list[Given]:
    encoder = FakeEncoder()
    return [_given(1, DOC, encoder), _given(2, OTHER, encoder, offset=0)]


def test_parse_markers_reads_single_and_grouped_markers() -> None:
    text, numbers = parse_markers("The ban was lifted [1] in April [2, 3] [1].")
    assert numbers == [1, 2, 3]
    assert text == "The ban was lifted in April."


def test_leading_markers_are_moved_back_to_their_sentence() -> None:
    claims = split_claims("The ban was lifted in April. [1] It had stood since 2003 [2].")
    assert claims == ["The ban was lifted in April. [1]", "It had stood since 2003 [2]."]


def test_bare_markers_and_punctuation_are_not_claims() -> None:
    assert split_claims("[1]") == []
    assert split_claims("The ban was lifted in April [1]. [2]") == [
        "The ban was lifted in April [1]. [2]"
    ]


def test_a_copied_sentence_is_supported_and_quoted_verbatim(given: list[Given]) -> None:
    checked = check_answer(
        "Russia's Supreme Court lifted the ban on the Taliban on April 17, 2025 [1].",
        given,
        FakeEncoder(),
    )
    (sentence,) = checked.sentences
    assert sentence.supported and checked.grounded == 1.0
    (citation,) = checked.citations
    doc = " " * 100 + DOC  # the passage sits at offset 100 of its document
    assert doc[citation.start : citation.end] == citation.quote
    assert citation.quote.startswith("On April 17, 2025")
    assert checked.answer.endswith("[1]")


def test_a_made_up_fact_is_not_supported(given: list[Given]) -> None:
    checked = check_answer("Brazil won the 2022 World Cup [1].", given, FakeEncoder())
    assert [s.supported for s in checked.sentences] == [False]
    assert checked.grounded == 0.0


def test_a_wrong_number_is_not_supported_even_with_the_right_words(given: list[Given]) -> None:
    checked = check_answer(
        "On April 17, 2019, Russia's Supreme Court lifted the ban on the Taliban [1].",
        given,
        FakeEncoder(),
    )
    assert not checked.sentences[0].supported
    assert not checked.sentences[0].numbers_ok


def test_a_sentence_without_markers_is_not_supported(given: list[Given]) -> None:
    checked = check_answer(
        "Russia's Supreme Court lifted the ban on the Taliban on April 17, 2025.",
        given,
        FakeEncoder(),
    )
    assert not checked.sentences[0].supported
    assert checked.citations == []


def test_invalid_markers_are_removed(given: list[Given]) -> None:
    checked = check_answer(
        "Informal contacts with the Taliban began as early as 2015 [7]. "
        "Kazakhstan removed the Taliban from its terrorist list in December 2023 [2] [9].",
        given,
        FakeEncoder(),
    )
    assert checked.removed_markers == 2
    assert "[7]" not in checked.answer and "[9]" not in checked.answer
    assert [s.supported for s in checked.sentences] == [False, True]
    assert checked.grounded == 0.5


def test_the_right_passage_must_back_the_claim(given: list[Given]) -> None:
    """True somewhere, but not in the passage cited: unsupported."""
    checked = check_answer(
        "Kazakhstan removed the Taliban from its terrorist list in December 2023 [1].",
        given,
        FakeEncoder(),
    )
    assert not checked.sentences[0].supported


def test_citations_are_renumbered_and_shared(given: list[Given]) -> None:
    checked = check_answer(
        "Kazakhstan removed the Taliban from its terrorist list in December 2023 [2]. "
        "Informal contacts with the Taliban began as early as 2015 [1]. "
        "Kazakhstan delisted the Taliban in December 2023 [2].",
        given,
        FakeEncoder(),
    )
    assert [c.n for c in checked.citations] == [1, 2]
    assert [s.citations for s in checked.sentences] == [[1], [2], [1]]
    assert checked.citations[0].doc_id == "d2"
    assert checked.answer.startswith("Kazakhstan removed the Taliban")
    assert "December 2023. [1] Informal" in checked.answer


def test_thresholds_are_documented() -> None:
    doc = (ROOT / "docs" / "llm.md").read_text(encoding="utf-8")
    assert f"{COSINE_MIN:.2f}" in doc and f"{OVERLAP_MIN:.2f}" in doc


def calibration_rows(index) -> list[tuple[dict, float, float, bool, bool]]:
    """(claim, cosine, overlap, numbers_ok, supported) for every fixture claim.

    The claim cites the passage holding its `anchor` (the evidence it paraphrases or
    contradicts), or the top passage for its question when it has none.
    """
    from rag.retrieve import retrieve

    rows = []
    for line in CLAIMS.read_text(encoding="utf-8").splitlines():
        claim = json.loads(line)
        retrieved = retrieve(index, claim["question"], 5)
        given = [Given(p.rank, p, retrieved.sentences[p.rank]) for p in retrieved.passages]
        n = 1
        if claim["anchor"]:
            anchor = normalize_for_match(claim["anchor"])
            n = next(g.n for g in given if anchor in normalize_for_match(g.passage.text))
        s = check_answer(f"{claim['claim']} [{n}]", given, index.query_encoder).sentences[0]
        rows.append((claim, s.cosine, s.overlap, s.numbers_ok, s.supported))
    return rows


@pytest.mark.slow
def test_thresholds_separate_true_and_false_claims(real_index) -> None:
    from rag.api import current_index

    rows = calibration_rows(current_index(real_index.settings))
    true = [r for r in rows if r[0]["supported"]]
    false = [r for r in rows if not r[0]["supported"]]
    accepted_false = [r[0]["id"] for r in false if r[4]]
    kept_true = sum(r[4] for r in true) / len(true)
    assert accepted_false == [], accepted_false
    assert kept_true >= 0.85, [r[0]["id"] for r in true if not r[4]]
