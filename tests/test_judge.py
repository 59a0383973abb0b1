"""The answer judge: its features on made-up sentences, its fitted file, its outcomes, and
the calibration arithmetic of its training on data the tests build.

The conflict cases run the shipped reader and judge through the real answerer
(`rag.extractive.compose` over sentences with stored vectors, as test_answer builds them).
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest
from test_answer import retrieved

from rag.errors import ModelError
from rag.extractive import NOT_IN_SOURCES, UNSURE_LEAD, compose
from rag.judge import FEATURES, JUDGE_FILE, Seen, asks, features, load_judge
from rag.reader import BUNDLED, get_reader
from rag.settings import Settings
from rag.types import NOT_FOUND, UNSURE
from training.judge import (
    JOIN_PRECISION,
    MAX_FALSE_ABSTAIN,
    MAX_NOT_FOUND,
    Scored,
    reliability,
    thresholds,
)

TRAINED = Settings.load(env={})


def seen(text: str, before: str = "", logit: float = 1.0, rank: int = 0) -> Seen:
    return Seen(text, before, f"{before} {text}", 1.0, 0.5, logit, rank, 1)


def row(question: str, texts: list[str]) -> list[dict[str, float]]:
    rows = features(question, [seen(t, rank=i) for i, t in enumerate(texts)], texts)
    return [dict(zip(FEATURES, r, strict=True)) for r in rows]


def test_features_see_a_year_the_question_does_not_ask_about() -> None:
    other, same = row(
        "Who won the Tour de Valdora in 2021?",
        ["Lena Markus won the Tour de Valdora in 2019.", "In 2021 the race went to Ida Holm."],
    )
    assert other["year_conflict"] == other["year_missing"] == 1.0
    assert same["year_conflict"] == same["year_missing"] == 0.0
    assert other["asks_who"] == same["asks_who"] == 1.0


def test_features_see_names_and_words_the_sentence_lacks() -> None:
    envoy, ambassador = row(
        "Who is the Taliban's ambassador in Moscow?",
        [
            "Zamir Kabulov, Russia's special representative for Afghanistan, met the delegation.",
            "The Taliban's ambassador in Moscow, Gul Hassan, presented his credentials.",
        ],
    )
    assert envoy["names_in_sentence"] < ambassador["names_in_sentence"] == 1.0
    assert envoy["words_in_sentence"] < ambassador["words_in_sentence"]
    assert ambassador["holds_type"] == 1.0  # a name beyond the question's


def test_features_of_a_figure_question_and_empty_or_odd_text() -> None:
    (figure,) = row("How many people died in the Dravo floods?", ["Nine people died."])
    (none,) = row("How many people died in the Dravo floods?", ["Rescue teams were busy."])
    assert figure["holds_type"] == 1.0 and none["holds_type"] == 0.0
    assert asks("When did it open?") == "when" and asks("Tell me more") == "what"
    (odd,) = row("Кто победил? 🏆", ["Победил Иван 🎉."])
    assert all(v == v for v in odd.values())  # no NaN for Cyrillic and emoji


ARTICLE = """---
title: "Ida Holm wins the Tour de Valdora"
publisher: "Northern Wire"
date: "2024-07-21"
---

Ida Holm of Norway won the 2024 Tour de Valdora on Sunday, finishing the final stage in \
Brenna two minutes ahead of her nearest rival.

Holm, 27, took the leader's jersey on the mountain stage on Thursday and defended it \
through two days of rain. "I have dreamed of this since I was a child," she told reporters.

Lena Markus won the race in 2019 and 2021, and the 2022 edition went to Sofia Brandt after \
a late attack on the final climb.

The Kestrel Street fire in Brenna destroyed four shops on the eve of the final stage, and \
organisers moved the finish line 300 metres to the west. The cause of the fire is under \
investigation.
"""


@pytest.fixture(scope="module")
def valdora(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """One real article, indexed with the real model: the judge as answering runs it."""
    from rag import api

    root = tmp_path_factory.mktemp("valdora")
    (root / "sources").mkdir()
    (root / "sources" / "valdora.md").write_text(ARTICLE.replace("\\\n", ""))
    settings = Settings.load(env={}, sources=root / "sources", index=root / "index")
    api.index(settings)
    return settings


@pytest.mark.slow
def test_the_sentence_naming_the_asked_year_beats_one_naming_another(valdora) -> None:
    from rag import api

    for question, year in [
        ("Who won the Tour de Valdora in 2021?", "2021"),
        ("Who won the 2024 Tour de Valdora?", "2024"),
    ]:
        shown = api.answer(question, valdora)
        assert year in shown.citations[0].quote, (question, shown.answer)


@pytest.mark.slow
def test_conflicts_and_absent_facts_get_less_confidence_than_answers(valdora) -> None:
    """A year the article lacks, an official it does not name and a figure it does not give
    are all answered less surely than the questions it answers (the outcome they get is
    measured in BENCHMARKS.md, "News")."""
    from rag import api

    def confidence(question: str) -> float:
        value = api.answer(question, valdora).confidence
        assert value is not None
        return value

    answered = [
        confidence("Who won the 2024 Tour de Valdora?"),
        confidence("How many shops did the Kestrel Street fire destroy?"),
    ]
    lacking = [
        confidence("Who won the Tour de Valdora in 2023?"),  # a year it lacks
        confidence("How many people were injured in the Kestrel Street fire?"),
        confidence("How much prize money did Ida Holm win?"),
    ]
    assert max(lacking) < min(answered), (lacking, answered)


def test_an_unsure_reply_offers_the_closest_quote_as_a_lead(monkeypatch) -> None:
    judge = get_reader().judge
    r = retrieved("Who won the prize?", [("a", "", [("Mara Velde won the prize in 2031.", 0.8)])])
    # A confidence between the two thresholds, whatever the sentence scores.
    between = (judge.unsure_at + judge.answer_at) / 2
    monkeypatch.setattr(type(judge), "confidence", lambda self, rows, picked: between)
    text, ranking, citations, note = compose(r, TRAINED)
    assert ranking.outcome == UNSURE and ranking.abstain
    assert text == f"{UNSURE_LEAD} Mara Velde won the prize in 2031. [1]"
    assert [c.quote for c in citations] == ["Mara Velde won the prize in 2031."]
    assert "under the" in note
    below = judge.unsure_at / 2
    monkeypatch.setattr(type(judge), "confidence", lambda self, rows, picked: below)
    text, ranking, citations, _ = compose(r, TRAINED)
    assert (text, ranking.outcome, citations) == (NOT_IN_SOURCES, NOT_FOUND, [])


def test_the_shipped_judge_loads_and_a_broken_one_is_refused(tmp_path: Path) -> None:
    judge = load_judge(BUNDLED)
    assert judge is not None and 0 < judge.unsure_at <= judge.answer_at < 1
    assert load_judge(tmp_path) is None  # a folder without one
    data = json.loads((BUNDLED / JUDGE_FILE).read_text())
    for broken in ({**data, "features": data["features"][:-1]}, {**data, "pick": {}}, "{"):
        (tmp_path / JUDGE_FILE).write_text(
            broken if isinstance(broken, str) else json.dumps(broken)
        )
        with pytest.raises(ModelError, match=r"training\.judge"):
            load_judge(tmp_path)


def test_a_reader_without_a_judge_says_how_to_fit_one(tmp_path: Path) -> None:
    folder = tmp_path / "reader"
    shutil.copytree(BUNDLED, folder)
    (folder / JUDGE_FILE).unlink()
    r = retrieved("Who won the prize?", [("a", "", [("Mara Velde won the prize in 2031.", 0.8)])])
    with pytest.raises(ModelError, match=r"no judge\.json: fit it with `python -m training\.judge"):
        compose(r, Settings.load(env={}, reader_model=str(folder)))


def scored(confidence: float, right: int, answerable: bool = True) -> Scored:
    return Scored(confidence, right, answerable, 0.0, 0)


def test_reliability_on_data_the_test_builds() -> None:
    rng = random.Random(7)
    # Perfectly calibrated: right with exactly the probability stated, in every band.
    calibrated = [scored(p, int(i < p * 100)) for p in (0.15, 0.45, 0.85) for i in range(100)]
    report = reliability(calibrated)
    assert report["ece"] == 0.0 and [b["n"] for b in report["bands"]] == [100, 100, 100]
    # Overconfident by 0.3 everywhere.
    over = [scored(min(0.99, p + 0.3), int(rng.random() < p)) for p in [0.2, 0.5] * 500]
    assert abs(reliability(over)["ece"] - 0.3) < 0.05


def test_thresholds_keep_the_answerable_questions_they_promise() -> None:
    # 100 answerable questions at 0.01 .. 1.00, and unanswerable ones below 0.3.
    answerable = [scored(i / 100, 1) for i in range(1, 101)]
    unanswerable = [scored(i / 100, 0, answerable=False) for i in range(1, 30)]
    answer_at, unsure_at, join_at = thresholds(answerable + unanswerable)
    assert sum(s.confidence < answer_at for s in answerable) == round(100 * MAX_FALSE_ABSTAIN)
    assert sum(s.confidence < unsure_at for s in answerable) == round(100 * MAX_NOT_FOUND)
    assert join_at == 1.0  # no second sentence ever holds the answer: none joins
    # Second sentences at 0.6-0.7 hold the answer half the time; 30 more at 0.2 never do:
    # joining down to 0.25 keeps them right often enough (JOIN_PRECISION), 0.2 would not.
    paired = [Scored(0.9, 1, True, p, int(i % 4 < 2)) for i, p in enumerate([0.6, 0.7] * 10)]
    paired += [Scored(0.9, 1, True, 0.2, 0)] * 30
    assert 10 / 20 >= JOIN_PRECISION > 10 / 50
    assert thresholds(paired)[2] == 0.25


def test_the_model_card_holds_one_judge_section(tmp_path: Path) -> None:
    from training.judge import CARD_SECTION, write_card

    judge = json.loads((BUNDLED / JUDGE_FILE).read_text())
    (tmp_path / "MODEL_CARD.md").write_text("# The reader\n\nIts card.\n")
    write_card(tmp_path, judge)
    write_card(tmp_path, judge)  # fitted again: replaced, not added
    card = (tmp_path / "MODEL_CARD.md").read_text()
    assert card.startswith("# The reader\n\nIts card.\n\n") and card.count(CARD_SECTION) == 1
    assert f"answer at a confidence of {judge['answer_at']}" in card
    assert "| 0.9-1.0 |" in card
