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


@pytest.mark.parametrize(
    "question",
    [
        "Which countries removed the Taliban from their terrorist lists?",
        "When did Kazakhstan remove the Taliban from its list?",
        "Is it true that Moscow never closed its embassy in Kabul?",
        "How long did it take Russia to delist the Taliban?",
        "Are there Taliban diplomats in Moscow?",
        "When were diplomatic relations established?",
    ],
)
def test_questions_that_name_their_subject_are_searched_as_written(question: str) -> None:
    assert not is_followup(question)
    assert contextualize(question, [COURT, "When was that?"]) == question


@pytest.mark.parametrize(
    "question",
    [
        "What does he think of the court's decision?",
        "Why does that matter for Moscow?",
        "What did the Taliban delegation do there?",
        "How many people died?",
        "Through which pipeline?",
        "And official ones?",
    ],
)
def test_questions_without_a_subject_of_their_own_are_followups(question: str) -> None:
    assert is_followup(question)


def test_an_elliptic_followup_replaces_the_earlier_subject() -> None:
    history = [COURT, "When did Kazakhstan remove the Taliban from its list?"]
    searched = contextualize("And what about Tajikistan?", history)
    assert searched == "And what about Tajikistan? remove Taliban list"


def test_the_followup_question_set_is_rewritten_correctly() -> None:
    """The set of BENCHMARKS.md: the score must not fall below what is published there."""
    from pathlib import Path

    from rag.followup_eval import score

    result = score(Path(__file__).parent / "eval" / "followup_questions.jsonl")
    assert result.total == 60
    assert result.standalone_ok == result.standalone
    assert result.correct >= 59, result.wrong
