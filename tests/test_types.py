"""`Answer.from_json` reads back what `Answer.to_json` printed (the chat's saved turns).

Generated answers of every shape, real extractive answers over the seed articles, and
real LLM-mode answers from `FakeLLMServer` (tests/test_llm.py) each go through JSON and
back unchanged; answer objects saved before `outcome` and `turn_id` existed still load.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_llm import QUESTION as LLM_QUESTION
from test_llm import FakeLLMServer, first_sentence, llm_settings, passages_of, server  # noqa: F401

from rag import api
from rag.indexing import build_index
from rag.settings import Settings
from rag.types import (
    ANSWERED,
    NOT_FOUND,
    OUTCOMES,
    Answer,
    CheckedSentence,
    Citation,
    LLMOutput,
    LLMRun,
    Passage,
)

text = st.text(max_size=12)
number = st.floats(allow_nan=False, allow_infinity=False)
offset = st.integers(min_value=0, max_value=10**6)
citations = st.builds(
    Citation,
    n=st.integers(1, 99),
    doc_id=text,
    title=text,
    publisher=text,
    date=text,
    url=text,
    quote=text,
    start=offset,
    end=offset,
)
passages = st.builds(
    Passage,
    rank=st.integers(1, 50),
    chunk_id=st.just(-1),  # not printed: what a passage read back has
    doc_id=text,
    title=text,
    publisher=text,
    date=text,
    url=text,
    text=text,
    start=offset,
    end=offset,
    score=number,
    sentences=st.just([]),  # not printed either
    similarity=st.none() | number,
    source=text,
)
sentences = st.builds(
    CheckedSentence,
    text=text,
    supported=st.booleans(),
    passages=st.lists(st.integers(1, 9), max_size=3),
    citations=st.lists(st.integers(1, 9), max_size=3),
    cosine=number,
    overlap=number,
    numbers_ok=st.booleans(),
)
seconds = st.floats(min_value=0, max_value=1e4)
runs = st.builds(
    LLMRun,
    model=text,
    output=st.builds(
        LLMOutput, text=text, tokens=st.integers(0, 10**5), seconds=seconds, first_token_s=seconds
    ),
    prompt_tokens=st.integers(0, 10**5),
    passages_given=st.integers(0, 20),
    grounded=st.none() | st.floats(0, 1),
    removed_markers=st.none() | st.integers(0, 9),
)


def _answer(outcome: str, **fields: Any) -> Answer:
    return Answer(abstained=outcome != ANSWERED, outcome=outcome, **fields)


answers = st.builds(
    _answer,
    outcome=st.sampled_from(OUTCOMES),
    question=text,
    answer=text,
    citations=st.lists(citations, max_size=3),
    passages=st.lists(passages, max_size=3),
    timings_ms=st.dictionaries(text, number, max_size=3),
    searched=text,
    mode=st.sampled_from(["extractive", "llm"]),
    sentences=st.none() | st.lists(sentences, max_size=3),
    grounded=st.none() | st.floats(0, 1),
    note=text,
    llm=st.none() | runs,
    confidence=st.none() | st.floats(0, 1),
    abstain_reason=st.none() | st.sampled_from(["off_topic", "no_figure", "reader_unsure"]),
)


def assert_round_trip(answer: Answer) -> None:
    """Through a JSON file and back, the answer object is the same, key for key."""
    data = json.loads(json.dumps(answer.to_json()))
    back = Answer.from_json(data)
    assert back.to_json() == data
    assert list(back.to_json()) == list(data)  # in the same order
    assert back.citations == answer.citations and back.outcome == answer.outcome


@given(answers)
def test_every_answer_object_reads_back_as_printed(answer: Answer) -> None:
    assert_round_trip(answer)
    assert Answer.from_json(answer.to_json()).passages == answer.passages


def test_real_extractive_answers_read_back_as_printed(fake_settings: Settings) -> None:
    build_index(fake_settings)
    questions = [
        "When did Russia's Supreme Court lift the ban on the Taliban?",
        "Which militant group attacked Moscow in March 2024?",
        "What is the capital of Mars?",
    ]
    shown = [api.answer(q, fake_settings) for q in questions]
    shown.append(api.answer("When was that?", fake_settings))
    shown.append(api.answer("When was that?", fake_settings, history=questions[:1]))
    never_sure = fake_settings.with_(reader_threshold=1.0)  # an unsure reply, with its lead
    shown.append(api.answer(questions[0], never_sure))
    assert {a.outcome for a in shown} >= {"answered", "unsure"}
    for answer in shown:
        assert_round_trip(answer)


def test_real_llm_answers_read_back_as_printed(
    llm_settings: Settings,  # noqa: F811  (the fixtures imported above)
    server: FakeLLMServer,  # noqa: F811
) -> None:
    server.reply = lambda body: (
        f"{first_sentence(passages_of(body)[1])} [1] Brazil won the 2022 World Cup [2]. [42]"
    )
    checked = api.answer(LLM_QUESTION, llm_settings)
    assert checked.mode == "llm" and checked.sentences and checked.llm
    assert checked.llm.removed_markers == 1
    server.reply = lambda body: "Brazil won the 2022 World Cup [1]."
    fell_back = api.answer(LLM_QUESTION, llm_settings)
    assert fell_back.mode == "extractive" and fell_back.llm  # the run is kept, not its text
    for answer in (checked, fell_back):
        assert_round_trip(answer)
        back = Answer.from_json(answer.to_json())
        assert back.llm and back.llm.output.tokens_per_s == answer.llm.output.tokens_per_s


def test_an_answer_saved_before_outcome_and_turn_id_still_loads() -> None:
    old = {
        "question": "Q?",
        "answer": "The sources do not contain an answer.",
        "abstained": True,
        "citations": [],
        "passages": [],
        "timings_ms": {"total": 3.5},
        "searched": "Q?",
        "mode": "extractive",
        "short_answer": "a key no longer printed",
    }
    assert Answer.from_json(old).outcome == NOT_FOUND
    assert Answer.from_json({**old, "abstained": False}).outcome == ANSWERED
    answer = Answer.from_json({**old, "turn_id": "ab12"})  # a chat turn's id is not the answer's
    assert answer.to_json() == {
        **{k: v for k, v in old.items() if k != "short_answer"},
        "outcome": NOT_FOUND,
    }


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"question": "Q?"},
        {"question": "Q?", "answer": "A", "abstained": False, "citations": [{"n": 1}]},
        {"question": "Q?", "answer": "A", "abstained": True, "outcome": ANSWERED},
        {"question": "Q?", "answer": "A", "abstained": False, "outcome": "maybe"},
        {"question": "Q?", "answer": "A", "abstained": False, "passages": "none"},
    ],
)
def test_what_is_no_answer_object_is_refused_plainly(data: dict) -> None:
    with pytest.raises(ValueError, match="not an answer object"):
        Answer.from_json(data)
