"""Training groups from news articles with questions (the news_synth format of
shared/data/news_synth: `articles/ID.txt`, headline and a byline line, then the body, and
`questions.jsonl` in the project's question format plus `doc`).

Each question becomes a Group over every sentence of its article; the answering sentences
are those holding a gold answer inside the evidence. Unanswerable questions label none: the
article's neighbouring fact is their hardest negative. Each answerable question whose year,
number or name also stands in its answering sentence gets a counterfactual negative: that
sentence with the term changed to another of the article's (or a neighbouring year), which
must not answer. Every news group is a training group: what is measured on news
(shared/bench/news_qa) is never loaded here.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

from rag.clean import normalize_for_match
from rag.sentences import split_sentences

from .data import Group

_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_NUMBER = re.compile(r"\b\d[\d,.]*\d\b|\b\d\b")
# Capitalised words, "of", "the" or "de" between them ("Bank of England"), not the text's
# first word ("What", "The").
_NAME = re.compile(r"(?<!^)(?<![.!?]\s)\b[A-Z][\w’'-]*(?:\s+(?:of\s+|the\s+|de\s+)?[A-Z][\w’'-]*)*")


def names(text: str) -> list[str]:
    """The names in `text`, in order, a possessive "'s" left off."""
    return [re.sub(r"['’]s?$", "", m.group()) for m in _NAME.finditer(text.strip())]


def article_body(path: Path) -> str:
    """The article's body: its text after the headline and the byline line."""
    lines = path.read_text(encoding="utf-8").strip().split("\n")
    return "\n".join(lines[2:]).strip()


def _answers(sentence: str, answers: list[str], evidence: list[str]) -> bool:
    """Whether `sentence` holds a gold answer where the evidence says it is."""
    s = normalize_for_match(sentence)
    if not any(normalize_for_match(a) in s for a in answers):
        return False
    ev = [normalize_for_match(e) for e in evidence]
    return not ev or any(e in s or s in e or _share(s, e) >= 0.5 for e in ev)


def _share(a: str, b: str) -> float:
    wa, wb = set(a.split()), set(b.split())
    return len(wa & wb) / max(1, min(len(wa), len(wb)))


def counterfactual(question: str, sentence: str, body: str, rng: random.Random) -> str | None:
    """`sentence` with a year, number or name it shares with `question` changed to another
    of the article's (a neighbouring year when the article has no other)."""
    for term in _YEAR.findall(question):
        if term in sentence:
            others = sorted(set(_YEAR.findall(body)) - {term})
            new = rng.choice(others) if others else str(int(term) + rng.choice((-2, -1, 1)))
            return sentence.replace(term, new)
    named = [e for e in names(question) if e in sentence]
    if named:
        term = rng.choice(named)
        others = sorted(
            {
                e
                for e in names(body)
                if e != term and e not in question and len(e.split()) == len(term.split())
            }
        )
        if others:
            return sentence.replace(term, rng.choice(others))
    for term in _NUMBER.findall(question):
        if term in sentence and not _YEAR.fullmatch(term):
            others = sorted(set(_NUMBER.findall(body)) - {term} - set(_YEAR.findall(body)))
            if others:
                return sentence.replace(term, rng.choice(others))
    return None


def load_news(folder: Path, seed: int = 13) -> list[Group]:
    """One group per question of `folder` (answerable ones whose answer no sentence holds,
    as the splitter cut them, are left out)."""
    rng = random.Random(seed)
    bodies = {p.stem: article_body(p) for p in sorted((folder / "articles").glob("*.txt"))}
    split_of = {}
    for doc, body in bodies.items():
        spans = split_sentences(body)
        sentences = [body[a:b] for a, b in spans]
        split_of[doc] = sentences
    groups = []
    for line in (folder / "questions.jsonl").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        q = json.loads(line)
        sentences = split_of[q["doc"]]
        labels = [
            int(q["answerable"] and _answers(s, q["answers"], q["evidence"])) for s in sentences
        ]
        if q["answerable"] and not any(labels):
            continue
        sents = list(sentences)
        if q["answerable"]:
            at = labels.index(1)
            changed = counterfactual(q["question"], sentences[at], bodies[q["doc"]], rng)
            if changed and changed != sentences[at]:
                sents.append(changed)
                labels = [*labels, 0]
        groups.append(Group(q["question"], sents, labels, "news", f"news:{q['doc']}"))
    return groups
