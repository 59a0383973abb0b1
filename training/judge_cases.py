"""The judge's training cases: questions answered through the real pipeline.

`synth_corpus`, `squad_corpus` and `news_corpus` lay out a sources folder (and give the
questions) for news articles written for training, the held-out SQuAD 2.0 articles (never
the benchmark's Super Bowl article) and the real news set's saved pages. `answer_cases`
indexes such a folder with the real model, answers every question exactly as the product
does (`rag.extractive.judged`, the reader reading `READ` sentences) and keeps, per question,
the judge's feature rows for the sentences read and whether each holds a gold answer.
`save_cases` / `load_cases` keep them as JSON lines, so fitting can be repeated without
answering again. Fitting is `training.judge`'s.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.clean import normalize_for_match

from .data import BENCHMARK_TOPIC, heldout_article

# Sentences of the cheap ranking the reader reads for the judge: 8 hold a gold answer for
# 0.92 of the real news questions, 4 for 0.87 (BENCHMARKS.md, "News questions").
READ = 8


@dataclass
class Case:
    """One question answered through the pipeline: the judge's rows for the sentences read."""

    corpus: str
    doc: str
    answerable: bool
    rows: list[list[float]]
    labels: list[int]  # per row: the sentence holds a gold answer


def synth_corpus(folder: Path, out: Path) -> Path:
    """A news_synth folder as a sources folder of Markdown articles with front matter."""
    sources = out / "sources"
    sources.mkdir(parents=True, exist_ok=True)
    for path in sorted((folder / "articles").glob("*.txt")):
        title, byline, *body = path.read_text(encoding="utf-8").strip().split("\n")
        meta = dict(
            part.strip().split(": ", 1) for part in byline.split("|") if ": " in part.strip()
        )
        front = {"title": title.strip(), **{k.lower(): v for k, v in meta.items()}}
        header = "".join(f"{k}: {json.dumps(v)}\n" for k, v in front.items())
        text = "---\n" + header + "---\n\n" + "\n".join(body).strip() + "\n"
        (sources / f"{path.stem}.md").write_text(text, encoding="utf-8")
    return folder / "questions.jsonl"


def squad_corpus(qa: Path, out: Path) -> list[dict[str, Any]]:
    """The held-out SQuAD 2.0 articles as one file per paragraph, and their questions."""
    sources = out / "sources"
    sources.mkdir(parents=True, exist_ok=True)
    data = json.loads((qa / "squad-v2.0-dev.json").read_text(encoding="utf-8"))["data"]
    questions = []
    for a, article in enumerate(data):
        title = article["title"]
        if not heldout_article(title) or BENCHMARK_TOPIC.search(title):
            continue
        for p, paragraph in enumerate(article["paragraphs"]):
            name = json.dumps(title.replace("_", " "))
            text = f"---\ntitle: {name}\n---\n\n{paragraph['context']}\n"
            (sources / f"{a:02d}-{p:03d}.md").write_text(text, encoding="utf-8")
            for qa_ in paragraph["qas"]:
                answers = sorted({x["text"] for x in qa_["answers"]})
                questions.append({"doc": title, "question": qa_["question"], "answers": answers})
    return questions


def news_corpus(news: Path, out: Path) -> Path:
    """The saved pages of the news set (its make_sources.sh, in Python) and its questions."""
    sources = out / "sources"
    sources.mkdir(parents=True, exist_ok=True)
    for path in sorted((news.parent / "article_extraction" / "html").glob("*.html.gz")):
        (sources / path.name.removesuffix(".gz")).write_bytes(gzip.decompress(path.read_bytes()))
    return news / "questions.jsonl"


def read_questions(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def answer_cases(
    name: str, work: Path, questions: list[dict[str, Any]], reader: Path
) -> list[Case]:
    """Index `work/sources`, then answer every question as the product does, keeping what
    the judge sees."""
    from rag.extractive import judged
    from rag.indexing import build_index
    from rag.loaded import open_index
    from rag.reader import Reader
    from rag.retrieve import retrieve
    from rag.settings import Settings

    settings = Settings.load(
        env={}, sources=work / "sources", index=work / "index", reader_shortlist=READ
    )
    build_index(settings)
    index = open_index(settings)
    loaded = Reader(reader)
    cases = []
    for q in questions:
        gold = [normalize_for_match(a) for a in q.get("answers", [])]
        seen = judged(retrieve(index, q["question"], settings.k), loaded, settings)
        if seen is None:
            continue
        labels = [
            int(any(g in normalize_for_match(s.sentence.text) for g in gold)) for s in seen.read
        ]
        answerable = bool(q.get("answerable", bool(gold)))
        cases.append(Case(name, str(q.get("doc", "")), answerable, seen.rows, labels))
    index.close()
    return cases


def save_cases(path: Path, cases: list[Case]) -> None:
    lines = (json.dumps(c.__dict__) for c in cases)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def load_cases(path: Path) -> list[Case]:
    return [
        Case(**json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines() if line
    ]
