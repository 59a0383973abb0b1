"""Lexical helpers: content words, the question-word finder, IDF-weighted overlap."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from rag.lexical import content_words, finder, idf_weights, overlap


def test_content_words_drop_stop_words_and_plurals() -> None:
    assert content_words("The Taliban's courts ruled on the bans") == {
        "taliban",
        "court",
        "ruled",
        "ban",
    }
    assert content_words("") == set()
    assert content_words("Суд исключил движение 🙂") == {"суд", "исключил", "движение"}


def found(question: str, text: str) -> set[str]:
    return {word for _, word in finder(content_words(question))(text)}


def test_finder_finds_question_words_and_their_plurals() -> None:
    question = "Which court banned the group?"
    assert found(question, "Two Courts; the GROUPS were banned.") == {"court", "group", "banned"}
    assert found(question, "A courtroom held no groupies.") == set()
    assert finder(set())("anything") == []


words = st.sampled_from(
    ["court", "courts", "Court", "gas", "news", "new", "this", "thi", "is", "s", "bus", "buss",
     "Суд", "суды", "🙂", "x1", "1", "the", "Bowls", "bowl", "İstanbul", "ΣΟΦΟΣ", "σοφος"]
)  # fmt: skip
texts = st.lists(
    st.tuples(words, st.sampled_from([" ", ", ", "-", "'", ". ", "_", ""])), max_size=12
).map(lambda parts: "".join(w + sep for w, sep in parts))


@given(question=texts, text=texts)
def test_finder_equals_content_words_intersection(question: str, text: str) -> None:
    assert found(question, text) == content_words(text) & content_words(question)


def test_finder_gives_where_each_question_word_is() -> None:
    text = "Courts: the court ruled. Courtiers"
    assert finder({"court", "ruled"})(text) == [(0, "court"), (12, "court"), (18, "ruled")]


def test_overlap_weights_rare_words_more() -> None:
    q = {"taliban", "court"}
    weights = idf_weights(q, [{"taliban"}, {"taliban"}, {"taliban", "court"}])
    assert weights["court"] > weights["taliban"]
    assert overlap(q, {"court"}, weights) > overlap(q, {"taliban"}, weights)
    assert overlap(q, {"court", "taliban"}, weights) == 1.0
    assert overlap(set(), {"court"}) == 0.0
