"""Lexical helpers shared by BM25 retrieval and answer scoring: stop words, content words.

Plain word matching, lower-cased, with a crude plural/possessive strip. No stemming
library and no language detection: the words are whatever `\\w+` finds, in any script.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet

# Words too common to say what a question is about.
STOPWORDS = frozenset(
    """a an and are as at be by did do does for from had has have how i in is it its of
    on or that the their there these this those to was were what when where which who
    whom whose why will with would about into than then they them he she his her we you
    your our not no can could should may might also been being more most some any""".split()
)


_WORD = re.compile(r"\w+")


def _lower(text: str) -> str:
    """`text.lower()` with the same length: "İ" (the one character whose lower case is two,
    "i" and a combining dot that would split the word) becomes "i"."""
    return text.replace("İ", "I").lower()


def is_word(token: str) -> bool:
    """Not a stop word, and not a single letter: "\\w+" splits "Russia's" into "russia"
    and "s", "U.S." into "u" and "s", and those letters say nothing. Digits stay."""
    return token not in STOPWORDS and (len(token) > 1 or token.isdigit())


def content_words(text: str) -> set[str]:
    """Lower-cased words that are not stop words or single letters, with a trailing "s"
    dropped (len > 3)."""
    # Set difference first: retrieval calls this for hundreds of sentences per question.
    words = set(_WORD.findall(_lower(text))) - STOPWORDS
    return {w[:-1] if len(w) > 3 and w[-1] == "s" else w for w in words if is_word(w)}


def finder(question_words: set[str]) -> Callable[[str], list[tuple[int, str]]]:
    """A function giving (offset, word) for each occurrence of one of `question_words`
    (or its plural form) in a text: one regular-expression pass that looks for those
    words only, instead of building every word of the text. The words found are exactly
    `content_words(text) & question_words`."""
    if not question_words:
        return lambda text: []
    alternatives = "|".join(sorted(map(re.escape, question_words), key=len, reverse=True))
    pattern = re.compile(rf"(?<!\w)(?:{alternatives})s?(?!\w)")

    def find(text: str) -> list[tuple[int, str]]:
        hits = []
        for m in pattern.finditer(_lower(text)):  # same length: offsets hold for `text`
            token = m.group()
            word = token[:-1] if len(token) > 3 and token[-1] == "s" else token
            if word in question_words and is_word(token):
                hits.append((m.start(), word))
        return hits

    return find


def overlap(
    question_words: AbstractSet[str],
    words: AbstractSet[str],
    weights: dict[str, float] | None = None,
) -> float:
    """Share of the question's content words found in `words` (a text's `content_words`),
    0..1, optionally weighted (see `idf_weights`) so rare words count more than common."""
    if not question_words:
        return 0.0
    found = question_words & words
    if weights is None:
        return len(found) / len(question_words)
    total = sum(weights[w] for w in question_words)
    return sum(weights[w] for w in found) / total if total else 0.0


def idf_weights(
    question_words: AbstractSet[str], bags: Sequence[AbstractSet[str]]
) -> dict[str, float]:
    """Inverse document frequency of each question word among `bags` (the content words
    of a query's candidates), so a word every candidate shares (the topic) weighs little."""
    n = len(bags)
    return {w: math.log(1 + n / (1 + sum(w in bag for bag in bags))) for w in question_words}
