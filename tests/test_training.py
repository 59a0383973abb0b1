"""Training the answer reader (the `training` package): its data, its steps, its commands.

The data loaders run on tiny files in the formats of shared/data/qa; calibration's choices
on made-up held-out cases; the smoke test trains, exports, fits the adapter, calibrates and
loads a reader for two steps on such files, through `rag train-reader`.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
from helpers import ROOT

from rag.errors import ModelError
from rag.reader import ADAPTER_FILE, MODEL_FILE, Reader
from training.adapter import main as adapter_main
from training.build import main as build_main
from training.calibrate import (
    SPLITS,
    Case,
    choose_extension,
    fit_floor,
    nearest_other_article,
    read_logits,
)
from training.data import (
    Group,
    detokenize,
    embed_groups,
    heldout_article,
    load_groups,
    without_answer,
)
from training.train import TrainConfig, pick, step_pairs

# --- data -------------------------------------------------------------------------------


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
    brim = "Brim was founded in 1820 by Ada Lind. It lies on the Vessel river. Its bridge is old."
    assert founded.sentences[3:] and all(s in brim for s in founded.sentences[3:])
    # The other paragraph's sentences that share the question's words join as negatives.
    assert any("Brim" in s for s in founded.sentences[3:]) and not any(founded.labels[3:])
    assert not next(g for g in squad if "rebuilt the bridge of Orla" in g.question).answerable
    assert {g.split for g in squad if heldout_title() == g.article} == {"squad-heldout"}
    qed = [g for g in groups if g.source == "qed"]
    assert [(g.split, g.labels) for g in qed] == [("train", [1, 0]), ("qed-dev", [1, 0])]
    assert qed[0].sentences[0] == "Webbed toes is the common name for syndactyly."
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
        "squad",
        "x",
    )
    chosen, target = pick(group, 2, random.Random(0))
    assert chosen[target] == "Ada Lind did." and len(chosen) == 3
    assert "The city of Orla was founded long ago." in chosen  # the hardest negative
    unanswerable = Group("Who?", ["A b c.", "D e f."], [0, 0], "squad", "x")
    assert pick(unanswerable, 3, random.Random(0))[1] == -1
    # A step's pairs: each group's rows side by side, its answer's row among them.
    questions, sentences, rows, targets = step_pairs([group, unanswerable], random.Random(0), 2)
    assert rows == [(0, 3), (3, 5)] and targets[1] == -1
    assert sentences[targets[0]] == "Ada Lind did." and questions[:3] == [group.question] * 3


def test_qa_groups_are_embedded_once_per_text_as_answering_embeds_them() -> None:
    from rag.embed import DEFAULT_MODEL, get_encoder, get_query_encoder

    sentences = ["Ada Lind founded Orla 🙂.", "Orla is a city.", "Москва стоит."]
    groups = [
        Group("Who founded Orla?", sentences, [1, 0, 0], "squad", "Orla"),
        Group("Who founded Orla?", sentences[1:], [0, 0], "squad", "Orla"),
        Group("Где Москва?", sentences[::-1], [1, 0, 0], "squad", "Orla"),
    ]
    questions, vectors = embed_groups(groups)
    assert list(questions) == ["Who founded Orla?", "Где Москва?"]
    assert list(vectors) == sentences  # each once, in the order first met
    for s in sentences:
        np.testing.assert_array_equal(vectors[s], get_encoder(DEFAULT_MODEL).encode([s])[0])
    for q, v in questions.items():
        expected = get_query_encoder(DEFAULT_MODEL).encode([q])[0]
        np.testing.assert_allclose(v, expected, atol=1e-5)


def test_without_answer_keeps_the_other_sentences_in_order() -> None:
    group = Group("Кто?", ["Да 🙂.", "Нет.", "Он."], [0, 1, 0], "qed", "a")
    removed = without_answer(group)
    assert removed.sentences == ["Да 🙂.", "Он."]
    assert removed.labels == [0, 0] and not removed.answerable and group.answerable
    assert removed.answer_removed and not group.answer_removed
    only_answers = Group("Q?", ["A."], [1], "selqa", "a")
    assert without_answer(only_answers) == only_answers


# --- calibration ------------------------------------------------------------------------


def test_calibration_reads_on_only_where_held_out_questions_gain() -> None:
    """Held-out cases whose answer ranks fifth, after four sentences the reader scores
    low: reading on to 8 gains them, at the lowest bar that does (the one reading least)."""

    def case(split: str, answer_at: int, logits: list[float]) -> Case:
        labels = [int(i == answer_at) for i in range(len(logits))]
        texts = [f"Sentence {i} 🙂 Ответ." for i in range(len(logits))]
        group = Group("Кто?", texts, labels, "squad", split, split)
        cheap = [1.0 - 0.1 * i for i in range(len(logits))]
        return Case(group, cheap, labels, texts, 0.5, 0.1, logits)

    found_late = {s: [case(s, 4, [-5.0] * 4 + [3.0] + [-5.0] * 7)] for s in SPLITS}
    assert choose_extension(found_late, 4, 0.0) == (-3.0, 8)
    assert read_logits(found_late["qed-dev"][0], 4, (-3.0, 8)) == [-5.0] * 4 + [3.0] + [-5.0] * 3
    found_early = {s: [case(s, 0, [3.0] + [-5.0] * 11)] for s in SPLITS}
    assert choose_extension(found_early, 4, 0.0) is None


def test_the_floor_keeps_a_share_of_every_splits_answerable_questions_above_it() -> None:
    def case(split: str, best_cosine: float, answerable: bool = True) -> Case:
        group = Group("Кто?", ["Да 🙂."], [int(answerable)], "squad", "a", split)
        return Case(group, [1.0], [int(answerable)], ["Да 🙂."], best_cosine, 0.1, [0.0])

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
        Group("Q1?", ["Own 🙂.", "Also own."], [1, 0], "qed", "A", "qed-dev"),
        Group("Q2?", ["Другая."], [1], "qed", "B", "qed-dev"),
        Group("Q3?", ["Alone."], [1], "selqa", "C", "selqa-dev"),
    ]
    q_at = {"Q1?": unit(1, 0), "Q2?": unit(0, 1), "Q3?": unit(1, 1)}
    vectors = {"Own 🙂.": unit(1, 0), "Also own.": unit(1, 0), "Другая.": unit(1, 1)}
    vectors["Alone."] = unit(1, 0)
    q1, q2, q3 = nearest_other_article(groups, q_at, vectors)
    assert q1 == pytest.approx(2**-0.5) and q2 == pytest.approx(0.0, abs=1e-6)
    assert q3 is None  # its split has no other article


# --- the command ----------------------------------------------------------------------


@pytest.mark.slow
def test_train_reader_smoke_trains_exports_calibrates_and_loads(tmp_path: Path) -> None:
    from rag.cli import main

    data, out = write_qa_folder(tmp_path / "qa"), tmp_path / "reader"
    args = ["--data", str(data), "--out", str(out), "--steps", "2"]
    assert main(["train-reader", *args]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "MODEL_CARD.md", ADAPTER_FILE, MODEL_FILE, "reader.json", "tokenizer.json", "train",
    ]  # fmt: skip
    card = (out / "MODEL_CARD.md").read_text()
    assert "CC BY-SA" in card and "--seed 13 --minutes 80 --steps 2" in card
    assert "## Question adapter\n`adapter.npy`" in card and "plain → adapted: squad-heldout" in card
    # Calibration also asked each answerable held-out question without its answer.
    heldout = json.loads((out / "reader.json").read_text())["heldout"]
    assert heldout["squad-heldout"]["answer_removed"] > 0, heldout
    trained = json.loads((out / "reader.json").read_text())["train"]
    ran = asdict(TrainConfig(data="", out="", steps=2))
    assert trained["config"] == {k: v for k, v in ran.items() if k not in ("data", "out")}
    assert trained["steps_done"] == 2 and "the lowest 2 of the 6 layers\nfrozen" in card
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
    assert f"rag train-reader --steps 2; recalibrated: python -m training.build {out}" in card
    reader = Reader(out)
    assert len(reader.logits("Who founded Orla?", ["Ada Lind did.", "Он 🙂 пришёл."])) == 2


def test_train_reader_names_a_wrong_data_folder(tmp_path: Path, capsys) -> None:
    from rag.cli import main

    assert main(["train-reader", "--data", str(tmp_path), "--out", str(tmp_path / "o")]) == 1
    assert f"{tmp_path} is not the QA data folder" in capsys.readouterr().err
    # As a module of its own, the same message and status, no traceback.
    done = subprocess.run(
        [sys.executable, "-m", "training", "--data", str(tmp_path), "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 1 and done.stderr.startswith(f"error: {tmp_path} is not the QA")


def test_train_reader_help_is_the_training_packages(capsys) -> None:
    from rag.cli import main

    with pytest.raises(SystemExit) as done:
        main(["train-reader", "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: rag train-reader") and "--minutes" in out
    assert "--span-weight" not in out and "--layers" not in out


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
