"""The trained reader: its data, its choices on made-up sentences, its failures, its threads.

The choices run the shipped model (`rag/reader/model`) through the real answerer; the
data loaders run on tiny files in the formats of shared/data/qa; the smoke test trains,
exports and calibrates a reader for two steps on such files.
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
from helpers import fake_span_reader
from test_answer import retrieved

from rag.errors import ModelError, SettingsError
from rag.extractive import (
    ABSTAIN_BELOW,
    MAX_ANSWER_WORDS,
    NOT_IN_SOURCES,
    WHY_ABSTAINED,
    compose,
    cosine_floor,
    rank,
    short_answer,
)
from rag.manifest import file_sha256
from rag.reader import ADAPTER_FILE, BUNDLED, MODEL_FILE, Reader, get_reader, pair_text, reads
from rag.reader.adapter import main as adapter_main
from rag.reader.build import main as build_main
from rag.reader.calibrate import (
    SPLITS,
    Case,
    choose_extension,
    fit_floor,
    nearest_other_article,
    read_logits,
)
from rag.reader.data import (
    Group,
    define_question,
    described,
    detokenize,
    embed_groups,
    entities,
    heldout_article,
    load_groups,
    previous,
    swap_entity,
    without_answer,
)
from rag.reader.train import TrainConfig, cheap_hardness, drop_shared, pick, token_targets
from rag.settings import Settings
from rag.types import ShortAnswer

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


def test_a_pair_carries_the_end_of_the_sentence_before_when_asked() -> None:
    before = "Asked about the treaty, the minister told reporters on Monday in Kyiv:"
    paired = pair_text("It will hold.", before, 4)
    assert paired == "It will hold. [SEP] on Monday in Kyiv:"
    assert pair_text("It will hold.", before, 0) == "It will hold."  # the shipped reader
    assert pair_text("Мир 🙂.", "", 16) == "Мир 🙂."


def test_the_reader_finds_no_answer_among_sentences_naming_no_judge() -> None:
    """What the reader knows. (At the shipped threshold the calibrated abstention still
    answers such a question when its sentences are close in meaning: see reader.md.)"""
    question = "Who was the judge in the Halvorsen fraud trial?"
    unrelated = [
        "The Halvorsen fraud trial opened in Bergen on a cold Monday.",
        "Prosecutors said the company hid losses for three years.",
        "The defence called the charges a political attack.",
    ]
    judge = "Judge Ana Berg presided over the Halvorsen fraud trial."
    logits = get_reader().logits(question, [*unrelated, judge])
    assert max(logits[:3]) < 0 < logits[3]
    reader = get_reader()
    assert reader.answers([max(logits[:3]), 0.0, 0.5]) < reader.answers([logits[3], 0.0, 0.5])


def test_the_short_answer_is_the_best_sentences_span_inside_its_quote() -> None:
    question = "Who won the prize?"
    sentence = "Mara Velde won the prize in 2031."
    r = retrieved(question, [("a", "", [("Rain fell.", 0.3), (sentence, 0.8)])])
    _, ranking, citations, _ = compose(r, TRAINED)
    assert short_answer(ranking, citations) is None  # the shipped reader has no span head
    best = ranking.sentences[0]
    start = best.sentence.start
    best.span, best.span_score = (start, start + len("Mara Velde")), 3.2
    short = short_answer(ranking, citations)
    assert short == ShortAnswer(citations[0].n, "Mara Velde", start, start + 10)
    assert r.passages[0].text[short.start : short.end] == short.text
    best.span_score = -0.5  # the head prefers "no answer here"
    assert short_answer(ranking, citations) is None
    best.span_score = 3.2
    assert short_answer(replace(ranking, why=("reader_unsure", "unsure")), citations) is None
    assert short_answer(ranking, []) is None  # not quoted


def test_a_reader_with_context_reads_the_sentence_before_and_answers_inside_the_sentence(
    tmp_path: Path,
) -> None:
    """Through the real hook (`reader_model`), with a graph that reads nothing: the words of
    context reach the model, and the short answer never runs into them."""
    question, before = "Who won the prize?", "Asked who won, the jury said:"
    sentence = "Mara Velde won the prize in 2031."
    plain = Reader(fake_span_reader(tmp_path / "plain"))
    context = Reader(fake_span_reader(tmp_path / "context", context_words=4))
    [alone] = plain.read(question, [sentence], [before])
    [with_before] = context.read(question, [sentence], [before])
    assert with_before.logit > alone.logit  # four more words read after [SEP]
    assert alone.span == with_before.span == (0, len(sentence))
    assert context.read(question, [sentence], [""]) == [alone]
    # Answering with it: the best sentence is read with the one before, bold words and all.
    settings = Settings.load(env={}, reader_model=str(tmp_path / "context"))
    r = retrieved(question, [("a", "", [(before, 0.5), (sentence, 0.8)])])
    _, ranking, citations, _ = compose(r, settings)
    assert ranking.sentences[0].sentence.text == sentence and not ranking.abstain
    short = short_answer(ranking, citations)
    assert short is not None and short.text == sentence
    assert r.passages[0].text[short.start : short.end] == sentence


def test_the_threshold_setting_moves_abstention() -> None:
    r = retrieved("Who won the prize?", [("a", "", [("Mara Velde won the prize in 2031.", 0.8)])])
    _, never, _, _ = compose(r, Settings.load(env={}, reader_threshold=0.0))
    text, always, _, note = compose(r, Settings.load(env={"RAG_READER_THRESHOLD": "1"}))
    assert not never.abstain and never.why == ("", "")
    assert always.abstain and always.why[0] == "reader_unsure" and text == NOT_IN_SOURCES
    # The note gives the reader's confidence against the threshold that refused it.
    assert always.confidence is not None
    assert note == WHY_ABSTAINED["reader_unsure"].format(
        confidence=always.confidence, threshold=1.0
    )
    assert "under its 100% threshold" in note
    with pytest.raises(SettingsError, match="reader_threshold"):
        Settings.load(env={}, reader_threshold=1.5)


def test_a_reader_answer_may_join_a_close_second_sentence_up_to_80_words(
    tmp_path: Path,
) -> None:
    """Two distinct 35-word sentences the reader cannot tell apart (a graph that reads
    nothing, one word piece a word): both are quoted with the reader (70 words), one with
    the cosine scorer, whose answers stop at 60."""
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
    fake = Settings.load(env={}, reader_model=str(fake_span_reader(tmp_path / "reader")))
    _, _, with_reader, _ = compose(r, fake)
    _, _, cosine_only, _ = compose(r, Settings.load(env={}, answer_reader="cosine"))
    assert [c.quote for c in with_reader] == [first, second]
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
    assert len(rank(r, TRAINED).sentences) == 3  # the calibrated 4, of 3 candidates
    with pytest.raises(SettingsError, match="reader_shortlist = 41"):
        Settings.load(env={"RAG_READER_SHORTLIST": "41"})


def test_the_reader_reads_on_past_its_shortlist_when_nothing_in_it_answers(
    tmp_path: Path,
) -> None:
    """A shortlist of one holds only a sentence restating the question; read on, the
    reader finds the answer ranked third by the cheap score."""
    sentences = [
        ("The prize drew record crowds to the hall this year.", 0.8),
        ("The jury met four times in the old library of the town.", 0.7),
        ("Mara Velde won it for her first novel, about a lighthouse.", 0.6),
    ]
    r = retrieved("Who won the prize?", [("a", "", sentences)])

    def ranked(name: str, **calibration: object) -> tuple[list[str], bool | None]:
        folder = tmp_path / name  # a folder each: readers are cached by folder
        shutil.copytree(BUNDLED, folder)
        meta = json.loads((folder / "reader.json").read_text())
        meta["calibration"].update(calibration)
        (folder / "reader.json").write_text(json.dumps(meta))
        settings = Settings.load(env={"RAG_READER_SHORTLIST": "1"}, reader_model=str(folder))
        ranking = rank(r, settings)
        return [s.sentence.text for s in ranking.sentences], ranking.read_on

    assert ranked("never", extend_below=None) == ([sentences[0][0]], False)
    texts, read_on = ranked("on", extend_below=0.0, extend_to=3)
    assert texts[0] == sentences[2][0] and len(texts) == 3 and read_on
    assert ranked("sure", extend_below=-50.0, extend_to=3) == ([sentences[0][0]], False)
    assert rank(r, Settings.load(env={}, answer_reader="cosine")).read_on is None
    # Reading on never reads less than the shortlist, nor past what there is.
    assert reads([-1.0, -2.0], 0.0, 1) == 2 and reads([], 0.0, 8) == 0
    assert reads([1.0], 0.0, 8) == 1 and reads([-1.0], None, 8) == 1


def test_calibration_reads_on_only_where_held_out_questions_gain() -> None:
    """Held-out cases whose answer ranks fifth, after four sentences the reader scores
    low: reading on to 8 gains them, at the lowest bar that does (the one reading least)."""

    def case(split: str, answer_at: int, logits: list[float]) -> Case:
        labels = [int(i == answer_at) for i in range(len(logits))]
        texts = [f"Sentence {i} 🙂 Ответ." for i in range(len(logits))]
        group = Group("Кто?", texts, labels, [""] * len(texts), "squad", split, split)
        cheap = [1.0 - 0.1 * i for i in range(len(logits))]
        return Case(group, cheap, labels, texts, [""] * len(texts), 0.5, 0.1, logits)

    found_late = {s: [case(s, 4, [-5.0] * 4 + [3.0] + [-5.0] * 7)] for s in SPLITS}
    assert choose_extension(found_late, 4, 0.0) == (-3.0, 8)
    assert read_logits(found_late["qed-dev"][0], 4, (-3.0, 8)) == [-5.0] * 4 + [3.0] + [-5.0] * 3
    found_early = {s: [case(s, 0, [3.0] + [-5.0] * 11)] for s in SPLITS}
    assert choose_extension(found_early, 4, 0.0) is None


def test_the_floor_keeps_a_share_of_every_splits_answerable_questions_above_it() -> None:
    def case(split: str, best_cosine: float, answerable: bool = True) -> Case:
        group = Group("Кто?", ["Да 🙂."], [int(answerable)], [""], "squad", "a", split)
        return Case(group, [1.0], [int(answerable)], ["Да 🙂."], [""], best_cosine, 0.1, [0.0])

    # 1 % of 200 is 2: the floor lies between the second and third lowest of each split.
    squad = [case("squad-heldout", 0.2 + 0.001 * i) for i in range(200)]
    qed = [case("qed-dev", 0.1 + 0.002 * i) for i in range(200)]
    unanswerable = [case("qed-dev", 0.0, answerable=False)] * 50  # do not count
    assert fit_floor(squad) == 0.201 and fit_floor(qed) == 0.103
    assert fit_floor(squad + qed + unanswerable) == 0.103  # the lowest split's
    with pytest.raises(ModelError, match="answerable"):
        fit_floor(unanswerable)


def test_nearest_other_article_leaves_out_the_questions_own_article() -> None:
    def unit(*v: float) -> np.ndarray:
        return np.asarray(v, dtype=np.float32) / np.linalg.norm(v)

    groups = [
        Group("Q1?", ["Own 🙂.", "Also own."], [1, 0], ["", ""], "qed", "A", "qed-dev"),
        Group("Q2?", ["Другая."], [1], [""], "qed", "B", "qed-dev"),
        Group("Q3?", ["Alone."], [1], [""], "selqa", "C", "selqa-dev"),
    ]
    q_at = {"Q1?": unit(1, 0), "Q2?": unit(0, 1), "Q3?": unit(1, 1)}
    vectors = {"Own 🙂.": unit(1, 0), "Also own.": unit(1, 0), "Другая.": unit(1, 1)}
    vectors["Alone."] = unit(1, 0)
    q1, q2, q3 = nearest_other_article(groups, q_at, vectors)
    assert q1 == pytest.approx(2**-0.5) and q2 == pytest.approx(0.0, abs=1e-6)
    assert q3 is None  # its split has no other article


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


# --- training data ---------------------------------------------------------------------


def heldout_title() -> str:
    return next(t for t in (f"Article {i}" for i in range(100)) if heldout_article(t))


def write_qa_folder(folder: Path) -> Path:
    """Tiny files in the formats of shared/data/qa: a training and a held-out SQuAD
    article, QED train and dev rows, SelQA dev and test rows."""
    folder.mkdir()
    train_title = next(t for t in (f"Article {i}" for i in range(100)) if not heldout_article(t))

    def paragraph(name: str) -> dict:
        context = (
            f"{name} was founded in 1820 by Ada Lind. It lies on the Vessel river. "
            "Its bridge is old."
        )
        return {
            "context": context,
            "qas": [
                {"question": f"Who founded {name}?", "is_impossible": False,
                 "answers": [{"text": "Ada Lind", "answer_start": context.index("Ada")}]},
                {"question": f"Who rebuilt the bridge of {name}?", "is_impossible": True,
                 "answers": [], "plausible_answers": [{"text": "Ada Lind", "answer_start": 1}]},
                {"question": f"Which river runs through {name}?", "is_impossible": False,
                 "answers": [{"text": "Vessel", "answer_start": context.index("Vessel")}]},
            ],
        }  # fmt: skip

    squad = {"data": [
        {"title": train_title, "paragraphs": [paragraph("Orla"), paragraph("Brim")]},
        {"title": heldout_title(), "paragraphs": [paragraph("Tarn"), paragraph("Kell")]},
    ]}  # fmt: skip
    (folder / "squad-v2.0-dev.json").write_text(json.dumps(squad))
    text = "Webbed toes is the common name for syndactyly . It affects the feet ."
    qed = {"question_text": "what is the medical term for webbed toes", "title_text": "Toes",
           "paragraph_text": text, "sentence_starts": [0, text.index("It")]}  # fmt: skip
    train = {**qed, "answer_spans": [[text.index("syndactyly"), text.index(" .")]]}
    at = text.index("syndactyly")
    dev = {**qed, "original_nq_answers": [[{"start": at, "end": at + len("syndactyly")}]]}
    bowl = {**train, "question_text": "who won super bowl 50"}
    (folder / "nq-train-00-qed.jsonlines").write_text(
        "\n".join(json.dumps(r) for r in [train, bowl])
    )
    (folder / "qed-dev.jsonlines").write_text(json.dumps(dev))
    selqa = [{"question": "Where is the Rockefeller Museum?", "article": "Israel",
              "candidates": ["Museums abound in Jerusalem, the capital.",
                             "The Rockefeller Museum is in Jerusalem."],
              "answers": [1]}]  # fmt: skip
    for name in ("selqa-ass-dev.json", "selqa-ass-test.json"):
        (folder / name).write_text(json.dumps(selqa))
    return folder


def test_qa_sets_become_labelled_groups_split_by_article(tmp_path: Path) -> None:
    groups = load_groups(write_qa_folder(tmp_path / "qa"))
    squad = [g for g in groups if g.source == "squad"]
    founded = next(g for g in squad if g.question.startswith("Who founded Orla"))
    assert founded.labels[:3] == [1, 0, 0] and founded.split == "train"
    assert founded.sentences[0] == "Orla was founded in 1820 by Ada Lind."
    # Each sentence comes with the one before it in its own paragraph, extras included.
    assert founded.contexts[:2] == ["", founded.sentences[0]]
    brim = "Brim was founded in 1820 by Ada Lind. It lies on the Vessel river. Its bridge is old."
    extras = list(zip(founded.sentences[3:], founded.contexts[3:], strict=True))
    assert extras and all(f"{c} {s}".strip() in brim for s, c in extras)
    # The other paragraph's sentences that share the question's words join as negatives.
    assert any("Brim" in s for s in founded.sentences[3:]) and not any(founded.labels[3:])
    assert not next(g for g in squad if "rebuilt the bridge of Orla" in g.question).answerable
    assert {g.split for g in squad if heldout_title() == g.article} == {"squad-heldout"}
    qed = [g for g in groups if g.source == "qed"]
    assert [(g.split, g.labels) for g in qed] == [("train", [1, 0]), ("qed-dev", [1, 0])]
    assert qed[0].sentences[0] == "Webbed toes is the common name for syndactyly."
    # Where the set marks the answer, the answering sentence carries it as its span.
    for g in (founded, *qed):
        (a, b), rest = g.spans[0], g.spans[1:]
        assert g.sentences[0][a:b] in ("Ada Lind", "syndactyly") and not any(rest)
    assert not any("super bowl" in g.question.lower() for g in groups)
    selqa = [g for g in groups if g.source == "selqa"]
    assert [g.split for g in selqa] == ["selqa-dev", "train"] or [g.split for g in selqa] == [
        "train",
        "selqa-dev",
    ]


def test_detokenize_joins_natural_questions_tokens_back_into_prose() -> None:
    assert detokenize("the Earth 's axis , ( 1963 ) -- and `` so '' on .") == (
        'the Earth\'s axis, (1963) – and "so" on.'
    )
    assert detokenize("") == ""
    assert detokenize("Москва , Россия 🙂 .") == "Москва, Россия 🙂."


def test_a_step_shows_hard_negatives_and_marks_the_answer() -> None:
    group = Group(
        "Who founded the city of Orla?",
        ["Orla is a city.", "The city of Orla was founded long ago.", "Rain.", "Ada Lind did."],
        [0, 0, 0, 1],
        ["", "Orla is a city.", "The city of Orla was founded long ago.", "Rain."],
        "squad",
        "x",
    )
    chosen, target, span = pick(group, 2, random.Random(0))
    assert chosen[target] == ("Ada Lind did.", "Rain.") and len(chosen) == 3
    assert span is None  # the group marks no answer span
    marked = replace(group, spans=[None, None, None, (0, 8)])
    assert pick(marked, 2, random.Random(0))[2] == (0, 8)
    hardest = ("The city of Orla was founded long ago.", "Orla is a city.")
    assert hardest in chosen  # each with the sentence before it
    unanswerable = Group("Who?", ["A b c.", "D e f."], [0, 0], ["", "A b c."], "squad", "x")
    assert pick(unanswerable, 3, random.Random(0))[1] == -1
    # Shown without its answer, the same question is one the no-answer slot must win.
    chosen, target, span = pick(marked, 5, random.Random(0), answer_removed=1.0)
    assert target == -1 and len(chosen) == 3 and ("Ada Lind did.", "Rain.") not in chosen
    assert span is None


def test_hard_negatives_can_follow_the_cheap_scorers_ranking() -> None:
    group = Group(
        "Who founded the city of Orla?",
        ["Orla is a city.", "The city of Orla was founded long ago.", "Rain.", "Ada Lind did.",
         "Snow 🙂.", "Москва."],
        [0, 0, 0, 1, 0, 0],
        ["", "", "", "", "", ""],
        "squad",
        "x",
    )  # fmt: skip
    # One hard negative of two: the one ranked highest, not the one sharing most words.
    hardness = [0.1, 0.2, 0.9, 0.5, 0.0, 0.3]
    for seed in range(5):
        chosen, target, _ = pick(group, 2, random.Random(seed), hardness=hardness)
        assert ("Rain.", "") in chosen and chosen[target] == ("Ada Lind did.", "")
        # Without the answer, the ranking still holds for what is left.
        chosen, target, _ = pick(group, 2, random.Random(seed), 1.0, hardness)
        assert target == -1 and ("Rain.", "") in chosen and len(chosen) == 2
    scores = cheap_hardness([group])[0]
    assert len(scores) == 6 and scores.index(max(scores)) in (0, 1)  # the restatements
    with pytest.raises(ValueError, match="hard_by must be words or cheap"):
        TrainConfig(data="", out="", hard_by="cosine")


def test_a_question_may_lose_the_words_it_shares_with_its_answer() -> None:
    question = "Which Москва ministries 🙂 pushed to drop the Taliban's designation?"
    answer = "Russia's foreign and justice ministries pushed for it (Москва)."
    assert drop_shared(question, answer, 0.0, random.Random(0)) == question
    assert drop_shared(question, answer, 1.0, random.Random(0)) == (
        "Which 🙂 to drop the Taliban's designation?"
    )
    # Only shared words go, each by chance; nothing shared, or nothing left, keeps it whole.
    for seed in range(5):
        kept = drop_shared(question, answer, 0.5, random.Random(seed)).split()
        assert {"Which", "🙂", "Taliban's", "designation?"} <= set(kept)
    assert drop_shared("Who won?", "Rain.", 1.0, random.Random(0)) == "Who won?"
    assert drop_shared("Rain?", "Rain.", 1.0, random.Random(0)) == "Rain?"


def train_recording(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **config) -> list[dict]:
    """Train one step on the tiny QA files and return what each `forward` call was given:
    its questions and the autocast dtype it ran under (None: none)."""
    import torch

    import rag.reader.train as train_module

    calls: list[dict] = []
    real_forward = train_module.forward

    def recording_forward(model, head, tokenizer, questions, *rest):  # type: ignore[no-untyped-def]
        on = torch.is_autocast_enabled("cpu")
        calls.append(
            {"questions": questions, "autocast": torch.get_autocast_dtype("cpu") if on else None}
        )
        return real_forward(model, head, tokenizer, questions, *rest)

    tmp_path.mkdir(parents=True, exist_ok=True)
    with monkeypatch.context() as patched:  # undone after, so calls do not nest
        patched.setattr(train_module, "forward", recording_forward)
        train_module.train(
            TrainConfig(
                data=str(write_qa_folder(tmp_path / "qa")), out=str(tmp_path / "out"), steps=1,
                layers=1, threads=1, **config,
            )
        )  # fmt: skip
    return calls


@pytest.mark.slow
@pytest.mark.parametrize(
    ("config", "read", "not_read"),
    [
        # Words the answer shares are left out; QED's "webbed toes" too. A question that no
        # sentence answers has no answer to share words with: read whole.
        (
            {"drop_shared": 1.0},
            ["Who", "Who rebuilt the bridge of Orla?", "what is the medical term for"],
            "Who founded Orla?",
        ),
        # SelQA's "Museums abound in Jerusalem, the capital." describes Jerusalem.
        ({"define": 1.0}, ["What is Jerusalem?"], "Where is the Rockefeller Museum?"),
        # "Orla was founded in 1820 by Ada Lind." answers; "the Vessel river" is elsewhere.
        # A question naming nothing its answer names is asked as it is.
        (
            {"entity_swap": 1.0},
            ["Who founded Vessel?", "Which river runs through Orla?"],
            "Who founded Orla?",
        ),
    ],
)  # fmt: skip
def test_training_may_change_the_answerable_questions_it_reads(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    config: dict[str, float],
    read: list[str],
    not_read: str,
) -> None:
    calls = train_recording(tmp_path, monkeypatch, questions_per_step=32, **config)
    seen = [q for call in calls for q in call["questions"]]
    assert all(q in seen for q in read) and not_read not in seen


def test_qa_groups_are_embedded_once_per_text_as_answering_embeds_them() -> None:
    from rag.embed import DEFAULT_MODEL, get_encoder, get_query_encoder

    sentences = ["Ada Lind founded Orla 🙂.", "Orla is a city.", "Москва стоит."]
    groups = [
        Group("Who founded Orla?", sentences, [1, 0, 0], ["", "", ""], "squad", "Orla"),
        Group("Who founded Orla?", sentences[1:], [0, 0], ["", ""], "squad", "Orla"),
        Group("Где Москва?", sentences[::-1], [1, 0, 0], ["", "", ""], "squad", "Orla"),
    ]
    questions, vectors = embed_groups(groups)
    assert list(questions) == ["Who founded Orla?", "Где Москва?"]
    assert list(vectors) == sentences  # each once, in the order first met
    for s in sentences:
        np.testing.assert_array_equal(vectors[s], get_encoder(DEFAULT_MODEL).encode([s])[0])
    for q, v in questions.items():
        expected = get_query_encoder(DEFAULT_MODEL).encode([q])[0]
        np.testing.assert_allclose(v, expected, atol=1e-5)


@pytest.mark.slow
def test_training_may_run_in_bfloat16_and_names_a_wrong_precision(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    bf16 = train_recording(tmp_path / "bf16", monkeypatch, precision="bf16")
    fp32 = train_recording(tmp_path / "fp32", monkeypatch)
    assert bf16 and {call["autocast"] for call in bf16} == {torch.bfloat16}
    assert {call["autocast"] for call in fp32} == {None}
    trained = json.loads((tmp_path / "bf16" / "out" / "train.json").read_text())
    assert trained["steps_done"] == 1 and trained["config"]["precision"] == "bf16"
    with pytest.raises(ValueError, match="precision must be fp32 or bf16"):
        TrainConfig(data="", out="", precision="fp16")


def test_an_answer_span_maps_to_the_word_pieces_of_the_sentence() -> None:
    from transformers import AutoTokenizer

    from rag.embed import bundled_model_path

    tokenizer = AutoTokenizer.from_pretrained(bundled_model_path())
    sentence = "В 2019 году Симона Халеп 🙂 beat Serena Williams."
    enc = tokenizer(["Who won?"], [sentence], return_offsets_mapping=True)
    offsets, ids = enc["offset_mapping"][0], enc.sequence_ids(0)
    for answer in ("Симона Халеп", "Serena Williams", "2019"):
        a = sentence.index(answer)
        start, end = token_targets(offsets, ids, (a, a + len(answer)))
        assert sentence[offsets[start][0] : offsets[end][1]] == answer
    # An answer cut off by truncation has no target.
    short = tokenizer(["Who won?"], [sentence], return_offsets_mapping=True, max_length=8,
                      truncation=True)  # fmt: skip
    a = sentence.index("Williams")
    assert token_targets(short["offset_mapping"][0], short.sequence_ids(0), (a, a + 8)) is None


def test_without_answer_keeps_the_other_sentences_in_order() -> None:
    group = Group("Кто?", ["Да 🙂.", "Нет.", "Он."], [0, 1, 0], ["", "Да 🙂.", "Нет."], "qed", "a")
    removed = without_answer(group)
    assert removed.sentences == ["Да 🙂.", "Он."] and removed.contexts == ["", "Нет."]
    assert removed.labels == [0, 0] and not removed.answerable and group.answerable
    assert removed.answer_removed and not group.answer_removed
    only_answers = Group("Q?", ["A."], [1], [""], "selqa", "a")
    assert without_answer(only_answers) == only_answers


def test_swap_entity_asks_of_another_name_of_the_article() -> None:
    sentences = [
        "The Normans conquered England in 1066.",
        "The Franks settled in Gaul.",
        "The Franks and the Saxons fought in 1070.",
        "Later, the Vikings 🙂 came.",
    ]
    spans = [(31, 35), None, None, None]
    question = "When did the Normans conquer England?"
    group = Group(question, sentences, [1, 0, 0, 0], previous(sentences), "squad", "N", spans=spans)
    # Names and years, not a text's first word nor a possessive's ending; ASCII capitals only.
    assert entities("Кто такой Путин? In 1066 the Saxons’ king of England fell.") == [
        "1066", "Saxons", "England"
    ]  # fmt: skip
    # One of the two names the answer shares becomes one that only the other sentences hold.
    swapped = {swap_entity(group, random.Random(seed)).question for seed in range(40)}  # type: ignore[union-attr]
    names = ("Franks", "Saxons", "Vikings", "Gaul")
    assert swapped == {f"When did the {n} conquer England?" for n in names} | {
        f"When did the Normans conquer {n}?" for n in names
    }
    one = swap_entity(group, random.Random(0))
    assert one is not None and not one.answerable and one.spans == []
    assert sentences[0] in one.sentences  # the answer, now the hardest negative
    new = next(e for e in entities(one.question) if e not in group.question)
    assert all(new not in s for s in one.sentences)  # those might answer the new question
    assert len(one.contexts) == len(one.sentences) == len(one.labels)
    # A year becomes another year.
    dated = replace(group, question="What happened in 1066?")
    assert swap_entity(dated, random.Random(0)).question == "What happened in 1070?"  # type: ignore[union-attr]
    # No name shared with the answer, or no other name: nothing to swap.
    assert swap_entity(replace(group, question="When was the conquest?"), random.Random(0)) is None
    lone = Group("When did the Normans land?", ["The Normans landed."], [1], [""], "squad", "N")
    assert swap_entity(lone, random.Random(0)) is None


def test_described_names_are_appositives_and_copulas_not_lists_or_adverbs() -> None:
    klimov = (
        "“It’s not a matter of that,” says Andrey Klimov, deputy head of the committee of "
        "the Federation Council, Russia’s upper house of parliament."
    )
    assert [name for name, _ in described(klimov)] == ["Andrey Klimov", "Federation Council"]
    assert described("Kabul is the capital of Afghanistan 🙂.")[0][0] == "Kabul"
    assert described("ISIS-K, a rival of the Taliban, struck Москва.")[0][0] == "ISIS-K"
    for nothing in (
        "However, the group denied it.",  # an adverb opening the sentence
        "Recently, the court ruled.",
        "It is a theoretical device.",  # a pronoun
        "Faults include the San Jacinto Fault, the Puente Hills Fault, and others.",  # a list
        "If the problem is NP, the hierarchy is flat.",  # a clause, not a description
        "Москва — столица России.",
        "",
    ):
        assert described(nothing) == [], nothing


def test_define_question_asks_what_a_described_name_is() -> None:
    sentences = [
        "Andrey Klimov, deputy head of the committee, spoke 🙂.",
        "Klimov said no.",
        "The Federation Council is the upper house.",
        "The sky is blue.",
    ]
    group = Group(
        "Q?", sentences, [0, 0, 0, 1], previous(sentences), "squad", "K", spans=[None] * 4
    )
    asked = {}
    for seed in range(20):
        made = define_question(group, random.Random(seed))
        assert made is not None and made.spans == [] and made.contexts == group.contexts
        asked[made.question] = made.labels
    # A person by the role the sentence gives ("deputy head"), a thing otherwise; "the" kept.
    assert asked == {
        "Who is Andrey Klimov?": [1, 0, 0, 0],
        "What is the Federation Council?": [0, 0, 1, 0],
    }
    assert (
        define_question(
            replace(group, sentences=["Klimov said no."], labels=[0], contexts=[""]),
            random.Random(0),
        )
        is None
    )


@pytest.mark.slow
def test_train_reader_smoke_trains_exports_calibrates_and_loads(tmp_path: Path) -> None:
    from rag.cli import main

    data, out = write_qa_folder(tmp_path / "qa"), tmp_path / "reader"
    args = ["--data", str(data), "--out", str(out), "--steps", "2", "--span-weight", "1"]
    args += ["--layers", "2"]  # a smaller reader: the lowest two layers
    assert main(["train-reader", *args]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "MODEL_CARD.md", ADAPTER_FILE, MODEL_FILE, "reader.json", "tokenizer.json", "train",
    ]  # fmt: skip
    card = (out / "MODEL_CARD.md").read_text()
    assert "CC BY-SA" in card and "--steps 2 --span-weight 1" in card
    assert "## Question adapter\n`adapter.npy`" in card and "plain → adapted: squad-heldout" in card
    # Calibration also asked each answerable held-out question without its answer.
    heldout = json.loads((out / "reader.json").read_text())["heldout"]
    assert heldout["squad-heldout"]["answer_removed"] > 0, heldout
    trained = json.loads((out / "reader.json").read_text())["train"]
    assert trained["config"]["layers"] == 2 and trained["config"]["frozen_layers"] == 0
    assert "the lowest 2 of the base model's 6 layers" in card
    assert 0 <= heldout["squad-heldout"]["answer_removed_abstained"] <= 1
    assert "answer removed, abstained" in card
    # The card says whether, and how far, the reader reads on past its shortlist.
    calibration = json.loads((out / "reader.json").read_text())["calibration"]
    assert "extend_below" in calibration and "extend_to" in calibration
    # The cosine floor, fitted there, and what it refuses held out.
    assert 0 <= calibration["cosine_floor"] <= 1 and "Cosine floor " in card
    assert "other_article_under_floor" in card and "under_floor" in heldout["qed-dev"]
    assert "Cosine floor curve" in card and "| 0.30 | " in card
    assert "Reading on: never" in card or "the reader reads\nthe cheap ranking's first" in card
    # Calibrated again (after a change to calibration): the card names both commands.
    build_main([str(out), "--data", str(data), "--trained-by", "rag train-reader --steps 2"])
    card = (out / "MODEL_CARD.md").read_text()
    assert f"rag train-reader --steps 2; recalibrated: python -m rag.reader.build {out}" in card
    reader = Reader(out)
    assert len(reader.logits("Who founded Orla?", ["Ada Lind did.", "It rains."])) == 2
    # The span head: a short answer inside each sentence.
    readings = reader.read("Who founded Orla?", ["Ada Lind did.", "Он 🙂 пришёл."])
    for r, text in zip(readings, ["Ada Lind did.", "Он 🙂 пришёл."], strict=True):
        assert r.span is not None and 0 <= r.span[0] < r.span[1] <= len(text)
        assert r.span_score is not None
    assert "short_exact" in heldout["squad-heldout"] and "A span head" in card


def test_train_reader_names_a_wrong_data_folder(tmp_path: Path, capsys) -> None:
    from rag.cli import main

    assert main(["train-reader", "--data", str(tmp_path), "--out", str(tmp_path / "o")]) == 1
    assert f"{tmp_path} is not the QA data folder" in capsys.readouterr().err


@pytest.mark.parametrize("step", [build_main, adapter_main])
def test_recalibrating_or_fitting_the_adapter_names_a_missing_reader_and_a_wrong_data_folder(
    tmp_path: Path, step
) -> None:
    data = write_qa_folder(tmp_path / "qa")
    extra = ["--trained-by", "x"] if step is build_main else []
    with pytest.raises(SystemExit, match=r"holds no exported reader \(reader.json is missing\)"):
        step([str(tmp_path), "--data", str(data), *extra])
    with pytest.raises(SystemExit, match="is not the QA data folder"):
        step([str(tmp_path), "--data", str(tmp_path), *extra])
