"""Hybrid retrieval: dense (FAISS) and lexical (FTS5 BM25) candidates, fused and diversified.

`retrieve(index, question, k)` encodes the question once, takes `settings.candidates`
from each retriever, and scores the union with a per-query normalized blend of three
signals: the chunk's cosine to the question, its best sentence (stored sentence vectors'
cosine plus the sentence's IDF-weighted share of the question's words; answers usually
sit in one sentence), and BM25. IDF is taken over the query's own candidates, so nothing
depends on one corpus' statistics. Reciprocal-rank fusion of the two candidate lists
breaks ties. Then no document may
hold more than `settings.per_doc` of the top k. It returns passages with their sentences
(offsets, text, vectors) so the answerer needs no second trip to the database. It does no
answer selection and no query rewriting.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .lexical import content_words, finder, idf_weights, overlap
from .types import Passage

if TYPE_CHECKING:
    from collections.abc import Callable

    import numpy as np

    from .loaded import LoadedIndex

RRF_K = 60
# Blend weights, chosen by a grid search over both the SQuAD Super Bowl benchmark and the
# seed questions (BENCHMARKS.md); each signal is min-max scaled per query first.
W_CHUNK, W_SENTENCE, W_BM25 = 0.6, 0.3, 0.2
# Within the sentence signal: cosine plus this much of its question-word overlap.
W_SENTENCE_LEX = 0.5


@dataclass(slots=True)
class Sentence:
    """One sentence of a retrieved passage; offsets are into the document's cleaned text."""

    start: int
    end: int
    text: str
    vector: np.ndarray
    cosine: float  # to the question
    matched: frozenset[str]  # the question's content words it holds


@dataclass
class Retrieved:
    question: str
    query_vector: np.ndarray
    passages: list[Passage]
    sentences: dict[int, list[Sentence]] = field(default_factory=dict)  # by passage rank
    ms: float = 0.0


def retrieve(index: LoadedIndex, question: str, k: int) -> Retrieved:
    import time

    started = time.perf_counter()
    settings = index.settings
    qv = index.query_encoder.encode([question])[0]
    pool = max(settings.candidates, k)
    dense = index.vectors.search(qv, pool)
    lexical = index.store.bm25(question, pool)
    ids = list(dict.fromkeys([i for i, _ in dense] + [i for i, _ in lexical]))
    if not ids:
        return Retrieved(question, qv, [], ms=(time.perf_counter() - started) * 1000)
    chunks = index.store.chunks(ids)
    cos = dict(dense)
    missing = [i for i in ids if i not in cos]
    if missing:  # lexical-only candidates: score their stored vectors too
        stored = index.vectors.reconstruct(missing)
        cos.update(zip(missing, (stored @ qv).tolist(), strict=True))
    rows = index.store.sentences([(c.first_sentence, c.last_sentence) for c in chunks.values()])
    q_words = content_words(question)
    sentences = _sentences([chunks[i] for i in ids], rows, qv, finder(q_words))
    # A chunk's words are its sentences' words: no second pass over the chunk text.
    weights = idf_weights(
        q_words, [frozenset().union(*(s.matched for s in sentences[i])) for i in ids]
    )
    best_sentence = {
        i: max(
            (
                s.cosine + W_SENTENCE_LEX * overlap(q_words, s.matched, weights)
                for s in sentences[i]
            ),
            default=cos[i],
        )
        for i in ids
    }
    bm25 = dict(lexical)
    rrf = {i: 0.0 for i in ids}
    for ranking in (dense, lexical):
        for rank, (i, _) in enumerate(ranking):
            rrf[i] += 1.0 / (RRF_K + rank + 1)
    score = _blend(ids, [cos, best_sentence, bm25], [W_CHUNK, W_SENTENCE, W_BM25])
    ranked = sorted(ids, key=lambda i: (-score[i], -rrf[i]))
    chosen = _diversify(ranked, chunks, k, settings.per_doc)
    passages, by_rank = [], {}
    for rank, chunk_id in enumerate(chosen, 1):
        chunk = chunks[chunk_id]
        meta = index.document(chunk.doc)
        passages.append(
            Passage(
                rank=rank,
                chunk_id=chunk_id,
                doc_id=meta["doc_id"],
                title=meta["title"],
                publisher=meta["publisher"],
                date=meta["date"],
                url=meta["url"],
                text=chunk.text,
                start=chunk.start,
                end=chunk.end,
                score=round(score[chunk_id], 4),
                sentences=[(s.start, s.end) for s in sentences[chunk_id]],
                similarity=round(float(cos[chunk_id]), 4),
                source=meta.get("source") or "",
            )
        )
        by_rank[rank] = sentences[chunk_id]
    return Retrieved(question, qv, passages, by_rank, (time.perf_counter() - started) * 1000)


def _sentences(
    chunks: list, rows: dict, qv: np.ndarray, find: Callable[[str], list[tuple[int, str]]]
) -> dict[int, list[Sentence]]:
    """Each chunk's sentences (by chunk id), clipped to it, with their vectors decoded,
    their cosines to the question taken in one matrix product, and the question's words
    they hold (found once per chunk, then shared out by offset)."""
    import numpy as np

    spans = []  # (chunk, start, end, vector bytes, question words)
    missing = bytes(2 * len(qv))  # a sentence stored without a vector scores 0
    for chunk in chunks:
        hits = find(chunk.text)
        at = [chunk.start + offset for offset, _ in hits]
        for i in range(chunk.first_sentence, chunk.last_sentence + 1):
            if i not in rows:
                continue
            start, end, blob = rows[i]
            # Sentences cut into pieces by the chunker may reach outside this chunk: clip.
            a, b = max(start, chunk.start), min(end, chunk.end)
            if a < b:
                words = frozenset(w for _, w in hits[bisect_left(at, a) : bisect_left(at, b)])
                spans.append((chunk, a, b, blob or missing, words))
    out: dict[int, list[Sentence]] = {c.id: [] for c in chunks}
    if not spans:
        return out
    matrix = np.frombuffer(b"".join(s[3] for s in spans), dtype=np.float16)
    matrix = matrix.reshape(len(spans), len(qv)).astype(np.float32)
    cosines = (matrix @ qv).tolist()
    for (chunk, a, b, _, words), vector, cosine in zip(spans, matrix, cosines, strict=True):
        text = chunk.text[a - chunk.start : b - chunk.start]
        out[chunk.id].append(Sentence(a, b, text, vector, cosine, words))
    return out


def _blend(
    ids: list[int], signals: list[dict[int, float]], weights: list[float]
) -> dict[int, float]:
    """Weighted mean of signals, each min-max scaled over this query's candidates (0..1)."""
    total = {i: 0.0 for i in ids}
    for signal, weight in zip(signals, weights, strict=True):
        if not weight:
            continue
        values = [signal.get(i, 0.0) for i in ids]
        low, high = min(values), max(values)
        span = (high - low) or 1.0
        for i, v in zip(ids, values, strict=True):
            total[i] += weight * (v - low) / span
    return {i: v / sum(weights) for i, v in total.items()}


def _diversify(ranked: list[int], chunks: dict, k: int, per_doc: int) -> list[int]:
    """Top k with at most `per_doc` chunks of one document (relaxed if too few documents)."""
    chosen: list[int] = []
    count: dict[int, int] = {}
    for i in ranked:
        doc = chunks[i].doc
        if count.get(doc, 0) < per_doc:
            chosen.append(i)
            count[doc] = count.get(doc, 0) + 1
        if len(chosen) == k:
            return chosen
    # Fewer documents than k / per_doc: fill with the best remaining rather than return less.
    chosen += [i for i in ranked if i not in chosen][: k - len(chosen)]
    return chosen
