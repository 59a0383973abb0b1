"""The answer judge: which read sentence answers, and how likely the shown answer is right.

The reader scores each (question, sentence) pair alone; the judge adds what that pair
does not show, for each sentence the reader read (`Seen`):
- whether the question's specific terms are there: its names in the sentence (or the one
  before) and in its passage, its rarer words (IDF over the retrieved sentences), and the
  share of its words that no retrieved passage holds at all;
- conflicts: the sentence names a year but not the question's, or lacks the question's
  year or other number;
- answer type: a date for "when", a figure for "how many", a name the question does not
  already hold for "who";
- rank and margins: the reader's logit and the cheap score, each with its gap to the best
  and standardized over the sentences read, the cosine and its gap, the sentence's cheap
  rank and its passage's rank.
Two logistic models combine them (`Judge`, coefficients in `judge.json` beside the reader,
fitted by `training/judge.py` on news and public QA): `pick` gives each sentence the
probability that it answers, and `confidence` the probability that the best one, the
answer shown, is right (Platt-scaled on real news questions out of fold). The thresholds
`answer_at` and `unsure_at` turn that into an outcome: answered, unsure (the closest quote
offered as a lead) or not found. `join_at` is the probability a further sentence needs to
join the answer. No rule here is set by hand:
every weight and threshold is fitted, and the fit is reported out of fold by article.

It does not retrieve, read or quote (`rag.extractive` does).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import ModelError
from .lexical import content_words

JUDGE_FILE = "judge.json"
FORMAT = 1
_YEAR = re.compile(r"\b(?:1[89]\d\d|20\d\d)\b")
_NUMBER = re.compile(r"\b\d[\d,.]*\b")
_NUMBER_WORD = re.compile(
    r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|hundred|thousand"
    r"|million|billion|dozen|half|percent)s?\b",
    re.I,
)
_MONTH = re.compile(
    r"\b(?:January|February|March|April|May|June|July|August|September|October|November"
    r"|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\b"
)
_CAPITALISED = re.compile(r"\b[A-Z][\w'’-]*[A-Za-z]\b|\b[A-Z]{2,}\b")
# Capitalised question words that name nothing.
_NOT_NAMES = frozenset("what which who when where why how many much did does the according".split())
# What the question asks for, first match wins; "what" when none does.
WH_TYPES = ("when", "howmany", "howmuch", "howlong", "who", "where", "why", "what")
_WH = [
    ("when", re.compile(r"^\s*when\b|\bwhat (year|date|month|day)\b|\bwhich year\b", re.I)),
    ("howmany", re.compile(r"\bhow many\b", re.I)),
    ("howmuch", re.compile(r"\bhow much\b|\bwhat (percentage|share|price|amount)\b", re.I)),
    ("howlong", re.compile(r"\bhow (long|old|far)\b", re.I)),
    ("who", re.compile(r"^\s*who(m|se)?\b|\bwhich (person|official|player|company)\b", re.I)),
    ("where", re.compile(r"^\s*where\b|\bin which (city|country|town)\b", re.I)),
    ("why", re.compile(r"^\s*why\b", re.I)),
]
FEATURES = (
    "logit",
    "logit_gap",
    "logit_z",
    "cheap",
    "cheap_gap",
    "cheap_z",
    "cosine",
    "cosine_gap",
    "cheap_rank",
    "passage_rank",
    "names_in_sentence",
    "names_in_passage",
    "question_has_names",
    "words_in_sentence",
    "words_in_passage",
    "words_nowhere",
    "rarest_word_in_sentence",
    "year_conflict",
    "year_missing",
    "year_missing_in_passage",
    "number_missing",
    "other_names",
    "holds_type",
    "holds_type_with_before",
    "length",
    *(f"asks_{wh}" for wh in WH_TYPES),
)
READ_SCALE = 8  # ranks are given as shares of this many candidates
PASSAGE_SCALE = 5


@dataclass(frozen=True)
class Seen:
    """What the judge sees of one sentence the reader read."""

    text: str
    before: str  # the sentence before it in its passage ("" for a first)
    passage: str  # its passage's text
    cheap: float  # the cheap scorer's score
    cosine: float  # to the question
    logit: float  # the reader's
    cheap_rank: int  # 0: the cheap scorer's best
    passage_rank: int  # 1: the retriever's best passage


def names(text: str, *, first: bool = True) -> set[str]:
    """Lower-cased capitalised words and acronyms (with `first` False, not the text's first
    word, which any sentence capitalises)."""
    found = set()
    for m in _CAPITALISED.finditer(text):
        word = m.group().lower().removesuffix("'s").removesuffix("’s")
        if (first or m.start() > 0) and word not in _NOT_NAMES and len(word) > 1:
            found.add(word)
    return found


def numbers(text: str) -> set[str]:
    """The numbers written in digits, years left out ("1,200" and "1200" alike)."""
    return {n.replace(",", "").rstrip(".") for n in _NUMBER.findall(text)} - set(
        _YEAR.findall(text)
    )


def asks(question: str) -> str:
    """What the question asks for: one of WH_TYPES."""
    return next((name for name, pattern in _WH if pattern.search(question)), "what")


@dataclass(frozen=True)
class Terms:
    """The question's terms the features look for."""

    words: frozenset[str]
    names: frozenset[str]
    years: frozenset[str]
    numbers: frozenset[str]
    wh: str

    @classmethod
    def of(cls, question: str) -> Terms:
        return cls(
            frozenset(content_words(question)),
            frozenset(names(question, first=False)),
            frozenset(_YEAR.findall(question)),
            frozenset(numbers(question)),
            asks(question),
        )


def holds_type(terms: Terms, text: str) -> bool:
    """Whether `text` holds what the question asks for (always, for what/why/how)."""
    if terms.wh == "when":
        return bool(_YEAR.search(text) or _MONTH.search(text))
    if terms.wh in ("howmany", "howmuch", "howlong"):
        return bool(numbers(text) - terms.numbers or _NUMBER_WORD.search(text))
    if terms.wh in ("who", "where"):
        return bool(names(text) - terms.names)
    return True


def features(question: str, seen: list[Seen], sentences: list[str]) -> list[list[float]]:
    """One row of FEATURES per sentence read; `sentences`: every retrieved sentence (for
    the words' rarity and what no passage holds)."""
    terms = Terms.of(question)
    bags = [content_words(s) for s in sentences]
    rarity = {w: math.log(1 + len(bags) / (1 + sum(w in b for b in bags))) for w in terms.words}
    total = sum(rarity.values()) or 1.0
    passage_words = {p: content_words(p) for p in {s.passage for s in seen}}
    anywhere = set().union(*passage_words.values(), *bags)
    rarest = max(terms.words, key=lambda w: (rarity[w], w), default=None)
    best_logit = max(s.logit for s in seen)
    best_cheap = max(s.cheap for s in seen)
    logit_z = standardized([s.logit for s in seen])
    cheap_z = standardized([s.cheap for s in seen])
    best_cosine = max(s.cosine for s in seen)
    asked = [float(terms.wh == wh) for wh in WH_TYPES]
    rows = []
    for i, s in enumerate(seen):
        words = content_words(s.text) | content_words(s.before)
        own_names = names(s.text)
        near_names = own_names | names(s.before)
        years = set(_YEAR.findall(s.text))
        near_years = years | set(_YEAR.findall(s.before))
        rows.append(
            [
                s.logit,
                s.logit - best_logit,
                logit_z[i],
                s.cheap,
                s.cheap - best_cheap,
                cheap_z[i],
                s.cosine,
                s.cosine - best_cosine,
                s.cheap_rank / READ_SCALE,
                (s.passage_rank - 1) / PASSAGE_SCALE,
                _share(terms.names, near_names),
                _share(terms.names, names(s.passage)),
                float(bool(terms.names)),
                sum(rarity[w] for w in terms.words & words) / total,
                sum(rarity[w] for w in terms.words & passage_words[s.passage]) / total,
                sum(rarity[w] for w in terms.words - anywhere) / total,
                float(rarest is not None and rarest in words),
                float(bool(terms.years and years and not terms.years & years)),
                float(bool(terms.years and not terms.years & near_years)),
                float(bool(terms.years and not terms.years & set(_YEAR.findall(s.passage)))),
                float(bool(terms.numbers and not terms.numbers & numbers(s.text + " " + s.before))),
                min(len(own_names - terms.names), 4) / 4,
                float(holds_type(terms, s.text)),
                float(holds_type(terms, s.before + " " + s.text)),
                min(len(s.text.split()), 60) / 60,
                *asked,
            ]
        )
    return rows


def standardized(values: list[float]) -> list[float]:
    """Each value's distance from the mean in standard deviations (0 when all are equal)."""
    mean = sum(values) / len(values)
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
    return [(v - mean) / sd if sd > 1e-9 else 0.0 for v in values]


def _share(wanted: frozenset[str], have: set[str]) -> float:
    return len(wanted & have) / len(wanted) if wanted else 1.0


def _logistic(coef: tuple[float, ...], intercept: float, values: list[float]) -> float:
    z = intercept + sum(c * v for c, v in zip(coef, values, strict=True))
    return 1 / (1 + math.exp(-max(-50.0, min(50.0, z))))


def log_odds(p: float) -> float:
    """log(p / (1 - p)), `p` kept within 1e-6 of 0 and 1."""
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def scaled(p: float, scale: tuple[float, float]) -> float:
    """`p` Platt-scaled: logistic(a * log_odds(p) + b) for `scale` (a, b)."""
    return _logistic((scale[0],), scale[1], [log_odds(p)])


def sure_inputs(rows: list[list[float]], picked: list[float]) -> list[float]:
    """The confidence model's inputs (SURE_INPUTS): the best `pick` probability, its lead
    over the second, its log-odds, and the best sentence's feature row."""
    best = max(range(len(picked)), key=picked.__getitem__)
    second = max((p for i, p in enumerate(picked) if i != best), default=0.0)
    top = min(max(picked[best], 1e-9), 1 - 1e-9)
    return [top, top - second, math.log(top / (1 - top)), *rows[best]]


@dataclass(frozen=True)
class Judge:
    """The fitted judge (`judge.json`): two logistic models and three thresholds."""

    pick_coef: tuple[float, ...]
    pick_intercept: float
    sure_coef: tuple[float, ...]
    sure_intercept: float
    # Platt scaling of `sure` fitted on real news questions out of fold: (a, b) in
    # logistic(a * logit(p) + b).
    scale: tuple[float, float]
    answer_at: float  # answered when the confidence reaches this
    unsure_at: float  # unsure from this up to answer_at; not found below
    join_at: float  # a further sentence joins the answer when `pick` gives it this much
    read: int  # sentences of the cheap ranking the reader reads for it

    def pick(self, rows: list[list[float]]) -> list[float]:
        """Per sentence, the probability that it answers the question."""
        return [_logistic(self.pick_coef, self.pick_intercept, row) for row in rows]

    def confidence(self, rows: list[list[float]], picked: list[float]) -> float:
        """The probability that the sentence `pick` likes best is a right answer."""
        sure = _logistic(self.sure_coef, self.sure_intercept, sure_inputs(rows, picked))
        return scaled(sure, self.scale)

    def outcome(self, confidence: float) -> str:
        """ "answered", "unsure" or "not_found" for this confidence."""
        if confidence >= self.answer_at:
            return "answered"
        return "unsure" if confidence >= self.unsure_at else "not_found"


SURE_INPUTS = ("picked", "picked_lead", "picked_logodds", *FEATURES)


def load_judge(folder: Path) -> Judge | None:
    """The judge fitted for the reader in `folder`; None when the folder has none (a reader
    trained before judges were, whose own calibrated decision then applies)."""
    path = folder / JUDGE_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data["format"] != FORMAT or tuple(data["features"]) != FEATURES:
            raise ValueError("its features are not the ones this version computes")
        if len(data["pick"]["coef"]) != len(FEATURES) or len(data["sure"]["coef"]) != len(
            SURE_INPUTS
        ):
            raise ValueError("a model has the wrong number of coefficients")
        return Judge(
            tuple(float(c) for c in data["pick"]["coef"]),
            float(data["pick"]["intercept"]),
            tuple(float(c) for c in data["sure"]["coef"]),
            float(data["sure"]["intercept"]),
            (float(data["scale"][0]), float(data["scale"][1])),
            float(data["answer_at"]),
            float(data["unsure_at"]),
            float(data["join_at"]),
            int(data["read"]),
        )
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ModelError(
            f"{path} is unreadable ({e}): reinstall the package (pip install -e .) or fit "
            "it again with `python -m training.judge`."
        ) from e
