"""Extractive answers: the best sentences of the retrieved passages, verbatim and cited.

Every statement sentence of the top passages gets a cheap score (`rag.cheap_scorer`: cosine
and word overlap with the question, its own and the sentence before it, what the question
asks for, its passage's rank). `rank` then orders them (`settings.answer_reader`):
"trained" (default) lets the trained reader (`rag.reader`) read the cheap ranking's best
few (`judged`) and the judge (`rag.judge`) order them by the probability that each answers,
its confidence that the best is right deciding the outcome: answered, unsure (the closest
quote offered as a lead after `UNSURE_LEAD`) or not found (`NOT_IN_SOURCES`, the passages
still listed); even the best sentence under the cosine floor (`cosine_floor`, fitted with
the reader) is not found. "cosine" keeps the cheap order and abstains under its floor or
when the question asks for a number or a date no sentence good enough to join holds.
The best sentence is the answer and comes first; more join while they score at least the
ranking's floor (the judge's `join_at`, or `MORE_RATIO` of the best for the cheap scorer),
say something new, and the answer stays under `MAX_ANSWER_WORDS`. A sentence that depends
on the one before (it opens with a pronoun or continues a quote) is quoted together with
it, and one that begins inside a quotation is quoted from its opening. `Ranking.why` names
the rule that withheld an answer (a key of `WHY_ABSTAINED`, with the note the user reads).
Questions, headings and bylines are never quoted; no text is generated. The passages come
back re-ranked by their best cheap-scored sentence (`by_best_sentence`).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field, replace

from .cheap_scorer import MONTHS, WANTS, Scored, is_statement, score_sentences
from .judge import Seen, features
from .lexical import content_words
from .reader import Calibration, Reader, get_reader
from .retrieve import Retrieved, Sentence, retrieve
from .settings import Settings
from .types import ANSWERED, NOT_FOUND, UNSURE, Answer, Citation, Passage

NOT_IN_SOURCES = "The sources do not contain an answer to this question."
# An unsure reply opens with this, then offers the closest quote as a lead.
UNSURE_LEAD = "The articles may not answer this. Closest:"
ABSTAIN_NOTE = "The closest passages are listed below; judge them yourself."
# Why an answer was withheld (`Answer.abstain_reason`), each with the note the user reads.
WHY_ABSTAINED = {
    "no_sentence": "The retrieved passages hold no sentence that could answer a question.",
    # Three decimals: the reader's fitted floor (0.287) has them, and two would show a
    # cosine of 0.286 as "0.29, under 0.29".
    "off_topic": (
        "Even the closest sentence is far from the question (cosine {cosine:.3f}, under "
        "{floor:.3f}): the sources may not be about it."
    ),
    # The cosine scorer's only check of what the sentences hold (the judge weighs it).
    "no_figure": (
        "The question asks for a {figure}, and no sentence close enough to answer holds one."
    ),
    "unsure": (
        "The closest quote may not answer the question: the chance that it does is "
        "{confidence:.0%}, under the {threshold:.0%} an answer needs."
    ),
    "not_found": (
        "No sentence of the closest passages reads as its answer (the chance that the best "
        "one does is {confidence:.0%})."
    ),
}
DATES_DIFFER_NOTE = (
    "The sources differ in date ({dates}); after the answering quote, they are cited newest first."
)
# Limits chosen on the SQuAD benchmark and the seed questions (BENCHMARKS.md).
MORE_RATIO = 0.8  # further sentences must score at least this share of the best
# Words further sentences may bring the answer to, by `answer_reader`. The reader joins
# only sentences within its calibrated margin of the best, so at 80 words its answers stay
# short (SQuAD median 55, seeds 49); the cheap scorer's ratio lets more in (median 67 at
# 80), so it keeps 60. BENCHMARKS.md, "Answer length".
MAX_ANSWER_WORDS = {"trained": 80, "cosine": 60}
# The default cosine floor (`abstain_below` -1), by `answer_reader`: the cheap scorer's only
# abstention (0.40 refused 2 % of SQuAD's questions). A reader fits its own on held-out
# data (`Calibration.cosine_floor`); 0.30 is for readers calibrated before it did.
ABSTAIN_BELOW = {"trained": 0.30, "cosine": 0.40}
# "It is unlikely that ...", "It seems to ...": an "it" that stands for no earlier noun (a
# determiner among the words between, "It is a country that ...", makes it one again).
_EXPLETIVE_IT = (
    r"it(?:\s+(?:is|was|seems|seemed|appears|appeared|remains|remained|would be|will be"
    r"|has been|had been)|[’']s)\s+"
    r"(?:(?!(?:a|an|the|its|his|her|their|our|this|that|these|those)\b)[\w’'-]+\s+){0,3}?"
    r"(?:that|to|whether|how)\b"
)
# A sentence opening with a pronoun needs the one before to say who or what it means.
_PRONOUN_START = re.compile(
    rf"^(?:he|she|they|(?!{_EXPLETIVE_IT})it|this|these|that|those|his|her|their)\b", re.I
)
_QUOTE_MARK = re.compile('[“”"«»„]')
QUOTE_REACH = 3  # sentences searched back for the opening of a quotation
_ATTRIBUTION = re.compile(r"\b(?:said|says|told|according to|stated|added|noted)\b", re.I)

# The figures a quote states: years, numbers, month names ("April 17, 2025", "145").
_FIGURE = re.compile(
    r"\b(?:\d[\d,.]*\d|\d|" + "|".join(m.capitalize() for m in MONTHS.split("|")) + r")\b"
)


@dataclass
class Ranking:
    """The sentences that may answer, best first, before any is quoted."""

    sentences: list[Scored]
    floor: float  # further sentences join the best while they score at least this
    # Why the answer is withheld, as (key of WHY_ABSTAINED, its note filled in); ("", ""):
    # it is given.
    why: tuple[str, str] = ("", "")
    # The judge's probability that the best sentence, the answer shown, is right.
    confidence: float | None = None
    # Passage ranks in the order of each passage's best cheap-scored sentence.
    passage_order: list[int] = field(default_factory=list)

    @property
    def abstain(self) -> bool:
        return bool(self.why[0])

    @property
    def outcome(self) -> str:
        if not self.abstain:
            return ANSWERED
        return UNSURE if self.why[0] == "unsure" else NOT_FOUND


@dataclass
class Judged:
    """What the judge is shown: every scored sentence (cheap order), those the reader read
    (cheap order, each with its logit) and the judge's feature rows for them."""

    scored: list[Scored]
    read: list[Scored]
    rows: list[list[float]]


def judged(retrieved: Retrieved, reader: Reader, settings: Settings) -> Judged | None:
    """Score the retrieved sentences, let the reader read the cheap ranking's best
    (`reader_shortlist`, or as many as its judge was fitted on) and compute the judge's
    features; None when no sentence could answer."""
    adapted = reader.adapt(retrieved.query_vector, settings.model)
    scored = score_sentences(retrieved, adapted)
    if not scored:
        return None
    short = scored[: settings.reader_shortlist or reader.judge.read]
    logits = _read(reader, retrieved.question, short)
    for item, logit in zip(short, logits, strict=True):
        item.reader = logit
    seen = [
        Seen(
            item.sentence.text,
            item.before[-1].text if item.before else "",
            item.passage.text,
            item.score,
            item.sentence.cosine,
            logit,
            i,
            item.rank,
        )
        for i, (item, logit) in enumerate(zip(short, logits, strict=True))
    ]
    rows = features(retrieved.question, seen, [s.sentence.text for s in scored])
    return Judged(scored, short, rows)


def rank(retrieved: Retrieved, settings: Settings) -> Ranking:
    """Score the sentences of the retrieved passages and decide whether to answer.

    `answer_reader` "cosine": the cheap score alone; abstain below `cosine_floor` or when
    a figure asked for is missing. "trained": the reader reads the cheap ranking's top
    sentences and the judge (`rag.judge`) orders them by the probability that each
    answers; its confidence that the best is right decides between answered, unsure and
    not found (`Judge.outcome`), and even the best sentence under the cosine floor is not
    found."""
    if settings.answer_reader != "trained":
        scored = score_sentences(retrieved)
        if not scored:
            return Ranking([], 0.0, ("no_sentence", WHY_ABSTAINED["no_sentence"]))
        best_cosine = max(s.sentence.cosine for s in scored)
        order = list(dict.fromkeys(s.rank for s in scored))
        floor = MORE_RATIO * scored[0].score
        why = _why(retrieved.question, scored, floor, best_cosine, cosine_floor(settings))
        return Ranking(scored, floor, why, None, order)
    reader = get_reader(settings.reader_model)
    seen = judged(retrieved, reader, settings)
    if seen is None:
        return Ranking([], 0.0, ("no_sentence", WHY_ABSTAINED["no_sentence"]))
    judge = reader.judge
    picked = judge.pick(seen.rows)
    confidence = judge.confidence(seen.rows, picked)
    for item, p in zip(seen.read, picked, strict=True):
        item.score = p
    ordered = sorted(seen.read, key=lambda s: -s.score)
    order = list(dict.fromkeys(s.rank for s in seen.scored))
    best_cosine = max(s.sentence.cosine for s in seen.scored)
    below = cosine_floor(settings, reader.calibration)
    threshold = judge.answer_at if settings.reader_threshold < 0 else settings.reader_threshold
    if best_cosine < below:
        why = ("off_topic", WHY_ABSTAINED["off_topic"].format(cosine=best_cosine, floor=below))
    elif confidence >= threshold:
        why = ("", "")
    elif confidence >= min(judge.unsure_at, threshold):
        note = WHY_ABSTAINED["unsure"].format(confidence=confidence, threshold=threshold)
        why = ("unsure", note)
    else:
        why = ("not_found", WHY_ABSTAINED["not_found"].format(confidence=confidence))
    return Ranking(ordered, judge.join_at, why, round(confidence, 4), order)


def _read(reader: Reader, question: str, items: list[Scored]) -> list[float]:
    """The reader's logits of `items`' sentences."""
    return reader.logits(question, [s.sentence.text for s in items])


def _why(
    question: str, scored: list[Scored], floor: float, best_cosine: float, below: float
) -> tuple[str, str]:
    """The cosine scorer's rule that withholds the answer, as (key of WHY_ABSTAINED, its
    note), or ("", "") when none does: the best sentence's cosine is under the floor
    `below`, or the question asks for a figure that no sentence close enough holds."""
    if best_cosine < below:
        return "off_topic", WHY_ABSTAINED["off_topic"].format(cosine=best_cosine, floor=below)
    figure = _missing_figure(question, scored, floor)
    if figure:
        return "no_figure", WHY_ABSTAINED["no_figure"].format(figure=figure)
    return "", ""


def cosine_floor(settings: Settings, calibration: Calibration | None = None) -> float:
    """The cosine under which even the best sentence is too far from the question: the
    `abstain_below` setting when set, else the reader's `calibration`'s fitted floor when
    it has one, else `ABSTAIN_BELOW` for the answer reader."""
    if settings.abstain_below >= 0:
        return settings.abstain_below
    if calibration is not None and calibration.cosine_floor is not None:
        return calibration.cosine_floor
    return ABSTAIN_BELOW[settings.answer_reader]


def compose(retrieved: Retrieved, settings: Settings) -> tuple[str, Ranking, list[Citation], str]:
    """(answer text, ranking, citations, note) from the retrieved passages. Not found: no
    quote. Unsure: `UNSURE_LEAD` and the closest quote, a lead and not an answer. Answered:
    the best quote first; another joins only while it scores at least the ranking's floor
    (the judge's `join_at`), says something new and the answer stays short."""
    ranking = rank(retrieved, settings)
    if ranking.outcome == NOT_FOUND:
        return NOT_IN_SOURCES, ranking, [], ranking.why[1]
    chosen: list[tuple[int, int, Scored]] = []  # (quote start, quote end, scored)
    words = 0
    most = 1 if ranking.outcome == UNSURE else settings.answer_sentences
    for candidate in ranking.sentences:
        if len(chosen) >= most or (chosen and candidate.score < ranking.floor):
            break
        start = _quote_start(candidate)
        text = candidate.passage.text[
            start - candidate.passage.start : candidate.sentence.end - candidate.passage.start
        ]
        if chosen and words + len(text.split()) > MAX_ANSWER_WORDS[settings.answer_reader]:
            continue
        doc = candidate.passage.doc_id
        if all(
            _distinct(text, c.sentence.text) and not (c.passage.doc_id == doc and a <= start < b)
            for a, b, c in chosen
        ):
            chosen.append((start, candidate.sentence.end, candidate))
            words += len(text.split())
    chosen, note = newest_first(chosen, retrieved.question)
    citations, parts = [], []
    for n, (start, end, item) in enumerate(chosen, 1):
        p = item.passage
        quote = p.text[start - p.start : end - p.start]
        citations.append(
            Citation(n, p.doc_id, p.title, p.publisher, p.date, p.url, quote, start, end)
        )
        parts.append(f"{quote} [{n}]")
    if ranking.outcome == UNSURE:
        return f"{UNSURE_LEAD} {parts[0]}", ranking, citations, ranking.why[1]
    return " ".join(parts), ranking, citations, note


def _missing_figure(question: str, scored: list[Scored], floor: float) -> str:
    """The figure the question asks for ("date" or "number") when no sentence that could
    join the answer (scoring at least `floor`) holds one: the sources are on topic but do
    not say; "" otherwise. (Names are not checked: a one-word or oddly cased name,
    "Newton", "DeMarcus Ware", escapes the pattern.)"""
    wants = [(p, figure) for asks, p, figure in WANTS if figure and asks.search(question)]
    near = [s for s in scored if s.score >= floor]
    if wants and not any(p.search(s.sentence.text) for s in near for p, _ in wants):
        return wants[0][1]
    return ""


def newest_first(chosen: list[tuple[int, int, Scored]], question: str = "") -> tuple[list, str]:
    """When the question asks for a date or a number and quotes from articles of
    different dates state different ones, cite the others newest first after the answering
    quote and say so: an older report may be overtaken by a newer one. Otherwise keep the
    order and say nothing: articles of different dates that agree, or answer a why or a
    who, need no warning.
    A date that is a prefix of another ("2025-04", "2025-04-18") is the same date, known
    less precisely, not a different one."""
    dates = {c[2].passage.date for c in chosen if c[2].passage.date}
    distinct = {d for d in dates if not any(o != d and o.startswith(d) for o in dates)}
    wants_figure = any(asks.search(question) for asks, _, figure in WANTS if figure)
    if len(distinct) < 2 or not wants_figure:
        return chosen, ""
    facts: dict[str, set[str]] = {}  # article date -> the figures its quotes state
    for start, end, item in chosen:
        p = item.passage
        found = _FIGURE.findall(p.text[start - p.start : end - p.start])
        if p.date and found:
            facts.setdefault(p.date, set()).update(found)
    if len(facts) < 2 or len({frozenset(f) for f in facts.values()}) < 2:
        return chosen, ""
    # The answering quote stays first; the others follow newest first.
    ordered = chosen[:1] + sorted(chosen[1:], key=lambda c: c[2].passage.date or "", reverse=True)
    return ordered, DATES_DIFFER_NOTE.format(dates=", ".join(sorted(distinct, reverse=True)))


def _quote_start(item: Scored) -> int:
    """Where the quote begins: the sentence, or earlier when it depends on what comes
    before: it opens with a pronoun (not an "it" that stands for nothing), or continues a
    quotation without naming its speaker (the sentence before names them), or begins
    inside a quotation opened in an earlier sentence (from where it opens, so the reader
    sees the whole quotation)."""
    s, before = item.sentence, item.before
    # A quote continued without its speaker ("“We have to ...”") needs the one before too.
    continued_quote = s.text[:1] in '“"‘' and not _ATTRIBUTION.search(s.text)
    needs_previous = bool(_PRONOUN_START.match(s.text)) or continued_quote
    if before and needs_previous and is_statement(before[-1].text):
        s, before = before[-1], before[:-1]
    return _quotation_opening(s, before, item.passage)


def _quotation_opening(sentence: Sentence, before: list[Sentence], passage: Passage) -> int:
    """The start of `sentence`, or of the sentence that opens the quotation it begins
    inside: its first quotation mark closes one ("… in Afghanistan,” he said."), or it has
    none and an earlier sentence of its paragraph left one open. Looks `QUOTE_REACH`
    sentences back, within the paragraph."""
    first = _QUOTE_MARK.search(sentence.text)
    if first is not None and not _closes(sentence.text, first.start()):
        return sentence.start
    later = sentence
    for earlier in reversed(before[-QUOTE_REACH:]):
        between = passage.text[earlier.end - passage.start : later.start - passage.start]
        if "\n" in between:
            break  # quotations in news copy close before a paragraph break
        marks = list(_QUOTE_MARK.finditer(earlier.text))
        if marks:
            return sentence.start if _closes(earlier.text, marks[-1].start()) else earlier.start
        later = earlier
    return sentence.start


def _closes(text: str, at: int) -> bool:
    """Whether the quotation mark at `at` closes a quotation: a curly closing mark, or a
    straight one that follows a word or punctuation mark instead of opening before one."""
    mark = text[at]
    if mark in "”»":
        return True
    if mark in "“«„":
        return False
    return at > 0 and not text[at - 1].isspace() and text[at - 1] not in "([{"


def _distinct(a: str, b: str) -> bool:
    """False when two sentences share most of their content words (the same fact twice)."""
    wa, wb = content_words(a), content_words(b)
    return not wa or not wb or len(wa & wb) / min(len(wa), len(wb)) < 0.7


def by_best_sentence(passages: list[Passage], order: list[int]) -> list[Passage]:
    """`passages` re-ranked by their best sentence: those whose rank is in `order` in that
    order, then the others (none of their sentences could answer, or they were retrieved
    past the answer's k) in retrieval order; ranks renumbered from 1."""
    at = {rank: i for i, rank in enumerate(order)}
    ordered = sorted(passages, key=lambda p: (at.get(p.rank, len(at)), p.rank))
    return [replace(p, rank=i) for i, p in enumerate(ordered, 1)]


def answer_question(index, question: str, k: int | None = None, depth: int = 0) -> Answer:
    """Retrieve and answer one question from a loaded index.

    The answer is built from the top `k` passages; `depth` retrieves more (for MRR) and
    lists them too, without letting them into the answer.
    """
    started = time.perf_counter()
    k = k or index.settings.k
    retrieved = retrieve(index, question, max(k, depth))
    t_answer = time.perf_counter()
    shown = retrieved.passages
    retrieved.passages = shown[:k]
    text, ranking, citations, note = compose(retrieved, index.settings)
    done = time.perf_counter()
    return Answer(
        question=question,
        answer=text,
        abstained=ranking.abstain,
        citations=citations,
        passages=by_best_sentence(shown, ranking.passage_order),
        note=note,
        confidence=ranking.confidence,
        abstain_reason=ranking.why[0] or None,
        outcome=ranking.outcome,
        timings_ms={
            "retrieve": round(retrieved.ms, 2),
            "answer": round((done - t_answer) * 1000, 2),
            "total": round((done - started) * 1000, 2),
        },
    )
