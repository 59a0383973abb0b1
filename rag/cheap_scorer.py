"""The cheap scorer: every quotable sentence of the retrieved passages, scored.

`score_sentences(retrieved, adapted)` gives each statement sentence of the top passages
(`is_statement`: prose, not a question, heading or byline) a score, best first:
- its cosine to the question (sentence vectors stored at index time, or taken to the
  reader's adapted question vector) plus its IDF-weighted share of the question's words
  (`resemblance`; IDF over this query's sentences), leaving out the words that name who
  made the claim asked about ("according to the envoy", `claimant_words`);
- the same for the sentence before it, when that one matches the question better: an
  answer often follows the sentence that sets it up (an interviewer's question, a quote's
  speaker, "They will remain unstable" after "How do you see the prospects ...");
- whether it holds what the question asks for (`WANTS`: a date for "when", a number for
  "how many", a name for "who"), and how well its passage ranked.
A sentence that overlapping passages share is scored once. It does not read sentences with
the trained reader, decide to abstain or quote (`rag.extractive` does).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .clean import is_prose
from .lexical import content_words, idf_weights, overlap
from .retrieve import Retrieved, Sentence
from .types import Passage

if TYPE_CHECKING:
    from collections.abc import Set as AbstractSet

    import numpy as np

# Weights chosen on the SQuAD benchmark and the seed questions (BENCHMARKS.md).
W_LEXICAL, W_CONTEXT, W_TYPED, W_PASSAGE = 0.4, 0.8, 0.1, 0.4
# Month names, full and short, as dates are written (`rag.extractive` finds figures by them).
MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december"
    "|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
)
_DATE = re.compile(rf"\b(?:1[89]\d\d|20\d\d)\b|\b(?:{MONTHS})\b", re.IGNORECASE)
_NUMBER = re.compile(
    r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|hundred|"
    r"thousand|million|billion|dozen)s?\b",
    re.IGNORECASE,
)
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)+")
# "When X happened, who ...?" opens with a clause: the question asks its last wh-word.
_CLAUSE_THEN_ASKS = r"(?![^?]*,\s*(?:who|whom|whose|what|which|where|how|why)\b)"
# (what the question says, what the answer holds, which figure that is; "": a name)
WANTS = [
    (
        re.compile(
            rf"^\s*(when{_CLAUSE_THEN_ASKS}|what (year|date|month|day))\b|\bwhat (year|date)\b",
            re.I,
        ),
        _DATE,
        "date",
    ),
    (
        re.compile(r"\bhow (many|much|long|old|far)\b|\bwhat (number|percentage)\b", re.I),
        _NUMBER,
        "number",
    ),
    (
        re.compile(r"^\s*who(m|se)?\b|\bwhich (person|official|expert|president)\b", re.I),
        _NAME,
        "",
    ),
]


# Who made the claim the question asks about: "according to the envoy", "per Serenko",
# "in the expert's view", "does Serenko think". The answer is what they said, and the
# sentence saying it seldom names them (it is a quote, or the article is their interview).
_CLAIMANT = [
    re.compile(r"\baccording to [^,?]+", re.I),
    re.compile(r"\bper [A-Z][\w'’ ]*?\s*\?*$"),
    re.compile(r"\bin [\w ]+?['’]s (?:view|opinion|words|account)\b", re.I),
    re.compile(
        r"\b(?:does|do|did) [A-Z][\w'’]*(?: [A-Z][\w'’]*)* "
        r"(?:say|think|believe|foresee|expect|predict|tell|argue|claim|describe|see)\b"
    ),
]


def claimant_words(question: str) -> set[str]:
    """The question's words that say who made the claim asked about, not what it is."""
    return {w for p in _CLAIMANT for m in p.finditer(question) for w in content_words(m[0])}


@dataclass
class Scored:
    """A sentence that may answer: its score (cheap, then fused once the reader read it)."""

    score: float
    rank: int
    sentence: Sentence
    passage: Passage
    before: list[Sentence]  # the sentences before it in the same passage, nearest last
    reader: float | None = None  # the trained reader's logit, when it read this sentence


def is_statement(text: str) -> bool:
    """A sentence that can answer: prose, and not itself a question."""
    return is_prose(text) and not text.rstrip("\"”’')»").endswith("?")


def resemblance(
    cosine: float,
    question_words: AbstractSet[str],
    words: AbstractSet[str],
    weights: dict[str, float],
) -> float:
    """The cheap score's main term: a sentence's cosine to the question plus `W_LEXICAL`
    times the weighted share of the question's words it holds (`lexical.overlap`)."""
    return cosine + W_LEXICAL * overlap(question_words, words, weights)


def score_sentences(retrieved: Retrieved, adapted: np.ndarray | None = None) -> list[Scored]:
    """Every quotable sentence of the retrieved passages, best first, each once; with
    `adapted` (the reader's question adapter applied to the question vector) the sentence
    cosines are taken to it instead of the question vector."""
    question = retrieved.question
    q_words = content_words(question)
    q_words = (q_words - claimant_words(question)) or q_words
    every = [s for p in retrieved.passages for s in retrieved.sentences.get(p.rank, [])]
    weights = idf_weights(q_words, [s.matched for s in every])
    wants = [pattern for asks, pattern, _ in WANTS if asks.search(question)]

    def match(sentence: Sentence) -> float:
        cos = sentence.cosine if adapted is None else float(sentence.vector @ adapted)
        return resemblance(cos, q_words, sentence.matched, weights)

    scored = []
    for passage in retrieved.passages:
        sentences = retrieved.sentences.get(passage.rank, [])
        for i, sentence in enumerate(sentences):
            if not is_statement(sentence.text):
                continue
            previous = sentences[i - 1] if i else None
            own = match(sentence)
            context = match(previous) if previous else own
            typed = any(p.search(sentence.text) for p in wants)
            score = (
                own
                + W_CONTEXT * max(0.0, context - own)
                + W_TYPED * typed
                + W_PASSAGE * passage.score
            )
            scored.append(Scored(score, passage.rank, sentence, passage, sentences[:i]))
    scored.sort(key=lambda s: -s.score)
    # Chunks overlap by a sentence, so two passages may hold the same one: it is one
    # candidate (its best-scoring copy), not two that crowd the reader's shortlist.
    seen: set[tuple[str, int]] = set()
    distinct = []
    for item in scored:
        key = (item.passage.doc_id, item.sentence.start)
        if key not in seen:
            seen.add(key)
            distinct.append(item)
    return distinct
