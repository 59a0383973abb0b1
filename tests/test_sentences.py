"""Tests for rag.sentences: a pure, rule-based sentence splitter returning character spans."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rag.sentences import split_sentences


def pieces(text: str) -> list[str]:
    return [text[a:b] for a, b in split_sentences(text)]


def assert_well_formed(text: str, spans: list[tuple[int, int]]) -> None:
    """Sorted, non-overlapping, trimmed, one line each, every non-space char exactly once."""
    covered = [0] * len(text)
    previous_end = 0
    for a, b in spans:
        assert previous_end <= a < b <= len(text), spans
        previous_end = b
        piece = text[a:b]
        assert piece == piece.strip(), piece
        assert "\n" not in piece, piece
        for i in range(a, b):
            covered[i] += 1
    for i, ch in enumerate(text):
        if not ch.isspace():
            assert covered[i] == 1, (i, ch, spans)


# --- examples -------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", " ", "\n", "\n\n \t \n", "\u00a0\u3000"])
def test_empty_and_blank(text: str) -> None:
    assert split_sentences(text) == []


def test_single_sentence_without_final_punctuation() -> None:
    assert pieces("  just some words  ") == ["just some words"]
    assert split_sentences("  just some words  ") == [(2, 17)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "The ban was lifted. Officials welcomed it.",
            ["The ban was lifted.", "Officials welcomed it."],
        ),
        ("Is it over? Yes! Maybe… Certainly.", ["Is it over?", "Yes!", "Maybe…", "Certainly."]),
        ("Prices rose 3.5 percent. Markets fell.", ["Prices rose 3.5 percent.", "Markets fell."]),
        ("It ended. (The court met again.)", ["It ended.", "(The court met again.)"]),
        (
            "The toll rose to 145. Officials said more.",
            ["The toll rose to 145.", "Officials said more."],
        ),
        ("It was 2003. 2025 will be different.", ["It was 2003.", "2025 will be different."]),
    ],
)
def test_plain_sentence_ends(text: str, expected: list[str]) -> None:
    assert pieces(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Mr. Smith went to Washington. He said hi.",
            ["Mr. Smith went to Washington.", "He said hi."],
        ),
        (
            "Dr. Jones and Prof. Lee met Gen. Petrov. They talked.",
            ["Dr. Jones and Prof. Lee met Gen. Petrov.", "They talked."],
        ),
        ("The U.S. Army moved. Then it stopped.", ["The U.S. Army moved.", "Then it stopped."]),
        (
            "Talks at the U.N. Security Council ended. Nobody won.",
            ["Talks at the U.N. Security Council ended.", "Nobody won."],
        ),
        (
            "He met them on Jan. 5 in St. Petersburg. It rained.",
            ["He met them on Jan. 5 in St. Petersburg.", "It rained."],
        ),
        ("Bring fruit, e.g. apples. Then go.", ["Bring fruit, e.g. apples.", "Then go."]),
        ("Meet at 5 p.m. today. Be on time.", ["Meet at 5 p.m. today.", "Be on time."]),
    ],
)
def test_abbreviations_do_not_end_sentences(text: str, expected: list[str]) -> None:
    assert pieces(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "J. R. R. Tolkien wrote books. They sold.",
            ["J. R. R. Tolkien wrote books.", "They sold."],
        ),
        (
            "The author, A. Smith, agreed. Others did not.",
            ["The author, A. Smith, agreed.", "Others did not."],
        ),
    ],
)
def test_initials_do_not_end_sentences(text: str, expected: list[str]) -> None:
    assert pieces(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('He said "Stop." Then he left.', ['He said "Stop."', "Then he left."]),
        ("He said “Stop.” Then he left.", ["He said “Stop.”", "Then he left."]),
        ("She asked: «Why?» Nobody knew.", ["She asked: «Why?»", "Nobody knew."]),
        ('It ended. "We won," he said.', ["It ended.", '"We won," he said.']),
        ("It ended. “We won,” he said.", ["It ended.", "“We won,” he said."]),
        # A closing quote followed by a lower-case word continues the sentence.
        ('"Why?" she asked. Nobody knew.', ['"Why?" she asked.', "Nobody knew."]),
    ],
)
def test_quotes(text: str, expected: list[str]) -> None:
    assert pieces(text) == expected


def test_lower_case_after_period_continues() -> None:
    assert pieces("The rate is approx. three times higher. Next.") == [
        "The rate is approx. three times higher.",
        "Next.",
    ]
    assert pieces("He said no. then he left.") == ["He said no. then he left."]


def test_line_breaks_always_end_a_sentence() -> None:
    text = "A Heading Without A Stop\nFirst line of text\n\n- item one\n- item two\nLast one."
    assert pieces(text) == [
        "A Heading Without A Stop",
        "First line of text",
        "- item one",
        "- item two",
        "Last one.",
    ]


def test_line_breaks_with_surrounding_space_and_crlf() -> None:
    text = "  One sentence.  \r\n\tTwo sentence. \n\n"
    assert pieces(text) == ["One sentence.", "Two sentence."]
    assert_well_formed(text, split_sentences(text))


def test_no_split_on_semicolons_or_colons() -> None:
    assert pieces("He came; he saw: he left.") == ["He came; he saw: he left."]


def test_cyrillic() -> None:
    text = "Верховный суд отменил запрет. Решение вступило в силу! Что дальше? Посмотрим…"
    assert pieces(text) == [
        "Верховный суд отменил запрет.",
        "Решение вступило в силу!",
        "Что дальше?",
        "Посмотрим…",
    ]
    # Lower-case Cyrillic after a period is not an opener.
    assert pieces("Это т.е. пример. а дальше.") == ["Это т.е. пример. а дальше."]
    assert pieces("Он сказал: «Нет». Потом ушёл.") == ["Он сказал: «Нет».", "Потом ушёл."]


def test_emoji() -> None:
    text = "Great news 🎉. Next one 😀! Family 👨‍👩‍👧 trip 🇺🇦."
    assert pieces(text) == ["Great news 🎉.", "Next one 😀!", "Family 👨‍👩‍👧 trip 🇺🇦."]
    assert_well_formed(text, split_sentences(text))
    assert pieces("🎉🎉🎉") == ["🎉🎉🎉"]


def test_other_scripts() -> None:
    text = "Das ist gut. Ölpreise steigen. Ελλάδα νίκησε. Αύριο πάλι."
    assert pieces(text) == ["Das ist gut.", "Ölpreise steigen.", "Ελλάδα νίκησε.", "Αύριο πάλι."]


def test_offsets_are_into_the_given_text() -> None:
    text = "\n\n  Alpha beta.   Gamma delta!\n"
    assert split_sentences(text) == [(4, 15), (18, 30)]


def test_next_line_does_not_change_this_line() -> None:
    assert split_sentences("Hi. _\nx")[:2] == split_sentences("Hi. _")


@pytest.mark.parametrize(
    "text", ["The vote was 5 to 4. Then it ended.", "The team won 3. Fans cheered."]
)
def test_a_single_digit_is_not_an_initial(text: str) -> None:
    assert len(split_sentences(text)) == 2


@pytest.mark.parametrize(
    "text", ["He said “No.” Then he left.", "The answer was no. The minister left."]
)
def test_the_word_no_ends_a_sentence(text: str) -> None:
    assert len(split_sentences(text)) == 2


def test_number_abbreviation_before_a_digit_does_not_split() -> None:
    assert pieces("He is No. 1 in the list. He won.") == ["He is No. 1 in the list.", "He won."]


# --- properties -----------------------------------------------------------------------------

ATOMS = [
    *"aZxQ5Ж我",
    " ",
    " ",
    "  ",
    "\n",
    "\n\n",
    "\t",
    "\u00a0",
    ".",
    ". ",
    "!",
    "?",
    "…",
    '"',
    "'",
    "“",
    "”",
    "‘",
    "’",
    "«",
    "»",
    "(",
    ")",
    "[",
    "]",
    "-",
    "—",
    ",",
    ";",
    "🎉",
    "👨‍👩‍👧",
    "Mr.",
    "U.S.",
    " J. ",
    "e.g.",
    "No.",
    "Москва",
    "The",
    "end",
    "Word",
]
TEXTS = st.one_of(
    st.text(max_size=200),
    st.lists(st.sampled_from(ATOMS), max_size=60).map("".join),
)


@settings(max_examples=400, deadline=None)
@given(TEXTS)
def test_spans_are_sorted_trimmed_and_cover_every_non_space_char_once(text: str) -> None:
    assert_well_formed(text, split_sentences(text))


@settings(max_examples=200, deadline=None)
@given(TEXTS, st.text(alphabet=" \t\n", max_size=5))
def test_offsets_shift_with_a_whitespace_prefix(text: str, prefix: str) -> None:
    shifted = [(a + len(prefix), b + len(prefix)) for a, b in split_sentences(text)]
    assert split_sentences(prefix + text) == shifted
