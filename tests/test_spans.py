"""The span head's decoding and SQuAD's short-answer measures, on hand-made logits.

Pure functions: no model runs here (the smoke test in test_reader.py trains and reads a
reader with a span head).
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from rag.reader.spans import (
    MAX_SPAN_PIECES,
    best_span,
    exact_match,
    squad_normalize,
    token_f1,
    whole_words,
)

SENTENCE = "In 2019, Simona Halep beat Serena Williams."
# [CLS] who won ? [SEP] in 2019 , simona halep beat serena williams . [SEP]
OFFSETS = [(0, 0), (0, 3), (4, 7), (7, 8), (0, 0), (0, 2), (3, 7), (7, 8), (9, 15), (16, 21),
           (22, 26), (27, 33), (34, 42), (42, 43), (0, 0)]  # fmt: skip
SEQUENCE_IDS = [None, 0, 0, 0, None, 1, 1, 1, 1, 1, 1, 1, 1, 1, None]


def logits(peaks: dict[int, float]) -> list[float]:
    return [peaks.get(i, 0.0) for i in range(len(OFFSETS))]


def test_the_best_span_is_the_highest_start_plus_end_inside_the_sentence() -> None:
    starts, ends = logits({8: 5.0, 1: 9.0}), logits({9: 5.0, 3: 9.0})  # question pieces ignored
    span, score = best_span(starts, ends, OFFSETS, SEQUENCE_IDS, SENTENCE, len(SENTENCE))
    assert span is not None and SENTENCE[span[0] : span[1]] == "Simona Halep"
    assert score == 10.0  # over the null answer's 0 + 0


def test_a_null_answer_scores_below_zero_and_context_never_answers() -> None:
    starts, ends = logits({0: 6.0, 11: 1.0}), logits({0: 6.0, 12: 1.0})
    span, score = best_span(starts, ends, OFFSETS, SEQUENCE_IDS, SENTENCE, len(SENTENCE))
    assert span is not None and SENTENCE[span[0] : span[1]] == "Serena Williams" and score == -10.0
    # Read with context after the sentence: pieces past `limit` are never the answer.
    limit = SENTENCE.index("Serena") - 1
    span, _ = best_span(starts, ends, OFFSETS, SEQUENCE_IDS, SENTENCE, limit)
    assert span is not None and span[1] <= limit
    assert best_span([0.0], [0.0], [(0, 0)], [None], "", 0) == (None, float("-inf"))


def test_a_span_ends_after_it_starts_and_is_short() -> None:
    starts, ends = logits({12: 4.0}), logits({6: 4.0})  # the end peak lies before the start
    span, _ = best_span(starts, ends, OFFSETS, SEQUENCE_IDS, SENTENCE, len(SENTENCE))
    assert span is not None and span[0] < span[1]
    assert MAX_SPAN_PIECES >= 10


def test_whole_words_widens_cut_words_in_any_script() -> None:
    assert whole_words("Simona Halep, 2019", 7, 11) == (7, 12)
    text = "Глава МИД Амир Хан 🙂 Муттаки"
    a = text.index("мир")
    assert text[slice(*whole_words(text, a, a + 2))] == "Амир"
    assert whole_words("🙂 x", 0, 1) == (0, 1)
    assert whole_words("", 0, 0) == (0, 0)


@given(st.text(max_size=30), st.integers(0, 30), st.integers(0, 30))
def test_whole_words_never_shrinks_a_span(text: str, a: int, b: int) -> None:
    a, b = sorted((min(a, len(text)), min(b, len(text))))
    start, end = whole_words(text, a, b)
    assert 0 <= start <= a <= b <= end <= len(text)


def test_squad_measures() -> None:
    assert squad_normalize("The  Denver Broncos!") == "denver broncos"
    assert exact_match("the Denver Broncos.", ["Broncos", "Denver Broncos"])
    assert not exact_match("Denver", ["Denver Broncos"])
    assert token_f1("Denver Broncos won", ["Denver Broncos"]) == 0.8
    assert token_f1("", ["x"]) == 0.0 and token_f1("Кабул", ["кабул"]) == 1.0
