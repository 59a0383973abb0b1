"""Labelled (question, candidate sentences) groups from the public QA sets in `shared/data/qa`.

`load_groups(folder)` reads SQuAD 2.0 dev, QED (Natural Questions) and SelQA into
`Group`s: one question, the sentences a reader would choose among, and which of them
answer it (a sentence answers when it holds the start of a gold answer span; SelQA
labels sentences directly). SQuAD paragraphs are split with the project's own sentence
splitter, so training sees sentences cut as the index cuts them; each SQuAD group also
gets the sentences of its article's other paragraphs that share the most words with the
question (the on-topic restatements the answerer must learn to pass over; more for the
held-out articles, so that calibration sees as many candidates as retrieval gives). QED's
tokenized text ("Earth 's") is joined back the way news prose is written.

Every group belongs to "train" or a held-out split by whole article (SQuAD) or by file
(QED dev, SelQA dev), never by question, so no held-out paragraph was trained on.
`without_answer(group)` asks a group's question again over its sentences that do not answer
(calibration's answer-removed copies). `embed_groups(groups)` gives the bundled model's
vectors of their questions and sentences, the one way training, the question adapter and
calibration all compute them. `check_data(folder)` says plainly when a folder is not the QA
data. This module reads, labels and embeds; it does not tokenize, sample or train.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from rag.errors import SettingsError
from rag.lexical import content_words
from rag.sentences import split_sentences

if TYPE_CHECKING:
    import numpy as np

# Held-out SQuAD articles: those whose title hashes into the lowest HELDOUT_SHARE.
HELDOUT_SHARE = 0.17
OTHER_PARAGRAPH_NEGATIVES = 4  # same-article sentences added to each SQuAD training group
# Held out, more: retrieval hands the answerer ~30 sentences of one topic, not one paragraph.
HELDOUT_OTHER_SENTENCES = 20
# The project's SQuAD benchmark is the "Super Bowl 50" article: nothing about it trains.
BENCHMARK_TOPIC = re.compile(r"super ?bowl (?:50|l)\b", re.I)
REQUIRED = ("squad-v2.0-dev.json", "qed-dev.jsonlines", "selqa-ass-dev.json", "selqa-ass-test.json")


@dataclass
class Group:
    """One question and the candidate sentences it is judged against."""

    question: str
    sentences: list[str]
    labels: list[int]  # 1: the sentence answers the question
    source: str  # squad, qed, selqa
    article: str
    split: str = "train"  # train, or the held-out set's name
    answer_removed: bool = False  # made by `without_answer`

    @property
    def answerable(self) -> bool:
        return any(self.labels)


def without_answer(group: Group) -> Group:
    """`group` with its answering sentences taken out: the same question over on-topic
    sentences that do not answer it. SQuAD 2.0's unanswerable questions are rewritten to
    contradict their paragraph; news readers' are mostly this kind instead, a fact the
    articles lack ("Who was the judge?" over a report that names none). A group of
    answering sentences only comes back unchanged."""
    keep = [i for i, y in enumerate(group.labels) if not y]
    if not keep:
        return group
    return replace(
        group,
        sentences=[group.sentences[i] for i in keep],
        labels=[0] * len(keep),
        answer_removed=True,
    )


def embed_groups(groups: list[Group]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The vectors of the groups' questions and of their sentences, each keyed by its text
    and encoded once (a paragraph's questions share its sentences), as answering encodes
    them: questions by the bundled model's query encoder, sentences by its document one."""
    from rag.embed import DEFAULT_MODEL, get_encoder, get_query_encoder

    questions = list(dict.fromkeys(g.question for g in groups))
    sentences = list(dict.fromkeys(s for g in groups for s in g.sentences))
    q_vectors = get_query_encoder(DEFAULT_MODEL).encode(questions, batch_size=64)
    s_vectors = get_encoder(DEFAULT_MODEL).encode(sentences, batch_size=64)
    return (
        dict(zip(questions, q_vectors, strict=True)),
        dict(zip(sentences, s_vectors, strict=True)),
    )


def check_data(data: Path) -> None:
    """Raise `SettingsError` unless `data` holds the QA sets `load_groups` reads."""
    missing = [name for name in REQUIRED if not (data / name).is_file()]
    if missing or not list(data.glob("nq-train-*-qed.jsonlines")):
        raise SettingsError(
            f"{data} is not the QA data folder (shared/data/qa): it lacks "
            f"{', '.join(missing) or 'nq-train-*-qed.jsonlines'}."
        )


def load_groups(folder: Path) -> list[Group]:
    """Every group of the QA sets in `folder`, each with its split set."""
    groups = load_squad(folder / "squad-v2.0-dev.json")
    for path in sorted(folder.glob("nq-train-*-qed.jsonlines")):
        groups += load_qed(path, "train")
    groups += load_qed(folder / "qed-dev.jsonlines", "qed-dev")
    groups += load_selqa(folder / "selqa-ass-test.json", "train")
    groups += load_selqa(folder / "selqa-ass-dev.json", "selqa-dev")
    return groups


def heldout_article(title: str) -> bool:
    digest = hashlib.sha256(title.encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < HELDOUT_SHARE


def load_squad(path: Path) -> list[Group]:
    """SQuAD 2.0: answerable questions label the sentence holding an answer's start;
    unanswerable ones label none (their plausible answer's sentence stays a candidate,
    the hardest negative there is)."""
    groups = []
    for article in json.loads(path.read_text(encoding="utf-8"))["data"]:
        title = article["title"]
        split = "squad-heldout" if heldout_article(title) else "train"
        paragraphs = []
        for p in article["paragraphs"]:
            text = p["context"]
            bounds = split_sentences(text)
            sentences = [text[a:b] for a, b in bounds]
            paragraphs.append((bounds, sentences, [Candidate(s) for s in sentences]))
        for i, p in enumerate(article["paragraphs"]):
            bounds, sentences, _ = paragraphs[i]
            others = [c for j, para in enumerate(paragraphs) if j != i for c in para[2]]
            for qa in p["qas"]:
                starts = [answer["answer_start"] for answer in qa["answers"]]
                labels = [int(any(a <= at < b for at in starts)) for a, b in bounds]
                if qa["answers"] and not any(labels):
                    continue  # an answer the splitter put between sentences
                n = OTHER_PARAGRAPH_NEGATIVES if split == "train" else HELDOUT_OTHER_SENTENCES
                extra = most_similar(qa["question"], others, n)
                groups.append(
                    Group(
                        qa["question"],
                        sentences + [c.text for c in extra],
                        labels + [0] * len(extra),
                        "squad",
                        title,
                        split,
                    )
                )
    return groups


@dataclass
class Candidate:
    """A sentence of another paragraph."""

    text: str

    def __post_init__(self) -> None:
        self.words = content_words(self.text)


def most_similar(question: str, candidates: list[Candidate], n: int) -> list[Candidate]:
    """The `n` candidates sharing the most content words with the question (ties: first)."""
    words = content_words(question)
    ranked = sorted(candidates, key=lambda c: -len(words & c.words))
    return [c for c in ranked[:n] if words & c.words]


_DETOKENIZE = [
    (re.compile(r" ([,.;:!?%)\]}])"), r"\1"),
    (re.compile(r"([(\[{$]) "), r"\1"),
    (re.compile(r" (['’](?:s|re|ve|d|ll|m|t)\b|n't\b)"), r"\1"),
    (re.compile(r" -- "), " – "),
    (re.compile(r" - "), "-"),
    (re.compile(r"`` | ''"), '"'),
]


def detokenize(text: str) -> str:
    """Natural Questions' tokenized text ("Earth 's , ( 1963 )") as prose ("Earth's, (1963)")."""
    for pattern, repl in _DETOKENIZE:
        text = pattern.sub(repl, text)
    return text.strip()


def load_qed(path: Path, split: str) -> list[Group]:
    """QED: the paragraph's given sentences; a sentence answers when it holds the start of
    one of the answers. Questions about the benchmark's game (Super Bowl 50) are left out."""
    groups = []
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if BENCHMARK_TOPIC.search(row["title_text"] + " " + row["question_text"]):
            continue
        text, starts = row["paragraph_text"], row["sentence_starts"] or [0]
        bounds = list(zip(starts, [*starts[1:], len(text)], strict=True))
        if "answer_spans" in row:  # the train files; the dev file keeps NQ's own answers
            answers = [(start, end) for start, end in row["answer_spans"]]
        else:
            answers = [
                (a["start"], a["end"]) for group in row["original_nq_answers"] for a in group
            ]
        labels = [int(any(a <= s < b for s, _ in answers)) for a, b in bounds]
        if not any(labels):
            continue  # every QED question has an answer; this one fell outside the sentences
        sentences = [detokenize(text[a:b]) for a, b in bounds]
        question = row["question_text"].strip() + "?"
        groups.append(Group(question, sentences, labels, "qed", row["title_text"], split))
    return groups


def load_selqa(path: Path, split: str) -> list[Group]:
    """SelQA answer-sentence selection: candidates and the indexes of those that answer."""
    groups = []
    for row in json.loads(path.read_text(encoding="utf-8")):
        labels = [int(i in row["answers"]) for i in range(len(row["candidates"]))]
        groups.append(
            Group(row["question"], row["candidates"], labels, "selqa", row["article"], split)
        )
    return groups
