"""The trained reader at answering time: its choices on made-up sentences, its settings,
its failures, its threads.

The choices run the shipped model (`rag/reader/model`) through the real answerer; a fake
reader folder (`helpers.fake_reader`) answers through the same hook where the model's own
judgement is not what is tested. Training the reader is tests/test_training.py's.
"""

from __future__ import annotations

import json
import random
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from helpers import fake_reader
from test_answer import retrieved

from rag.errors import ModelError, SettingsError
from rag.extractive import (
    ABSTAIN_BELOW,
    MAX_ANSWER_WORDS,
    UNSURE_LEAD,
    WHY_ABSTAINED,
    compose,
    cosine_floor,
    rank,
)
from rag.judge import JUDGE_FILE
from rag.manifest import file_sha256
from rag.reader import ADAPTER_FILE, BUNDLED, MODEL_FILE, Reader, get_reader
from rag.settings import Settings

TRAINED = Settings.load(env={})


def test_the_reader_prefers_the_sentence_that_answers_to_one_restating_the_question() -> None:
    question = "Who won the Golden Lantern prize in 2031?"
    restates = "The Golden Lantern prize of 2031 drew the largest audience in its history."
    answers = "Mara Velde took the award for her debut novel, beating four other writers."
    logits = get_reader().logits(question, [restates, answers])
    assert logits[1] > logits[0]
    # Through the answerer, although the restatement is closer in meaning and words.
    r = retrieved(question, [("a", "", [(restates, 0.75), (answers, 0.45)])])
    _, ranking, citations, _ = compose(r, TRAINED)
    assert not ranking.abstain and citations[0].quote == answers
    assert ranking.confidence is not None and 0 < ranking.confidence <= 1


def test_the_question_adapter_narrows_a_restatements_lead_over_the_answer() -> None:
    from rag.embed import DEFAULT_MODEL, get_encoder, get_query_encoder

    question = "Who won the women's singles at Wimbledon in 2019?"
    restates = (
        "Wimbledon 2019 women's singles: Serena Williams and Johanna Konta reached the "
        "later rounds of the championships."
    )
    answers = "Simona Halep beat Serena Williams 6-2, 6-2 in the final on Saturday."
    q = get_query_encoder(DEFAULT_MODEL).encode([question])[0]
    restatement, answer = get_encoder(DEFAULT_MODEL).encode([restates, answers])
    adapted = get_reader().adapt(q, DEFAULT_MODEL)
    assert adapted is not None and abs(float(np.linalg.norm(adapted)) - 1) < 1e-5
    plain_lead, adapted_lead = (restatement - answer) @ q, (restatement - answer) @ adapted
    assert plain_lead > 0.3 and adapted_lead < plain_lead - 0.15, (plain_lead, adapted_lead)
    # Vectors of another embedding model, or of another size, keep the plain cosine.
    assert get_reader().adapt(q, "another-model") is None
    assert get_reader().adapt(q[:2], DEFAULT_MODEL) is None


def test_the_reader_finds_no_answer_among_sentences_naming_no_judge() -> None:
    """What the reader knows (the judge's decision on such questions: test_judge.py)."""
    question = "Who was the judge in the Halvorsen fraud trial?"
    unrelated = [
        "The Halvorsen fraud trial opened in Bergen on a cold Monday.",
        "Prosecutors said the company hid losses for three years.",
        "The defence called the charges a political attack.",
    ]
    judge = "Judge Ana Berg presided over the Halvorsen fraud trial."
    logits = get_reader().logits(question, [*unrelated, judge])
    assert max(logits[:3]) < 0 < logits[3]


def test_the_threshold_setting_moves_abstention() -> None:
    r = retrieved("Who won the prize?", [("a", "", [("Mara Velde won the prize in 2031.", 0.8)])])
    _, never, _, _ = compose(r, Settings.load(env={}, reader_threshold=0.0))
    text, always, _, note = compose(r, Settings.load(env={"RAG_READER_THRESHOLD": "1"}))
    assert not never.abstain and never.why == ("", "")
    assert always.abstain and always.why[0] == "unsure" and text.startswith(UNSURE_LEAD)
    # The note gives the judge's confidence against the threshold that withheld it.
    assert always.confidence is not None
    assert note == WHY_ABSTAINED["unsure"].format(confidence=always.confidence, threshold=1.0)
    assert "under the 100% an answer needs" in note
    with pytest.raises(SettingsError, match="reader_threshold"):
        Settings.load(env={}, reader_threshold=1.5)


def test_a_reader_answer_may_join_a_close_second_sentence_up_to_80_words(
    tmp_path: Path,
) -> None:
    """Two distinct 35-word sentences the reader cannot tell apart (a graph that reads
    nothing, one word piece a word): with a judge that lets any second sentence join
    (`join_at` 0) both are quoted (70 words), with one that lets none join (1) only the
    best; the cosine scorer quotes one, its answers stopping at 60 words."""
    first = (
        "house river green table window garden bread water paper music horse winter summer "
        "bottle city market road bridge train ship cloud stone apple chair door forest field "
        "lamp coat shoe bird fish tree song glass."
    )
    second = (
        "king queen doctor teacher farmer soldier pilot driver singer painter writer baker "
        "miner sailor hunter nurse judge lawyer banker dancer player runner worker trader "
        "keeper leader member owner editor actor poet chef guard clerk monk."
    )
    r = retrieved("What was said?", [("a", "", [(first, 0.8)]), ("b", "", [(second, 0.79)])])
    quoted = {}
    for join_at in (0.0, 1.0):
        folder = fake_reader(tmp_path / f"reader-{join_at}")
        judge = json.loads((folder / JUDGE_FILE).read_text())
        judge.update(join_at=join_at, answer_at=0.0)  # always an answer
        (folder / JUDGE_FILE).write_text(json.dumps(judge))
        _, _, cited, _ = compose(r, Settings.load(env={}, reader_model=str(folder)))
        quoted[join_at] = {c.quote for c in cited}
    _, _, cosine_only, _ = compose(r, Settings.load(env={}, answer_reader="cosine"))
    assert quoted[0.0] == {first, second} and len(quoted[1.0]) == 1
    assert [c.quote for c in cosine_only] == [first]
    assert MAX_ANSWER_WORDS["cosine"] < 70 <= MAX_ANSWER_WORDS["trained"]


def test_the_cosine_floor_is_the_readers_fitted_one_and_a_set_value_wins() -> None:
    calibration = get_reader().calibration
    assert calibration is not None and calibration.cosine_floor is not None
    fitted = calibration.cosine_floor
    assert cosine_floor(TRAINED, calibration) == fitted < ABSTAIN_BELOW["cosine"]
    # A reader calibrated before readers fitted a floor, and the cosine scorer.
    assert cosine_floor(TRAINED, replace(calibration, cosine_floor=None)) == 0.30
    assert cosine_floor(TRAINED) == ABSTAIN_BELOW["trained"] < ABSTAIN_BELOW["cosine"]
    assert cosine_floor(Settings.load(env={}, answer_reader="cosine")) == 0.40
    for reader in ("trained", "cosine"):
        chosen = Settings.load(env={"RAG_ABSTAIN_BELOW": "0.5"}, answer_reader=reader)
        assert cosine_floor(chosen, calibration) == 0.5
    # The note of an off-topic question names the floor that refused it.
    far = retrieved("Who won the prize?", [("a", "", [("Mara Velde won the prize.", 0.05)])])
    note = WHY_ABSTAINED["off_topic"].format(cosine=0.05, floor=fitted)
    assert rank(far, TRAINED).why == ("off_topic", note)
    # Between the two floors: the reader answers where the cosine scorer abstains.
    r = retrieved("Who won the prize?", [("a", "", [("Mara Velde won the prize in 2031.", 0.35)])])
    _, with_reader, _, _ = compose(r, TRAINED)
    _, cosine_only, _, _ = compose(r, Settings.load(env={}, answer_reader="cosine"))
    assert not with_reader.abstain and cosine_only.abstain


def test_the_cosine_scorer_stays_selectable() -> None:
    question = "Who won the Golden Lantern prize in 2031?"
    r = retrieved(question, [("a", "", [("The Golden Lantern prize of 2031 was held.", 0.9)])])
    _, ranking, _, _ = compose(r, Settings.load(env={}, answer_reader="cosine"))
    assert ranking.confidence is None and all(s.reader is None for s in ranking.sentences)
    with pytest.raises(SettingsError, match="answer_reader"):
        Settings.load(env={"RAG_ANSWER_READER": "magic"})


def test_concurrent_requests_get_the_scores_of_serial_ones() -> None:
    reader = get_reader()
    rng = random.Random(3)
    words = "the court army minister signed river election treaty opened closed in on".split()
    cases = [
        (f"Who {rng.choice(words)} the {rng.choice(words)}?",
         [" ".join(rng.choices(words, k=rng.randint(4, 30))) + "." for _ in range(5)])
        for _ in range(12)
    ]  # fmt: skip
    serial = [reader.logits(q, s) for q, s in cases]
    with ThreadPoolExecutor(max_workers=6) as pool:
        parallel = list(pool.map(lambda c: reader.logits(*c), cases * 2))
    assert parallel == serial * 2


def copy_reader(tmp_path: Path) -> Path:
    folder = tmp_path / "reader"
    shutil.copytree(BUNDLED, folder)
    return folder


def test_the_reader_folders_adapter_orders_the_cheap_ranking(tmp_path: Path) -> None:
    folder = copy_reader(tmp_path)
    swap = np.array([[0.0, 1.0], [1.0, 0.0]], dtype=np.float32)  # cosine c becomes √(1-c²)
    np.save(folder / ADAPTER_FILE, swap)
    meta = json.loads((folder / "reader.json").read_text())
    meta["sha256"][ADAPTER_FILE] = file_sha256(folder / ADAPTER_FILE)
    (folder / "reader.json").write_text(json.dumps(meta))
    r = retrieved(
        "Who won the prize?",
        [
            ("a", "", [("The prize drew record crowds to the hall this year.", 0.9)]),
            ("b", "", [("Mara Velde won it for her first novel, about a lighthouse.", 0.3)]),
        ],
    )
    adapted = rank(r, Settings.load(env={}, reader_model=str(folder)))
    assert adapted.passage_order == [2, 1]  # "b" has the best cheap-scored sentence now
    # The cosine scorer, and a reader without an adapter (2-d vectors: not its size), do not.
    assert rank(r, Settings.load(env={}, answer_reader="cosine")).passage_order == [1, 2]
    assert rank(r, TRAINED).passage_order == [1, 2]


def test_the_shortlist_setting_sets_how_many_sentences_the_reader_reads() -> None:
    sentences = [
        ("The prize drew record crowds to the hall this year.", 0.8),
        ("Mara Velde won it for her first novel, about a lighthouse.", 0.7),
        ("The jury met four times in the old library of the town.", 0.6),
    ]
    r = retrieved("Who won the prize?", [("a", "", sentences)])
    assert len(rank(r, Settings.load(env={"RAG_READER_SHORTLIST": "2"})).sentences) == 2
    assert len(rank(r, TRAINED).sentences) == 3  # the judge's 8, of 3 candidates
    with pytest.raises(SettingsError, match="reader_shortlist = 41"):
        Settings.load(env={"RAG_READER_SHORTLIST": "41"})


@pytest.mark.parametrize("name", [MODEL_FILE, ADAPTER_FILE])
def test_missing_weights_name_the_fix(tmp_path: Path, name: str) -> None:
    folder = copy_reader(tmp_path)
    (folder / name).unlink()
    with pytest.raises(ModelError, match=rf"missing {name}.*RAG_ANSWER_READER=cosine"):
        Reader(folder)


@pytest.mark.parametrize("name", [MODEL_FILE, ADAPTER_FILE])
def test_damaged_weights_name_the_fix(tmp_path: Path, name: str) -> None:
    folder = copy_reader(tmp_path)
    data = (folder / name).read_bytes()
    (folder / name).write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelError, match=rf"{name} is damaged.*reinstall"):
        Reader(folder).logits("Who?", ["Someone did it."])
    (folder / "reader.json").write_text("{not json")
    with pytest.raises(ModelError, match=r"reader\.json is unreadable"):
        Reader(folder)


def test_a_bad_reader_setting_is_a_clear_error_for_a_question(tmp_path: Path) -> None:
    r = retrieved("Who won?", [("a", "", [("Mara Velde won the prize in 2031.", 0.8)])])
    settings = Settings.load(env={}, reader_model=str(tmp_path / "nowhere"))
    with pytest.raises(ModelError, match="nowhere"):
        compose(r, settings)
