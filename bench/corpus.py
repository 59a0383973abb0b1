"""The benchmark's corpus and questions: real sentences, perturbed into many distinct documents.

`synthesize` writes documents of consecutive real sentences with some words and digits
swapped (`Perturber` keeps every character offset, so `scaled` can reuse it on indexed
text); `load_bench_questions` reads JSON Lines question files. The default folders are
relative to the checkout (its ./sources, tests/eval and ../shared/bench/squad_superbowl);
missing ones are skipped. Nothing here indexes or measures anything.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # the checkout holding bench/ and rag/
SQUAD = ROOT.parent / "shared" / "bench" / "squad_superbowl"
_WORD = re.compile(r"[A-Za-z]{4,}")
_DIGIT = re.compile(r"\d")


def default_corpus() -> list[Path]:
    """The checkout's seed articles and the SQuAD Super Bowl paragraphs, those that exist."""
    return [p for p in (ROOT / "sources", SQUAD / "sources") if p.is_dir()]


def default_questions() -> list[Path]:
    """The seed and SQuAD question files (`load_bench_questions` skips missing ones)."""
    return [ROOT / "tests" / "eval" / "seed_questions.jsonl", SQUAD / "questions.jsonl"]


def corpus_sentences(folders: list[Path]) -> list[list[str]]:
    """The cleaned sentences of every document under `folders`, one list per document."""
    from rag.formats import list_sources, read_source
    from rag.preview import article_text
    from rag.sentences import split_sentences

    out = []
    for folder in folders:
        if not folder.is_dir():
            continue
        files, _ = list_sources(folder)
        for path in files:
            try:
                docs, _ = read_source(path, folder)
            except Exception:
                continue
            for doc in docs:
                cleaned = article_text(doc)
                text = cleaned.text if cleaned else ""
                sentences = [text[a:b] for a, b in split_sentences(text)]
                sentences = [s for s in sentences if len(s.split()) >= 4]
                if sentences:
                    out.append(sentences)
    return out


class Perturber:
    """Swaps words for others of the same length and digits for other digits, so that
    every character offset of the text is kept (sentences and chunks stay where they are)."""

    def __init__(self, texts: list[str], share: float = 0.12) -> None:
        by_len: dict[int, set[str]] = {}
        for text in texts:
            for w in _WORD.findall(text):
                by_len.setdefault(len(w), set()).add(w)
        self.by_len = {n: sorted(ws) for n, ws in by_len.items()}
        self.share = share

    def __call__(self, text: str, rng: random.Random) -> str:
        def word(m: re.Match[str]) -> str:
            w = m.group()
            if rng.random() >= self.share:
                return w
            pool = self.by_len.get(len(w))
            return rng.choice(pool) if pool else w

        text = _WORD.sub(word, text)
        return _DIGIT.sub(
            lambda m: str(rng.randrange(10)) if rng.random() < 0.5 else m.group(), text
        )


def synthesize(folders: list[Path], n_docs: int, target: Path, seed: int = 0) -> int:
    """Write `n_docs` .txt documents of 3-7 consecutive, perturbed real sentences."""
    docs = corpus_sentences(folders)
    if not docs:
        where = ", ".join(map(str, folders)) or "no folder (pass --corpus FOLDER)"
        raise SystemExit(f"rag bench: no readable text in {where}")
    perturb = Perturber([s for d in docs for s in d])
    rng = random.Random(seed)
    target.mkdir(parents=True, exist_ok=True)
    for i in range(n_docs):
        sentences = docs[rng.randrange(len(docs))]
        size = rng.randint(3, 7)
        start = rng.randrange(max(1, len(sentences) - size + 1))
        text = " ".join(perturb(s, rng) for s in sentences[start : start + size])
        (target / f"doc{i:06d}.txt").write_text(text + "\n", encoding="utf-8")
    return n_docs


def load_bench_questions(paths: list[Path], limit: int, fallback: list[list[str]]) -> list[str]:
    """Up to `limit` questions from the JSON Lines files that exist, shuffled; without any,
    the opening words of `fallback`'s first sentences."""
    questions: list[str] = []
    for path in paths:
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    questions.append(json.loads(line)["question"])
    if not questions:
        questions = [" ".join(s.split()[:8]) + "?" for d in fallback for s in d[:2]]
    rng = random.Random(1)
    rng.shuffle(questions)
    return questions[:limit]
