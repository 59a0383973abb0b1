"""rag.followup: follow-up questions borrow the topic of the previous question."""

from __future__ import annotations

import pytest

from rag.followup import content_words, contextualize, is_followup

COURT = "Why did Russia's Supreme Court lift the ban on the Taliban?"


def test_standalone_questions_are_unchanged() -> None:
    assert contextualize(COURT, []) == COURT
    assert contextualize(COURT, None) == COURT
    assert contextualize("Who is Andrey Serenko?", [COURT]) == "Who is Andrey Serenko?"


@pytest.mark.parametrize(
    "question",
    ["When was that?", "Who did they interview?", "And why?", "What did it cost?", "Tell me more"],
)
def test_followups_get_the_previous_topic(question: str) -> None:
    assert is_followup(question)
    searched = contextualize(question, [COURT])
    assert searched.startswith(question)
    assert "Supreme Court" in searched and "Taliban" in searched and "Russia" in searched


def test_chained_followups_keep_the_topic() -> None:
    searched = contextualize("Who decided it?", [COURT, "When was that?"])
    assert searched == "Who decided it? Russia Supreme Court lift ban Taliban"


def test_the_most_recent_topic_wins_and_words_are_not_repeated() -> None:
    history = [COURT, "Which country delisted the Taliban in 2023?"]
    searched = contextualize("When was that Taliban decision?", history)
    assert searched.startswith("When was that Taliban decision? ")
    assert "country delisted 2023" in searched and searched.count("Taliban") == 1


def test_content_words() -> None:
    assert content_words("When was the court's ruling on it?") == ["court", "ruling"]
    assert content_words("") == []
    assert contextualize("When was that?", ["", "   "]) == "When was that?"
