"""The sentence checker: is each sentence of a generated answer backed by what it cites?

`check_answer(text, given, encoder)` splits a model's answer into sentences
(`rag.sentences.split_sentences`), reads the `[n]` markers of each (a marker the splitter
pushed to the start of the next sentence is moved back), drops markers that name no
passage the model was given, and scores each claim (the sentence without markers) against
the passages it cites:

* cosine: the best cosine between the claim's embedding (by the index's question
  encoder) and the cited passages' stored sentence vectors;
* overlap: the share of the claim's content words found in the cited passages' text;
* numbers: every number in the claim must appear in a cited passage.

A sentence is *supported* when it has a valid marker, its numbers are all in the cited
text, and cosine >= `COSINE_MIN` or overlap >= `OVERLAP_MIN` (both calibrated in
docs/llm.md). Each (sentence, cited passage) pair becomes a `Citation` whose quote is the
passage sentence that best backs the claim, verbatim with document offsets, as in the
extractive mode; markers are renumbered to those citations. It generates nothing and
calls no model except the sentence encoder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .clean import is_prose
from .lexical import content_words
from .sentences import split_sentences
from .types import CheckedSentence, Citation, Passage

if TYPE_CHECKING:
    from .embed import Encoder
    from .retrieve import Sentence

# Calibrated on tests/eval/grounding_claims.jsonl with all-MiniLM-L6-v2 (docs/llm.md).
COSINE_MIN = 0.65
OVERLAP_MIN = 0.8
MARKER = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
_LEADING_MARKERS = re.compile(r"^(?:\s*\[\d+(?:\s*,\s*\d+)*\])+")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


@dataclass
class Given:
    """A passage as the model saw it: its prompt number and the sentences it was shown."""

    n: int
    passage: Passage
    sentences: list[Sentence]

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.sentences)


@dataclass
class Checked:
    answer: str  # the sentences joined, each followed by its renumbered markers
    sentences: list[CheckedSentence]
    citations: list[Citation]
    removed_markers: int  # markers that named no given passage

    @property
    def supported(self) -> int:
        return sum(s.supported for s in self.sentences)

    @property
    def grounded(self) -> float:
        """Share of sentences supported (0..1); 0 for an empty answer."""
        return round(self.supported / len(self.sentences), 3) if self.sentences else 0.0


def parse_markers(text: str) -> tuple[str, list[int]]:
    """(text without its [n] / [n, m] markers, the numbers in order, duplicates dropped)."""
    numbers: list[int] = []
    for m in MARKER.finditer(text):
        for part in m.group(1).split(","):
            n = int(part)
            if n not in numbers:
                numbers.append(n)
    stripped = MARKER.sub("", text)
    stripped = re.sub(r"\s+([.,;:!?])", r"\1", stripped)
    return " ".join(stripped.split()), numbers


def split_claims(text: str) -> list[str]:
    """The answer's sentences, each with its own markers (leading ones moved back)."""
    pieces: list[str] = []
    for a, b in split_sentences(text):
        piece = text[a:b]
        lead = _LEADING_MARKERS.match(piece)
        if lead and pieces:
            pieces[-1] += " " + lead.group(0).strip()
            piece = piece[lead.end() :].strip()
        if piece:
            pieces.append(piece)
    return [p for p in pieces if parse_markers(p)[0].strip(" .,;:!?-—")]


def numbers_in(text: str) -> set[str]:
    return {n.replace(",", "") for n in _NUMBER.findall(text)}


def check_answer(text: str, given: list[Given], encoder: Encoder) -> Checked:
    """Check every sentence of `text` against the passages it cites; see the module doc."""
    by_n = {g.n: g for g in given}
    claims = split_claims(text)
    parsed = [parse_markers(c) for c in claims]
    removed = sum(1 for _, ns in parsed for n in ns if n not in by_n)
    vectors = list(encoder.encode([c for c, _ in parsed])) if parsed else []
    checked: list[CheckedSentence] = []
    citations: list[Citation] = []
    seen: dict[tuple[str, int, int], int] = {}
    for (claim, numbers), vector in zip(parsed, vectors, strict=True):
        valid = [n for n in numbers if n in by_n]
        words = content_words(claim)
        cited_text = " ".join(by_n[n].text for n in valid)
        cited_words = content_words(cited_text)
        overlap = len(words & cited_words) / len(words) if words else 0.0
        cited_numbers = numbers_in(cited_text)
        numbers_ok = numbers_in(claim) <= cited_numbers
        cosine = 0.0
        item = CheckedSentence(claim, False, valid, overlap=overlap, numbers_ok=numbers_ok)
        for n in valid:
            best, best_score = None, -1.0
            for s in by_n[n].sentences:
                cos = float(s.vector @ vector)
                cosine = max(cosine, cos)
                sw = content_words(s.text)
                score = cos + (len(words & sw) / len(words) if words else 0.0)
                score += 0.0 if is_prose(s.text) else -1.0  # headings and bylines last
                if score > best_score:
                    best, best_score = s, score
            if best is None:
                continue
            p = by_n[n].passage
            key = (p.doc_id, best.start, best.end)
            if key not in seen:
                seen[key] = len(citations) + 1
                citations.append(
                    Citation(
                        seen[key],
                        p.doc_id,
                        p.title,
                        p.publisher,
                        p.date,
                        p.url,
                        best.text,
                        best.start,
                        best.end,
                    )
                )
            if seen[key] not in item.citations:
                item.citations.append(seen[key])
        item.cosine = cosine
        item.supported = (
            bool(valid) and numbers_ok and (cosine >= COSINE_MIN or overlap >= OVERLAP_MIN)
        )
        checked.append(item)
    answer = " ".join(s.text + "".join(f" [{c}]" for c in s.citations) for s in checked).strip()
    return Checked(answer, checked, citations, removed)
