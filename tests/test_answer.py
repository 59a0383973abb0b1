"""The extractive answerer's mechanisms, each on made-up sentences with chosen vectors.

`compose` is pure given a `Retrieved` (passages, their sentences and vectors), so these
tests build one by hand: a sentence's cosine to the question is set through its vector.
`retrieved()` is shared with test_reader.py, which checks the trained reader's choices.
"""

from __future__ import annotations

import numpy as np
import pytest

from rag.cheap_scorer import claimant_words, is_statement, score_sentences
from rag.extractive import (
    DATES_DIFFER_NOTE,
    NOT_IN_SOURCES,
    WHY_ABSTAINED,
    by_best_sentence,
    compose,
)
from rag.extractive import (
    rank as rank_sentences,
)
from rag.lexical import content_words
from rag.retrieve import Retrieved, Sentence
from rag.settings import Settings
from rag.types import Passage

Q = np.array([1.0, 0.0], dtype=np.float32)


def vec(cosine: float) -> np.ndarray:
    """A unit vector with the given cosine to the question vector Q."""
    return np.array([cosine, (1 - cosine**2) ** 0.5], dtype=np.float32)


def retrieved(question: str, docs: list[tuple[str, str, list[tuple[str, float]]]]) -> Retrieved:
    """docs: (doc_id, date, [(sentence, cosine), ...]); one passage per document. A
    sentence written with a leading "\n" starts a new paragraph."""
    passages, sentences = [], {}
    q_words = content_words(question)
    for rank, (doc_id, date, items) in enumerate(docs, 1):
        text = " ".join(s for s, _ in items)
        spans, at = [], 0
        for written, cosine in items:
            sentence = written.lstrip("\n")
            start = text.index(sentence, at)
            spans.append(
                Sentence(
                    start,
                    start + len(sentence),
                    sentence,
                    vec(cosine),
                    cosine,
                    frozenset(content_words(sentence) & q_words),
                )
            )
            at = start + len(sentence)
        passages.append(
            Passage(rank, rank, doc_id, doc_id.title(), "", date, "", text, 0, len(text), 0.5)
        )
        sentences[rank] = spans
    return Retrieved(question, Q, passages, sentences)


def answer(r: Retrieved, abstain_below: float = 0.4) -> tuple[str, bool, list, str]:
    """The cheap scorer's answer (these tests pin its mechanisms; the reader's are in
    test_reader.py)."""
    settings = Settings.load(env={}, answer_reader="cosine", abstain_below=abstain_below)
    text, ranking, citations, note = compose(r, settings)
    return text, ranking.abstain, citations, note


def test_questions_and_headings_are_not_statements() -> None:
    assert is_statement("The bridge opened in May 2020 after long delays.")
    assert not is_statement("When did the bridge open after the long delays?")
    assert not is_statement("Reasons Behind the Decision")


def test_weak_evidence_abstains_and_says_so() -> None:
    r = retrieved("Who won the cup?", [("a", "", [("The river floods every spring here.", 0.2)])])
    text, abstained, citations, note = answer(r)
    assert abstained and text == NOT_IN_SOURCES and citations == []
    assert note == WHY_ABSTAINED["off_topic"].format(cosine=0.2, floor=0.4)
    assert "cosine 0.200, under 0.400" in note


def test_passages_with_nothing_quotable_abstain_and_say_so() -> None:
    # Only a question and a heading: nothing that could answer, whatever its cosine.
    r = retrieved(
        "Who won the cup?",
        [("a", "", [("Who won the cup this year?", 0.9), ("\nThe Cup Final", 0.8)])],
    )
    settings = Settings.load(env={}, answer_reader="cosine")
    text, ranking, citations, note = compose(r, settings)
    assert ranking.abstain and ranking.why[0] == "no_sentence" and ranking.sentences == []
    assert text == NOT_IN_SOURCES and citations == [] and note == WHY_ABSTAINED["no_sentence"]


def test_best_sentence_is_quoted_verbatim_with_offsets() -> None:
    r = retrieved(
        "When did the bridge open?",
        [("a", "", [("The town is old and quiet.", 0.3), ("The bridge opened in May 2020.", 0.8)])],
    )
    text, abstained, citations, _ = answer(r)
    assert not abstained and text.startswith("The bridge opened in May 2020. [1]")
    c = citations[0]
    assert r.passages[0].text[c.start : c.end] == c.quote == "The bridge opened in May 2020."


def test_a_sentence_answering_the_one_before_gets_its_credit() -> None:
    # The interview answer has little in common with the question; its question does.
    r = retrieved(
        "How does the mayor see the future of the bridge?",
        [
            (
                "a",
                "",
                [
                    ("The council met on Monday to discuss budgets.", 0.55),
                    ("How do you see the future of the bridge, mayor?", 0.9),
                    ("We will rebuild it stronger than before.", 0.45),
                ],
            ),
        ],
    )
    _, _, citations, _ = answer(r)
    assert citations[0].quote == "We will rebuild it stronger than before."


def test_a_dependent_sentence_is_quoted_with_the_one_before() -> None:
    r = retrieved(
        "Why did the minister resign?",
        [
            (
                "a",
                "",
                [
                    ("Minister Ana Ruiz stepped down on Friday after the audit.", 0.5),
                    ("She said the audit had made her position untenable.", 0.9),
                ],
            )
        ],
    )
    _, _, citations, _ = answer(r)
    assert citations[0].quote.startswith("Minister Ana Ruiz stepped down")
    assert citations[0].quote.endswith("untenable.")


def quoted(question: str, sentences: list[tuple[str, float]]) -> str:
    """The first citation's quote for `question` over one passage of `sentences`."""
    return answer(retrieved(question, [("a", "", sentences)]))[2][0].quote


def test_an_it_that_stands_for_nothing_before_is_quoted_alone() -> None:
    before = ("Minister Ana Ruiz stepped down on Friday after the audit.", 0.5)
    for alone in (
        "It is unlikely that the audit will be published.",
        "It’s also clear that the audit will not be published.",
        "It remains to be seen whether the audit will be published.",
    ):
        assert quoted("Will the audit be published?", [before, (alone, 0.9)]) == alone
    for dependent in (
        "It will not be published, the ministry said.",
        "It is a report that will not be published.",
    ):
        quote = quoted("Will the audit be published?", [before, (dependent, 0.9)])
        assert quote == f"{before[0]} {dependent}"


def test_a_sentence_closing_a_quotation_is_quoted_from_where_it_opens() -> None:
    quote = quoted(
        "Why must the dam be repaired?",
        [
            ("Mayor Lee spoke on Monday.", 0.3),
            ("“We cannot wait longer.", 0.3),
            ("The dam must be repaired because it leaks,” she said.", 0.9),
        ],
    )
    assert quote == "“We cannot wait longer. The dam must be repaired because it leaks,” she said."


def test_a_quotation_continued_without_its_speaker_reaches_back_to_its_opening() -> None:
    quote = quoted(
        "What must the city do about the dam?",
        [
            ("“We cannot wait.", 0.2),
            ("The dam is old,” the mayor said.", 0.3),
            ("“The city must repair it this year.”", 0.9),
        ],
    )
    assert quote.startswith("“We cannot wait.") and quote.endswith("this year.”")


def test_a_sentence_inside_a_quotation_with_straight_marks_finds_its_opening() -> None:
    quote = quoted(
        "What must the city do about the dam?",
        [
            ('"We cannot wait.', 0.2),
            ("The city must repair the dam this year.", 0.9),
            ('It is old," the mayor said.', 0.2),
        ],
    )
    assert quote == '"We cannot wait. The city must repair the dam this year.'


def test_a_quotation_in_guillemets_is_quoted_whole() -> None:
    quote = quoted(
        "Что мэр сказал о плотине?",
        [("«Мы не можем ждать.", 0.2), ("Плотину починят в этом году», — сказал мэр.", 0.9)],
    )
    assert quote == "«Мы не можем ждать. Плотину починят в этом году», — сказал мэр."


def test_the_search_for_a_quotations_opening_stops_at_a_paragraph_or_a_closed_one() -> None:
    across_paragraphs = quoted(
        "What must the city do about the dam?",
        [("“We cannot wait.", 0.2), ("\nThe city must repair the dam this year.", 0.9)],
    )
    assert across_paragraphs == "The city must repair the dam this year."
    after_a_closed_quotation = quoted(
        "What must the city do about the dam?",
        [("“We cannot wait,” she said.", 0.2), ("The city must repair the dam this year.", 0.9)],
    )
    assert after_a_closed_quotation == "The city must repair the dam this year."


def test_the_words_naming_who_made_a_claim_are_told_apart_from_the_claim() -> None:
    assert claimant_words("According to the harbour master, how deep is the channel?") == {
        "according",
        "harbour",
        "master",
    }
    assert claimant_words("What does Ola Berg think of the channel?") == {"ola", "berg", "think"}
    assert claimant_words("Which sanctions stay in force, per Berg?") == {"per", "berg"}
    assert claimant_words("Why, in the pilot's view, is the channel unsafe?") >= {"pilot", "view"}
    # "per" before a lower-case word is a rate, not a source.
    assert claimant_words("How many ships pass per day?") == set()


def test_a_sentence_need_not_name_who_made_the_claim_it_states() -> None:
    r = retrieved(
        "According to the harbour master, how deep is the channel now?",
        [
            (
                "a",
                "",
                [
                    ("The harbour master, according to the port, toured the channel.", 0.55),
                    ("The channel is now fourteen metres deep.", 0.5),
                ],
            )
        ],
    )
    assert answer(r)[2][0].quote == "The channel is now fourteen metres deep."


def test_the_same_fact_twice_is_quoted_once() -> None:
    r = retrieved(
        "When did the bridge open?",
        [
            ("a", "", [("The new bridge opened to traffic in May 2020.", 0.8)]),
            ("b", "", [("The new bridge opened to traffic in May 2020, officials said.", 0.79)]),
        ],
    )
    _, _, citations, _ = answer(r)
    assert len(citations) == 1


def test_a_sentence_in_two_overlapping_passages_is_one_candidate() -> None:
    shared = "The bridge opened in May 2020."
    r = retrieved(
        "When did the bridge open?",
        [("a", "", [(shared, 0.8), ("It cost €3 million.", 0.4)]), ("a", "", [(shared, 0.8)])],
    )
    scored = score_sentences(r)
    assert [s.sentence.text for s in scored] == [shared, "It cost €3 million."]
    assert scored[0].rank == 1  # the copy in the better passage


def test_passages_are_re_ranked_by_their_best_sentence() -> None:
    r = retrieved(
        "When did the bridge open?",
        [
            ("a", "", [("The bridge is a landmark of the city.", 0.5)]),
            ("b", "", [("What is the bridge made of?", 0.9)]),  # a question: never quoted
            ("c", "", [("The bridge opened in May 2020.", 0.8)]),
        ],
    )
    for reader in ("trained", "cosine"):
        ranking = rank_sentences(r, Settings.load(env={}, answer_reader=reader))
        assert ranking.passage_order == [3, 1]
        passages = by_best_sentence(r.passages, ranking.passage_order)
        assert [(p.rank, p.doc_id) for p in passages] == [(1, "c"), (2, "a"), (3, "b")]
    assert by_best_sentence(r.passages, []) == r.passages  # nothing scored: retrieval order


def test_sources_of_different_dates_keep_the_answer_first_and_the_note_says_so() -> None:
    r = retrieved(
        "How many people live in the town?",
        [
            ("old", "2019-05-01", [("About 12,000 people lived in the town in 2019.", 0.85)]),
            (
                "new",
                "2024-03-02",
                [("The town now has some 15,500 residents, the census says.", 0.8)],
            ),
        ],
    )
    text, _, citations, note = answer(r)
    # The answering quote stays first (the others would follow newest first).
    assert [c.doc_id for c in citations] == ["old", "new"]
    assert text.index("12,000") < text.index("15,500")
    assert note == DATES_DIFFER_NOTE.format(dates="2024-03-02, 2019-05-01")


@pytest.mark.parametrize(
    ("question", "old", "new"),
    [
        (  # the same date, reported twice: nothing differs
            "When did the bridge open?",
            "The bridge opened on May 3, 2020, after long delays.",
            "Since the bridge opened on May 3, 2020, traffic has doubled.",
        ),
        (  # a why question: articles of different dates explain, they do not disagree
            "Why did the bridge close?",
            "The bridge closed in 2019 because its cables had rusted.",
            "The bridge closed for two years while rusted cables were replaced in 2024.",
        ),
    ],
)
def test_no_dates_note_when_the_cited_facts_do_not_differ(
    question: str, old: str, new: str
) -> None:
    r = retrieved(
        question, [("old", "2020-05-04", [(old, 0.85)]), ("new", "2024-03-02", [(new, 0.84)])]
    )
    _, _, citations, note = answer(r)
    assert len(citations) == 2 and note == ""
    assert [c.doc_id for c in citations] == ["old", "new"]


def test_a_when_question_prefers_the_sentence_with_a_date() -> None:
    r = retrieved(
        "When did the ferry service stop?",
        [
            (
                "a",
                "",
                [
                    ("The ferry service stopped because of falling passenger numbers.", 0.70),
                    ("The ferry service stopped in March 2011.", 0.66),
                ],
            )
        ],
    )
    _, _, citations, _ = answer(r)
    assert citations[0].quote == "The ferry service stopped in March 2011."


def test_a_less_precise_date_is_not_a_different_date() -> None:
    r = retrieved(
        "When was the ban lifted?",
        [
            ("month", "2025-04", [("The court lifted the ban on April 17, 2025.", 0.9)]),
            ("day", "2025-04-18", [("Yesterday the court lifted the ban on the movement.", 0.8)]),
        ],
    )
    _, _, citations, note = answer(r)
    assert citations[0].doc_id == "month" and note == ""


def test_a_how_many_question_abstains_when_no_close_sentence_holds_a_number() -> None:
    # On topic, but the article never gives the length: quoting it would not answer.
    r = retrieved(
        "How long will the new railway be?",
        [("a", "", [("The new railway will link the port with the capital.", 0.7)])],
    )
    text, abstained, _, note = answer(r)
    assert abstained and text == NOT_IN_SOURCES
    assert note == WHY_ABSTAINED["no_figure"].format(figure="number")


def test_a_question_opening_with_a_when_clause_asks_its_last_wh_word() -> None:
    sentence = "Gary Kubiak replaced John Fox as head coach of the Broncos."
    asks_who = "When John Fox left as head coach for the Broncos, who replaced him?"
    r = retrieved(asks_who, [("a", "", [(sentence, 0.7)])])
    assert not answer(r)[1]  # no date needed
    r = retrieved("When did John Fox leave the Broncos?", [("a", "", [(sentence, 0.7)])])
    _, abstained, _, note = answer(r)
    assert abstained and note == WHY_ABSTAINED["no_figure"].format(figure="date")


def test_a_how_many_question_answers_when_a_close_sentence_holds_a_number() -> None:
    r = retrieved(
        "How long will the new railway be?",
        [
            (
                "a",
                "",
                [
                    ("The new railway will link the port with the capital.", 0.7),
                    ("Its track will run for 573 kilometres.", 0.6),
                ],
            )
        ],
    )
    _, abstained, citations, _ = answer(r)
    assert not abstained and any("573" in c.quote for c in citations)


def test_a_who_question_is_not_refused_for_want_of_a_full_name() -> None:
    # Names are too varied ("Newton", "DeMarcus Ware") to require one.
    r = retrieved(
        "Who sacked the quarterback?",
        [("a", "", [("Newton was sacked by DeMarcus Ware as time expired.", 0.7)])],
    )
    _, abstained, _, _ = answer(r)
    assert not abstained
