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

Where the set marks the answer itself (SQuAD, QED), each answering sentence also carries
the answer's character span inside it (`Group.spans`), for the reader's span head.

`swap_entity(group, rng)` makes an unanswerable question of an answerable one by asking it
of another name of its article (training's `entity_swap`); `define_question(group, rng)`
asks "What is X?" of a name one of its sentences describes (training's `define`).

`split(groups)` assigns every group to "train" or a held-out split by whole article (SQuAD),
by file (QED dev, SelQA dev), never by question, so no held-out paragraph was trained on.
`embed_groups(groups)` gives the bundled model's vectors of their questions and sentences,
the one way training, the question adapter and calibration all compute them.
This module reads, labels and embeds; it does not tokenize, sample or train.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..lexical import content_words
from ..sentences import split_sentences

if TYPE_CHECKING:
    import numpy as np

# Held-out SQuAD articles: those whose title hashes into the lowest HELDOUT_SHARE.
HELDOUT_SHARE = 0.17
OTHER_PARAGRAPH_NEGATIVES = 4  # same-article sentences added to each SQuAD training group
# Held out, more: retrieval hands the answerer ~30 sentences of one topic, not one paragraph.
HELDOUT_OTHER_SENTENCES = 20
# The project's SQuAD benchmark is the "Super Bowl 50" article: nothing about it trains.
BENCHMARK_TOPIC = re.compile(r"super ?bowl (?:50|l)\b", re.I)


@dataclass
class Group:
    """One question and the candidate sentences it is judged against."""

    question: str
    sentences: list[str]
    labels: list[int]  # 1: the sentence answers the question
    contexts: list[str]  # the sentence before each one in its paragraph ("" for a first)
    source: str  # squad, qed, selqa
    article: str
    split: str = "train"  # train, or the held-out set's name
    answer_removed: bool = False  # made by `without_answer`
    # Per sentence, the answer's (start, end) characters inside it; None where no answer
    # is marked. Empty: the set marks none (SelQA).
    spans: list[tuple[int, int] | None] = field(default_factory=list)

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
        contexts=[group.contexts[i] for i in keep],
        answer_removed=True,
        spans=[],
    )


# Capitalised words, "of", "the" or "de" between them: "Bank of England", "Charles de Gaulle".
_NAMED = r"[A-Z][\w’'-]*(?:\s+(?:of\s+|the\s+|de\s+)?[A-Z][\w’'-]*)*"
# A name (not the first of the text: "What", "The") or a year.
_ENTITY = re.compile(rf"(?<!^)(?<![.!?]\s)\b{_NAMED}|\b(?:1[0-9]{{3}}|20[0-9]{{2}})\b")


def entities(text: str) -> list[str]:
    """The names and years in `text`, in order (see `_ENTITY`)."""
    return [re.sub(r"['’]s?$", "", m.group()) for m in _ENTITY.finditer(text.strip())]


def swap_entity(group: Group, rng: random.Random) -> Group | None:
    """`group`'s question asked of another name (or year) of its article, so that no
    sentence answers it: one name the question shares with its answering sentence becomes a
    name of the same kind that the group's other sentences hold and no answering sentence
    does ("When did the Normans conquer England?" → "When did the Franks conquer
    England?"). The answering sentence stays as the hardest negative: it matches all but
    the one name. News readers' unanswerable questions are often this, the role of one
    party asked of another ("the Taliban's ambassador" over a sentence naming Russia's
    envoy). Sentences holding the new name are left out, since they might answer the new
    question. None when the question shares no name with its answer or the group holds
    no other."""
    answering = [s for s, y in zip(group.sentences, group.labels, strict=True) if y]
    shared = [e for e in entities(group.question) if any(e in s for s in answering)]
    if not shared:
        return None
    old = rng.choice(shared)
    year = old.isdigit()
    taken = " ".join(answering).lower() + " " + group.question.lower()
    others = sorted(
        {
            e
            for s, y in zip(group.sentences, group.labels, strict=True)
            if not y
            for e in entities(s)
            if e.isdigit() == year
            and e.lower() not in taken
            and old.lower() not in e.lower()
            and e.lower() not in old.lower()
        }
    )
    if not others:
        return None
    new = rng.choice(others)
    keep = [i for i, s in enumerate(group.sentences) if new not in s]
    return replace(
        group,
        question=group.question.replace(old, new, 1),
        sentences=[group.sentences[i] for i in keep],
        labels=[0] * len(keep),
        contexts=[group.contexts[i] for i in keep],
        spans=[],
    )


# A name a sentence describes: "X, a/an/the <lower-case word>/Russia's/deputy ... <words
# with no verb of being or having>," (an appositive; "X, the Y Fault, and ..." is a list)
# or "X is/was a/an/the <words>" (a copula).
# Description words that make the named a person ("Who is X?"), not a thing ("What is X?").
_ROLES = (
    r"president|minister|head|leader|director|chairman|member|author|founder|expert"
    r"|analyst|spokes(?:man|woman|person)|official|professor|player|coach|singer|actor"
    r"|actress|writer|governor|mayor|king|queen|prince|princess|commander"
    r"|ambassador|envoy|deputy|chief|secretary|son|daughter|wife|husband|poet|composer"
    r"|scientist|politician|lawyer|judge|journalist|editor|bishop|emperor|philosopher"
)
_PERSON = re.compile(rf"\b(?:{_ROLES})\b")
_APPOSITIVE = re.compile(
    rf"(?<![\w’'-])({_NAMED})(?=,\s+(?:(?:an?|the)\s+[a-z]|[A-Z][\w’'-]*[’']s?\s|(?:former\s+)?(?:{_ROLES})\s)"
    r"(?:(?!\b(?:is|are|was|were|has|have|had|will|would)\b)[^,;:()]){3,80}?[,.;])"
)
_COPULA = re.compile(rf"(?<![\w’'-])({_NAMED})(?=\s+(?:is|was)\s+(?:an?|the|one of)\s)")
# A word opening a sentence before a comma is an adverb more often than a name ("However,
# the ..."); one of these, or one ending in -ly, is not taken for a name.
_OPENERS = frozenset(
    "however meanwhile today yesterday instead still also then thus therefore finally "
    "first second moreover furthermore indeed nonetheless nevertheless again later earlier "
    "now here there yet besides similarly likewise consequently hence otherwise overall "
    "together afterwards afterward so but and yes no well".split()
)


def described(sentence: str) -> list[tuple[str, str]]:
    """(name, what the sentence says it is) for each name `sentence` describes by an
    appositive or a copula; a sentence's opening word before a comma is not taken for a
    name when it reads as an adverb ("However, the ...")."""
    found = []
    opening = len(sentence) - len(sentence.lstrip())
    for pattern in (_APPOSITIVE, _COPULA):
        for m in pattern.finditer(sentence):
            name = re.sub(r"^The\s+", "", m.group(1))  # a sentence's "The Federation Council"
            word = name.lower()
            if not content_words(name):  # "It is ...", "This was ..."
                continue
            opener = m.start() == opening and " " not in name and pattern is _APPOSITIVE
            if opener and (word in _OPENERS or word.endswith("ly")):
                continue
            found.append((name, sentence[m.end(1) : m.end(1) + 90]))
    return found


def define_question(group: Group, rng: random.Random) -> Group | None:
    """A "What is X?" ("Who is X?" for a person) question over `group`'s sentences, of a
    name that one of them describes by an appositive or a copula ("He flies in his TARDIS,
    a time-travelling space ship."): the describing sentences answer it, and the others
    that name X are its hardest negatives. Wikipedia's questions seldom ask this, and a
    reader trained on them alone passes over "the Federation Council, Russia's upper house
    of parliament" for "What is the Federation Council?"; news readers ask it of every
    unfamiliar name. None when no sentence describes a name."""
    found = {(name, i): rest for i, s in enumerate(group.sentences) for name, rest in described(s)}
    if not found:
        return None
    name, _ = rng.choice(sorted(found))
    answering = {i for n, i in found if n == name}
    about = " ".join(rest for (n, _), rest in found.items() if n == name)
    wh = "Who" if _PERSON.search(about) else "What"
    the = "the " if re.search(rf"\b(?i:the) {re.escape(name)}", " ".join(group.sentences)) else ""
    return replace(
        group,
        question=f"{wh} is {the}{name}?",
        labels=[int(i in answering) for i in range(len(group.sentences))],
        answer_removed=False,
        spans=[],
    )


def embed_groups(groups: list[Group]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The vectors of the groups' questions and of their sentences, each keyed by its text
    and encoded once (a paragraph's questions share its sentences), as answering encodes
    them: questions by the bundled model's query encoder, sentences by its document one."""
    from ..embed import DEFAULT_MODEL, get_encoder, get_query_encoder

    questions = list(dict.fromkeys(g.question for g in groups))
    sentences = list(dict.fromkeys(s for g in groups for s in g.sentences))
    q_vectors = get_query_encoder(DEFAULT_MODEL).encode(questions, batch_size=64)
    s_vectors = get_encoder(DEFAULT_MODEL).encode(sentences, batch_size=64)
    return (
        dict(zip(questions, q_vectors, strict=True)),
        dict(zip(sentences, s_vectors, strict=True)),
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
            spans = split_sentences(text)
            sentences = [text[a:b] for a, b in spans]
            before = previous(sentences)
            candidates = [Candidate(*c) for c in zip(sentences, before, strict=True)]
            paragraphs.append((spans, sentences, before, candidates))
        for i, p in enumerate(article["paragraphs"]):
            spans, sentences, before, _ = paragraphs[i]
            others = [s for j, para in enumerate(paragraphs) if j != i for s in para[3]]
            for qa in p["qas"]:
                answers = [(a["answer_start"], len(a["text"])) for a in qa["answers"]]
                inside = [answer_inside(a, b, answers) for a, b in spans]
                labels = [int(span is not None) for span in inside]
                if qa["answers"] and not any(labels):
                    continue  # an answer the splitter put between sentences
                n = OTHER_PARAGRAPH_NEGATIVES if split == "train" else HELDOUT_OTHER_SENTENCES
                extra = most_similar(qa["question"], others, n)
                groups.append(
                    Group(
                        qa["question"],
                        sentences + [c.text for c in extra],
                        labels + [0] * len(extra),
                        before + [c.before for c in extra],
                        "squad",
                        title,
                        split,
                        spans=inside + [None] * len(extra),
                    )
                )
    return groups


def answer_inside(start: int, end: int, answers: list[tuple[int, int]]) -> tuple[int, int] | None:
    """The first answer (paragraph offset, length) starting inside the sentence at
    [start, end), as characters of the sentence (cut at its end); None when none starts
    there."""
    for at, length in answers:
        if start <= at < end:
            return at - start, min(at + length, end) - start
    return None


@dataclass
class Candidate:
    """A sentence of another paragraph, with the one before it there."""

    text: str
    before: str

    def __post_init__(self) -> None:
        self.words = content_words(self.text)


def previous(sentences: list[str]) -> list[str]:
    """The sentence before each of a paragraph's sentences ("" before the first)."""
    return ["", *sentences[:-1]]


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
        spans = [
            qed_span(text, a, b, sentence, answers)
            for (a, b), sentence in zip(bounds, sentences, strict=True)
        ]
        question = row["question_text"].strip() + "?"
        groups.append(
            Group(
                question,
                sentences,
                labels,
                previous(sentences),
                "qed",
                row["title_text"],
                split,
                spans=spans,
            )
        )
    return groups


def qed_span(
    text: str, start: int, end: int, sentence: str, answers: list[tuple[int, int]]
) -> tuple[int, int] | None:
    """The first answer starting in `text[start:end]`, as characters of `sentence` (that
    stretch detokenized): found again by its detokenized text; None when none is."""
    for s, e in answers:
        if start <= s < end:
            found = find_span(sentence, detokenize(text[s:e]))
            if found:
                return found
    return None


def find_span(sentence: str, answer: str) -> tuple[int, int] | None:
    """Where `answer` first occurs in `sentence`, as (start, end); None when it does not
    (or is empty)."""
    at = sentence.find(answer) if answer else -1
    return (at, at + len(answer)) if at >= 0 else None


def load_selqa(path: Path, split: str) -> list[Group]:
    """SelQA answer-sentence selection: candidates and the indexes of those that answer."""
    groups = []
    for row in json.loads(path.read_text(encoding="utf-8")):
        labels = [int(i in row["answers"]) for i in range(len(row["candidates"]))]
        groups.append(
            Group(
                row["question"],
                row["candidates"],
                labels,
                previous(row["candidates"]),  # a section's sentences, in order
                "selqa",
                row["article"],
                split,
            )
        )
    return groups
