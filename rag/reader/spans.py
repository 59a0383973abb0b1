"""The short answer inside a sentence, from the reader's span head.

`best_span(starts, ends, offsets, sequence_ids, limit)` takes one pair's start and end
logits per word piece and returns the best answer span inside the sentence (the pair's
second text, cut at `limit` characters so the context read after it never answers) as
characters of the sentence widened to whole words, with its score: the span's start + end
logits minus the null answer's ([CLS], SQuAD 2.0's "no answer here"). Above 0 the head
finds an answer in the sentence. `exact_match` and `token_f1` are SQuAD's measures of a
short answer. It does not choose sentences or decide to abstain.
"""

from __future__ import annotations

from collections.abc import Sequence

MAX_SPAN_PIECES = 24  # word pieces: a name, a date, a short phrase
_PUNCTUATION = set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~“”‘’–—«»")


def best_span(
    starts: Sequence[float],
    ends: Sequence[float],
    offsets: Sequence[tuple[int, int]],
    sequence_ids: Sequence[int | None],
    text: str,
    limit: int,
) -> tuple[tuple[int, int] | None, float]:
    """((start, end) characters of `text[:limit]`, or None, and the span's score over null)."""
    pieces = [
        i
        for i, (seq, (a, b)) in enumerate(zip(sequence_ids, offsets, strict=True))
        if seq == 1 and a < b and b <= limit
    ]
    null = starts[0] + ends[0]
    best, where = float("-inf"), None
    for n, i in enumerate(pieces):
        for j in pieces[n : n + MAX_SPAN_PIECES]:
            if starts[i] + ends[j] > best:
                best, where = starts[i] + ends[j], (i, j)
    if where is None:
        return None, float("-inf")
    return whole_words(text, offsets[where[0]][0], offsets[where[1]][1]), best - null


def whole_words(text: str, start: int, end: int) -> tuple[int, int]:
    """[start, end) widened to the words it cuts ("Hale" of "Halep," becomes "Halep")."""
    while start > 0 and text[start - 1].isalnum():
        start -= 1
    while end < len(text) and text[end].isalnum():
        end += 1
    return start, end


def squad_normalize(text: str) -> str:
    """SQuAD's answer normalization: lower case, no punctuation, no articles, one space."""
    text = "".join(c for c in text.lower() if c not in _PUNCTUATION)
    return " ".join(w for w in text.split() if w not in ("a", "an", "the"))


def exact_match(prediction: str, answers: Sequence[str]) -> bool:
    """SQuAD exact match: the prediction equals one of the answers once normalized."""
    return any(squad_normalize(prediction) == squad_normalize(a) for a in answers)


def token_f1(prediction: str, answers: Sequence[str]) -> float:
    """SQuAD F1: the best word-overlap F1 of the prediction against any of the answers."""
    from collections import Counter

    predicted = squad_normalize(prediction).split()
    best = 0.0
    for answer in answers:
        gold = squad_normalize(answer).split()
        common = sum((Counter(predicted) & Counter(gold)).values())
        if common:
            precision, recall = common / len(predicted), common / len(gold)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best
