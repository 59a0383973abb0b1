"""Calibrate the exported reader on the held-out splits, and measure it there.

Each held-out group (`data.split`: SQuAD articles never trained on, QED dev, SelQA dev)
becomes a one-passage `Retrieved`: its sentences with their cosines to the question from
the project's own encoders, so `rag.cheap_scorer.score_sentences` (the cheap scorer) ranks them
exactly as it ranks retrieved sentences. The reader then scores the cheap ranking's top
sentences, and this module chooses, on these splits only (never on the project's question
sets):
- how many of the cheap ranking's sentences the reader reorders and how much the cheap
  score counts in the fused score (best top-sentence accuracy, averaged over the splits);
- whether to read on past the shortlist when none of its logits reaches a bar, and to
  how many sentences (`choose_extension`: the best mean accuracy, if any beats none);
- the join margin (further sentences within it of the best join the answer);
- the cosine floor: the highest best-sentence cosine under which at most
  `MAX_FALSE_ABSTAIN` of each split's answerable questions fall (`fit_floor`), and how many
  questions it refuses when asked of the split's nearest other article instead;
- the abstention model: a logistic regression over `abstain_features` predicting whether
  any candidate answers (SQuAD 2.0's unanswerable questions are the negatives), fitted on all
  held-out splits with two folds by article for the reported numbers, and its threshold:
  the highest probability at which at most `MAX_FALSE_ABSTAIN` of the answerable
  held-out questions of each split (whose answer is among the candidates) are refused.
It writes the result into `reader.json` and returns a report (metrics per split, the
abstention curve). It does not train or export.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from rag.errors import ModelError
from rag.judge import standardized
from rag.lexical import content_words
from rag.reader import Reader

from .data import Group, embed_groups, load_groups, without_answer
from .export import FP32

SHORTLISTS = (4, 6, 8, 10, 12)
CHEAP_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)
JOIN_MARGINS = (0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0)
MAX_FALSE_ABSTAIN = 0.01  # share of answerable held-out questions the threshold may refuse
SPLITS = ("squad-heldout", "qed-dev", "selqa-dev")
# Reading on: when no logit of the shortlist reaches one of these bars, the reader reads the
# ranking's first EXTEND_TO sentences (at most max(SHORTLISTS): what a case holds logits for).
EXTEND_BELOW = (-3.0, -2.0, -1.0, 0.0, 1.0)
EXTEND_TO = (8, 12)
# Reading on: (bar, sentences), or None: the reader never reads on.
Extend = tuple[float, int] | None


def extension(cal: dict[str, Any]) -> Extend:
    """The reading on recorded in a reader.json calibration (None: it reads no further)."""
    below = cal.get("extend_below")
    return None if below is None else (float(below), int(cal.get("extend_to", 0)))


def reads(logits: list[float], extend_below: float | None, extend_to: int) -> int:
    """How many of the cheap ranking's sentences the reader reads, given its `logits` for
    the shortlist: more when none of them reads as an answer."""
    if extend_below is None or not logits or max(logits) >= extend_below:
        return len(logits)
    return max(len(logits), extend_to)


# Held-out measures of the reader alone: its logit fused with the cheap score (top-1
# accuracy) and a logistic abstention over these signals. Answering orders and decides with
# the judge (`rag.judge`, fitted by `training.judge`), which takes both signals as features.


def fuse(logits: list[float], cheap: list[float], weight: float) -> list[float]:
    """Each list z-normalized over the shortlist, then added."""
    return [a + weight * b for a, b in zip(standardized(logits), standardized(cheap), strict=True)]


def abstain_features(logits: list[float], best_cosine: float) -> list[float]:
    """The best reader logit, its lead over the second, and the best sentence cosine."""
    ordered = sorted(logits, reverse=True)
    lead = ordered[0] - ordered[1] if len(ordered) > 1 else 0.0
    return [ordered[0], lead, best_cosine]


FLOOR_CURVE = (0.2, 0.25, 0.3, 0.35, 0.4)  # cosine floors the report shows the effect of


@dataclass
class Case:
    """One held-out question: the cheap ranking and the reader's logits over its top."""

    group: Group
    cheap: list[float]  # cheap scores, best first
    labels: list[int]  # whether each ranked sentence answers
    texts: list[str]
    best_cosine: float
    # The best cosine among the sentences of the split's other articles: the question asked
    # of the closest wrong article, an off-topic question the cosine floor should refuse
    # (None: the split has no other article).
    other_cosine: float | None
    logits: list[float]  # for the top max(SHORTLISTS) of the ranking


def build_cases(groups: list[Group], reader: Reader) -> list[Case]:
    """Rank each group's sentences with the cheap scorer (through the reader's question
    adapter, as answering does) and read the top ones."""
    import numpy as np

    from rag.cheap_scorer import score_sentences
    from rag.embed import DEFAULT_MODEL
    from rag.retrieve import Retrieved, Sentence
    from rag.types import Passage

    q_at, vectors = embed_groups(groups)
    other_at = nearest_other_article(groups, q_at, vectors)
    cases = []
    for g, other_cosine in zip(groups, other_at, strict=True):
        qv = q_at[g.question]
        text, sentences, label_at = "", [], {}
        q_words = content_words(g.question)
        for s, y in zip(g.sentences, g.labels, strict=True):
            v = vectors[s]
            start = len(text)
            text += s + " "
            label_at[start] = y
            sentences.append(
                Sentence(
                    start,
                    start + len(s),
                    s,
                    v,
                    float(np.dot(v, qv)),
                    frozenset(content_words(s) & q_words),
                )
            )
        passage = Passage(
            1,
            0,
            g.article,
            g.article,
            "",
            "",
            "",
            text,
            0,
            len(text),
            1.0,
            [(s.start, s.end) for s in sentences],
        )
        adapted = reader.adapt(qv, DEFAULT_MODEL)
        ranked = score_sentences(Retrieved(g.question, qv, [passage], {1: sentences}), adapted)
        labels = [label_at[r.sentence.start] for r in ranked]
        if not ranked or (g.answerable and not any(labels)):
            continue  # the answer is in no quotable sentence: nothing to learn here
        texts = [r.sentence.text for r in ranked]
        cases.append(
            Case(
                g,
                [r.score for r in ranked],
                labels,
                texts,
                max(s.cosine for s in sentences),
                other_cosine,
                reader.logits(g.question, texts[: max(SHORTLISTS)]),
            )
        )
    return cases


def nearest_other_article(
    groups: list[Group], q_at: dict[str, Any], vectors: dict[str, Any]
) -> list[float | None]:
    """Per group, the best cosine of its question to a sentence of another article of
    its split (a sentence its own article also holds does not count), or None when the
    split has no other article."""
    import numpy as np

    best: list[float | None] = []
    # Per split: its sentence vectors, and the rows of each article's sentences.
    by_split: dict[str, tuple[Any, dict[str, set[int]]]] = {}
    for g in groups:
        if g.split not in by_split:
            here = [h for h in groups if h.split == g.split]
            at = {t: i for i, t in enumerate(dict.fromkeys(t for h in here for t in h.sentences))}
            own: dict[str, set[int]] = {}
            for h in here:
                own.setdefault(h.article, set()).update(at[t] for t in h.sentences)
            by_split[g.split] = (np.stack([vectors[t] for t in at]).astype(np.float32), own)
        matrix, own = by_split[g.split]
        cosines = matrix @ np.asarray(q_at[g.question], dtype=np.float32)
        mine = own[g.article]
        cosines[list(mine)] = -np.inf
        best.append(float(cosines.max()) if len(cosines) > len(mine) else None)
    return best


def fit_floor(cases: list[Case]) -> float:
    """The highest cosine floor (3 decimals) under which at most MAX_FALSE_ABSTAIN of the
    answerable held-out questions of every split have their best sentence."""

    import numpy as np

    asked = [c for c in cases if c.group.answerable and not c.group.answer_removed]
    if not asked:
        raise ModelError("The held-out splits need answerable questions.")
    lowest = min(
        float(np.quantile([c.best_cosine for c in asked if c.group.split == s], MAX_FALSE_ABSTAIN))
        for s in {c.group.split for c in asked}
    )
    return math.floor(lowest * 1000) / 1000


def fused_order(
    case: Case, shortlist: int, weight: float, extend: Extend = None
) -> tuple[list[int], list[float]]:
    """Indexes of the case's ranking after the reader reorders its top `shortlist` (or as
    many as `extend` makes it read on to), with the fused scores of those reordered."""
    logits = read_logits(case, shortlist, extend)
    n = len(logits)
    fused = fuse(logits, case.cheap[:n], weight)
    order = sorted(range(n), key=lambda i: -fused[i])
    return order + list(range(n, len(case.cheap))), [fused[i] for i in order]


def read_logits(case: Case, shortlist: int, extend: Extend = None) -> list[float]:
    """The logits of the sentences the reader reads for `case`, as answering does: its
    shortlist's, and on past it as `extend` says."""
    first = case.logits[:shortlist]
    return case.logits[: reads(first, *extend)] if extend else first


def first_answers(case: Case, shortlist: int, weight: float, extend: Extend = None) -> int:
    """1 when the case's first sentence after reordering answers, else 0."""
    return case.labels[fused_order(case, shortlist, weight, extend)[0][0]]


def accuracy(cases: list[Case], shortlist: int, weight: float, extend: Extend = None) -> float:
    """Share of answerable cases whose top sentence answers."""
    answerable = [c for c in cases if c.group.answerable]
    hits = sum(first_answers(c, shortlist, weight, extend) for c in answerable)
    return hits / max(1, len(answerable))


def choose_extension(by_split: dict[str, list[Case]], shortlist: int, weight: float) -> Extend:
    """The extension with the best mean held-out accuracy, if one beats reading the
    shortlist alone (ties go to the one that reads less)."""

    def mean(extend: Extend) -> float:
        return sum(accuracy(by_split[s], shortlist, weight, extend) for s in SPLITS) / len(SPLITS)

    options: list[Extend] = [(b, t) for t in EXTEND_TO if t > shortlist for b in EXTEND_BELOW]
    scores = {option: mean(option) for option in options}
    best = max(scores.values(), default=0.0)
    if best <= mean(None):
        return None
    return next(option for option in options if scores[option] == best)


def fit_abstention(cases: list[Case], shortlist: int, extend: Extend = None) -> dict[str, Any]:
    """The logistic model, its threshold, and two-fold (by article) held-out metrics."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    x = np.asarray(
        [abstain_features(read_logits(c, shortlist, extend), c.best_cosine) for c in cases]
    )
    # Whether the candidates hold an answer: what abstaining must tell apart.
    y = np.asarray([int(c.group.answerable) for c in cases])
    if len(set(y.tolist())) < 2:
        raise ModelError("The held-out splits need answerable and unanswerable questions.")
    model = LogisticRegression(C=1.0).fit(x, y)
    full = model.predict_proba(x)[:, 1]
    fold = np.asarray([hash_fold(c.group.article) for c in cases])
    held = full.copy()  # a fold whose other half lacks a class keeps the full model's
    for k in (0, 1):
        rest = fold != k
        if len(set(y[rest].tolist())) == 2 and (~rest).any():
            part = LogisticRegression(C=1.0).fit(x[rest], y[rest])
            held[~rest] = part.predict_proba(x[~rest])[:, 1]
    answerable = y.astype(bool)
    splits = np.asarray([c.group.split for c in cases])
    # The highest threshold that refuses at most MAX_FALSE_ABSTAIN of the answerable
    # questions of every held-out domain (not just of them all).
    threshold = min(
        float(np.quantile(full[answerable & (splits == s)], MAX_FALSE_ABSTAIN))
        for s in set(splits[answerable].tolist())
    )
    return {
        "coef": [round(float(c), 6) for c in model.coef_[0]],
        "intercept": round(float(model.intercept_[0]), 6),
        "threshold": round(threshold, 4),
        "heldout_probability": held,
    }


def hash_fold(article: str) -> int:
    import hashlib

    return hashlib.sha256(article.encode()).digest()[0] % 2


def report(cases: list[Case], cal: dict[str, Any]) -> dict[str, Any]:
    """Per split: top-sentence accuracy (reader and cheap), answer hit with joins, and
    abstention at the chosen threshold from the two-fold probabilities and at the cosine
    floor; plus the threshold's curve and the floor's."""
    import numpy as np

    shortlist, weight, margin = cal["shortlist"], cal["cheap_weight"], cal["join_margin"]
    extend = extension(cal)
    prob, threshold = cal["heldout_probability"], cal["threshold"]
    out: dict[str, Any] = {}
    for split in SPLITS:
        # The split's own questions; the answer-removed copies are reported on their own.
        here = [i for i, c in enumerate(cases) if c.group.split == split]
        idx = [i for i in here if not cases[i].group.answer_removed]
        removed = [i for i in here if cases[i].group.answer_removed]
        sub = [cases[i] for i in idx]
        ans = [i for i in idx if cases[i].group.answerable]
        un = [i for i in idx if not cases[i].group.answerable]
        refused = [prob[i] < threshold for i in idx]
        answered_right = [
            prob[i] >= threshold and first_answers(cases[i], shortlist, weight, extend) for i in idx
        ]
        under_floor, other_under_floor = under(cases, split, cal["cosine_floor"])
        out[split] = {
            "questions": len(idx),
            "unanswerable": len(un),
            "answer_removed": len(removed),
            "top1_cheap": round(accuracy(sub, 1, 1.0), 4),
            "top1_reader": round(accuracy(sub, shortlist, 0.0, extend), 4),
            "top1_fused": round(accuracy(sub, shortlist, weight, extend), 4),
            "hit_with_joins": round(joined_hit(sub, shortlist, weight, margin, extend)[0], 4),
            "false_abstain": round(sum(prob[i] < threshold for i in ans) / max(1, len(ans)), 4),
            "unanswerable_abstained": share(prob[i] < threshold for i in un),
            "answer_removed_abstained": share(prob[i] < threshold for i in removed),
            "abstain_precision": round(
                sum(not cases[i].group.answerable for i, r in zip(idx, refused, strict=True) if r)
                / max(1, sum(refused)),
                4,
            ),
            "answered_correct_share": round(sum(answered_right) / max(1, len(idx)), 4),
            "under_floor": under_floor,
            "other_article_under_floor": other_under_floor,
        }
    answerable = np.asarray([c.group.answerable for c in cases])
    derived = np.asarray([c.group.answer_removed for c in cases])
    curve = []
    for t in (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6):
        curve.append(
            {
                "threshold": t,
                "false_abstain": round(float((prob[answerable] < t).mean()), 4),
                "unanswerable_abstained": round(
                    float((prob[~answerable & ~derived] < t).mean()), 4
                ),
                "answer_removed_abstained": round(float((prob[derived] < t).mean()), 4),
            }
        )
    out["curve"] = curve
    out["floor_curve"] = [
        {"floor": f, **{s: list(under(cases, s, f)) for s in SPLITS}} for f in FLOOR_CURVE
    ]
    return out


def under(cases: list[Case], split: str, floor: float) -> tuple[float | None, float | None]:
    """What a cosine `floor` refuses of `split`: (share of its answerable questions, share
    of its questions asked of the closest sentences of another article)."""
    asked = [c for c in cases if c.group.split == split and not c.group.answer_removed]
    return (
        share(c.best_cosine < floor for c in asked if c.group.answerable),
        share(c.other_cosine < floor for c in asked if c.other_cosine is not None),
    )


def share(flags: Iterable[bool]) -> float | None:
    """Share of true `flags` (4 decimals); None when there are none."""
    seen = list(flags)
    return round(sum(seen) / len(seen), 4) if seen else None


def joined_hit(
    cases: list[Case], shortlist: int, weight: float, margin: float, extend: Extend = None
) -> tuple[float, float]:
    """(share of answerable cases where any chosen sentence answers, mean sentences chosen):
    the best, and up to three more within `margin` of its fused score."""
    hits, chosen = 0, 0
    answerable = [c for c in cases if c.group.answerable]
    for c in answerable:
        order, fused = fused_order(c, shortlist, weight, extend)
        picked = [order[0]] + [
            order[i] for i in range(1, min(4, len(fused))) if fused[i] >= fused[0] - margin
        ]
        hits += any(c.labels[i] for i in picked)
        chosen += len(picked)
    return hits / max(1, len(answerable)), chosen / max(1, len(answerable))


def heldout_cases(folder: Path, data: Path, limit: int = 0) -> list[Case]:
    """The held-out splits of `data` read by the reader in `folder` (the first `limit`
    questions of each split when set: smoke tests)."""
    groups = [g for g in load_groups(data) if g.split in SPLITS]
    if limit:
        groups = [g for s in SPLITS for g in [g for g in groups if g.split == s][:limit]]
    removed = [without_answer(g) for g in groups if g.answerable]
    groups += [g for g in removed if g.answer_removed]
    return build_cases(groups, Reader(folder, calibrated=False))


def calibrate(
    folder: Path, data: Path, limit: int = 0, cases: list[Case] | None = None
) -> dict[str, Any]:
    """Calibrate the reader in `folder` on `cases` (default: `heldout_cases`) and write
    the result into its reader.json."""
    cases = heldout_cases(folder, data, limit) if cases is None else cases
    by_split = {s: [c for c in cases if c.group.split == s] for s in SPLITS}
    grid = {
        (n, w): sum(accuracy(by_split[s], n, w) for s in SPLITS) / len(SPLITS)
        for n in SHORTLISTS
        for w in CHEAP_WEIGHTS
    }
    best = max(grid.values())
    # The shortest shortlist within half a point of the best: each sentence costs time.
    shortlist, weight = min(
        (k for k, v in grid.items() if v >= best - 0.005), key=lambda k: (k[0], -grid[k])
    )
    extend = choose_extension(by_split, shortlist, weight)
    joins = {m: joined_hit(cases, shortlist, weight, m, extend) for m in JOIN_MARGINS}
    # The widest margin that keeps answers to about two sentences on average.
    margin = max((m for m, (_, n) in joins.items() if n <= 2.0), default=0.0)
    cal = {
        "shortlist": shortlist,
        "cheap_weight": weight,
        "join_margin": margin,
        "extend_below": extend[0] if extend else None,
        "extend_to": extend[1] if extend else 0,
        "max_false_abstain": MAX_FALSE_ABSTAIN,
    }
    cal["cosine_floor"] = fit_floor(cases)
    cal.update(fit_abstention(cases, shortlist, extend))
    result = report(cases, cal)
    result["grid"] = {f"{n}/{w}": round(v, 4) for (n, w), v in grid.items()}
    result["joins"] = {str(m): [round(h, 4), round(n, 3)] for m, (h, n) in joins.items()}
    if (folder / FP32).exists():  # what int8 costs: the same cases read in full precision
        full = Reader(folder, calibrated=False, model_file=FP32)
        top = max(SHORTLISTS)
        exact = [replace(c, logits=full.logits(c.group.question, c.texts[:top])) for c in cases]
        result["int8_vs_fp32"] = {
            s: [
                round(accuracy(by_split[s], shortlist, weight, extend), 4),
                round(
                    accuracy([c for c in exact if c.group.split == s], shortlist, weight, extend),
                    4,
                ),
            ]
            for s in SPLITS
        }
    meta_path = folder / "reader.json"
    meta = json.loads(meta_path.read_text())
    meta["calibration"] = {k: v for k, v in cal.items() if k != "heldout_probability"}
    meta["heldout"] = result
    meta_path.write_text(json.dumps(meta, indent=1) + "\n")
    return result
