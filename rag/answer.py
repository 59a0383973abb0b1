"""Extractive answers: the best sentences of the retrieved passages, verbatim and cited.

Every sentence of the top passages is scored against the question: its cosine to the
question (from vectors stored at index time), the share of the question's content words
it contains, and whether it holds the kind of thing the question asks for (a date for
"when", a number for "how many", a name for "who"). The best sentence is the answer; a
second joins when it scores close to the first and says something new. When even the
best evidence is weak, the reply is `NOT_IN_SOURCES` and the passages are still listed.
Headings, bylines and other non-sentences are never quoted. No text is generated.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from .clean import is_prose
from .lexical import content_words, overlap
from .retrieve import Retrieved, Sentence, retrieve
from .types import Answer, Citation, Passage

NOT_IN_SOURCES = "The sources do not contain an answer to this question."
ABSTAIN_NOTE = "The closest passages are listed below; judge them yourself."
# A second sentence joins the answer only when it scores at least this share of the best.
SECOND_SENTENCE_RATIO = 0.9

_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december"
    "|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
)
_DATE = re.compile(rf"\b(?:1[89]\d\d|20\d\d)\b|\b(?:{_MONTHS})\b", re.IGNORECASE)
_NUMBER = re.compile(
    r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|hundred|"
    r"thousand|million|billion|dozen)s?\b",
    re.IGNORECASE,
)
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)+")
_WANTS = [
    (re.compile(r"^\s*(when|what (year|date|month|day))\b|\bwhat (year|date)\b", re.I), _DATE),
    (re.compile(r"\bhow (many|much|long|old|far)\b|\bwhat (number|percentage)\b", re.I), _NUMBER),
    (re.compile(r"^\s*who(m|se)?\b|\bwhich (person|official|expert|president)\b", re.I), _NAME),
]


@dataclass
class Scored:
    score: float
    rank: int
    sentence: Sentence
    passage: Passage


def score_sentences(retrieved: Retrieved) -> list[Scored]:
    """Every quotable sentence of the retrieved passages, best first."""
    q_words = content_words(retrieved.question)
    wants = [pattern for asks, pattern in _WANTS if asks.search(retrieved.question)]
    scored = []
    for passage in retrieved.passages:
        for sentence in retrieved.sentences.get(passage.rank, []):
            if not is_prose(sentence.text):
                continue
            cosine = float(sentence.vector @ retrieved.query_vector)
            lexical = overlap(q_words, sentence.text)
            typed = 1.0 if any(p.search(sentence.text) for p in wants) else 0.0
            score = 0.6 * cosine + 0.3 * lexical + 0.1 * typed - 0.01 * (passage.rank - 1)
            scored.append(Scored(score, passage.rank, sentence, passage))
    scored.sort(key=lambda s: -s.score)
    return scored


def compose(
    retrieved: Retrieved, max_sentences: int, abstain_below: float
) -> tuple[str, bool, list[Citation]]:
    """(answer text, abstained, citations) from the retrieved passages."""
    scored = score_sentences(retrieved)
    if not scored or scored[0].score < abstain_below:
        return NOT_IN_SOURCES, True, []
    chosen = [scored[0]]
    for candidate in scored[1:]:
        if (
            len(chosen) >= max_sentences
            or candidate.score < SECOND_SENTENCE_RATIO * scored[0].score
        ):
            break
        if all(_distinct(candidate.sentence.text, c.sentence.text) for c in chosen):
            chosen.append(candidate)
    citations = []
    parts = []
    for n, item in enumerate(chosen, 1):
        p, s = item.passage, item.sentence
        citations.append(
            Citation(n, p.doc_id, p.title, p.publisher, p.date, p.url, s.text, s.start, s.end)
        )
        parts.append(f"{s.text} [{n}]")
    return " ".join(parts), False, citations


def _distinct(a: str, b: str) -> bool:
    """False when two sentences share most of their content words (the same fact twice)."""
    wa, wb = content_words(a), content_words(b)
    return not wa or not wb or len(wa & wb) / min(len(wa), len(wb)) < 0.7


def answer_question(index, question: str, k: int | None = None, depth: int = 0) -> Answer:
    """Retrieve and answer one question from a loaded index.

    The answer is built from the top `k` passages; `depth` retrieves more (for MRR) and
    lists them too, without letting them into the answer.
    """
    started = time.perf_counter()
    k = k or index.settings.k
    retrieved = retrieve(index, question, max(k, depth))
    t_answer = time.perf_counter()
    shown = retrieved.passages
    retrieved.passages = shown[:k]
    text, abstained, citations = compose(
        retrieved, index.settings.answer_sentences, index.settings.abstain_below
    )
    done = time.perf_counter()
    return Answer(
        question=question,
        answer=text,
        abstained=abstained,
        citations=citations,
        passages=shown,
        timings_ms={
            "retrieve": round(retrieved.ms, 2),
            "answer": round((done - t_answer) * 1000, 2),
            "total": round((done - started) * 1000, 2),
        },
    )
