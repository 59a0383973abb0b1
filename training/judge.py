"""Fit the answer judge (`rag.judge`) for a reader folder: `python -m training.judge FOLDER`.

The judge learns from questions answered through the real pipeline: each corpus is
indexed (real model, real FAISS and SQLite) in a work folder, each question retrieved and
read exactly as answering does (`rag.extractive.judged`), and every sentence the reader
read becomes a row of the judge's features, labelled by whether it holds a gold answer.
The corpora, none of which the reader trained on:
- news articles with questions written for training (`--synth`, the news_synth format);
- the held-out SQuAD 2.0 articles of the QA sets (`--qa`; answerable and unanswerable
  Wikipedia questions; the benchmark's Super Bowl article never);
- the real news set (`--news`, shared/bench/news_qa over its saved pages), split in two
  folds by article.
`pick` (does this sentence answer?) is fitted on every candidate row, `sure` (is the best
one right?) on every question, then Platt-scaled on the real news questions' out-of-fold
scores, since news is what the product answers. The real-news figures reported are out of
fold by article: both models and the scaling are fitted without the fold measured. The
thresholds come from those out-of-fold scores: `answer_at` answers all but
`MAX_FALSE_ABSTAIN` of the answerable news questions, `unsure_at` leaves `MAX_NOT_FOUND` of
them not found, `join_at` lets a further sentence join when it more likely answers than
not. It writes `judge.json` (coefficients, thresholds, the report) into the folder. The
seed questions and the SQuAD Super Bowl set are never used here.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.evaluate import CONFIDENCE_BANDS, calibration
from rag.judge import FEATURES, FORMAT, JUDGE_FILE, SURE_INPUTS, log_odds, scaled, sure_inputs

from .judge_cases import (
    READ,
    Case,
    answer_cases,
    load_cases,
    news_corpus,
    read_questions,
    save_cases,
    squad_corpus,
    synth_corpus,
)

MAX_FALSE_ABSTAIN = 0.03  # answerable news questions the answer threshold may withhold
MAX_NOT_FOUND = 0.02  # answerable news questions the not-found threshold may give up on
JOIN_PRECISION = 0.25  # joining sentences must hold a gold answer at least this often
FOLDS = 2


def fit_pick(cases: list[Case]) -> Any:
    """Logistic regression over every read sentence: does it hold a gold answer?"""
    from sklearn.linear_model import LogisticRegression

    rows = [row for c in cases for row in c.rows]
    labels = [y for c in cases for y in c.labels]
    return LogisticRegression(C=1.0, max_iter=3000).fit(rows, labels)


def picked(model: Any, case: Case) -> list[float]:
    return [float(p) for p in model.predict_proba(case.rows)[:, 1]]


def right(case: Case, chosen: list[float]) -> int:
    """Whether the sentence `pick` likes best holds a gold answer of an answerable question."""
    best = max(range(len(chosen)), key=chosen.__getitem__)
    return int(case.answerable and case.labels[best] == 1)


def fit_sure(cases: list[Case], pick: Any) -> Any:
    """Logistic regression over SURE_INPUTS: is the best sentence right?"""
    from sklearn.linear_model import LogisticRegression

    inputs, labels = [], []
    for c in cases:
        chosen = picked(pick, c)
        inputs.append(sure_inputs(c.rows, chosen))
        labels.append(right(c, chosen))
    return LogisticRegression(C=1.0, max_iter=5000).fit(inputs, labels)


def raw_confidence(sure: Any, pick: Any, case: Case) -> tuple[float, int]:
    """(the sure model's probability, whether the best sentence is right)."""
    chosen = picked(pick, case)
    return float(sure.predict_proba([sure_inputs(case.rows, chosen)])[0, 1]), right(case, chosen)


def fit_scale(scores: list[float], rights: list[int]) -> tuple[float, float]:
    """Platt scaling: (a, b) so that logistic(a * logit(score) + b) matches `rights`."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=100.0).fit([[log_odds(s)] for s in scores], rights)
    return float(model.coef_[0][0]), float(model.intercept_[0])


def folds(cases: list[Case]) -> list[int]:
    """Each news case's fold, by article: the articles in sorted order, dealt round."""
    docs = sorted({c.doc for c in cases})
    of = {d: i % FOLDS for i, d in enumerate(docs)}
    return [of[c.doc] for c in cases]


@dataclass
class Scored:
    confidence: float
    right: int
    answerable: bool
    second: float  # the second best `pick` probability (what a join needs)
    second_right: int


def raw_out_of_fold(measured: list[Case], others: list[Case]) -> list[Scored]:
    """`measured` scored by pick and sure models fitted on `others` and the other folds of
    `measured` (by article); confidences not yet scaled."""
    fold_of = folds(measured)
    out: list[Scored | None] = [None] * len(measured)
    for k in range(FOLDS):
        train = others + [c for c, f in zip(measured, fold_of, strict=True) if f != k]
        pick = fit_pick(train)
        sure = fit_sure(train, pick)
        for i, (c, f) in enumerate(zip(measured, fold_of, strict=True)):
            if f != k:
                continue
            chosen = picked(pick, c)
            order = sorted(range(len(chosen)), key=lambda j: -chosen[j])
            second = chosen[order[1]] if len(order) > 1 else 0.0
            second_right = int(len(order) > 1 and c.answerable and c.labels[order[1]] == 1)
            score, ok = raw_confidence(sure, pick, c)
            out[i] = Scored(score, ok, c.answerable, second, second_right)
    return [s for s in out if s is not None]


def with_scale(scored: list[Scored], scale: tuple[float, float]) -> list[Scored]:
    return [
        Scored(scaled(s.confidence, scale), s.right, s.answerable, s.second, s.second_right)
        for s in scored
    ]


def cross_scaled(scored: list[Scored], fold_of: list[int]) -> list[Scored]:
    """Each fold scaled by a Platt scale fitted on the other folds."""
    out: list[Scored] = []
    for k in range(FOLDS):
        fit_on = [s for s, f in zip(scored, fold_of, strict=True) if f != k]
        scale = fit_scale([s.confidence for s in fit_on], [s.right for s in fit_on])
        out += with_scale([s for s, f in zip(scored, fold_of, strict=True) if f == k], scale)
    return out


def thresholds(scored: list[Scored]) -> tuple[float, float, float]:
    """(answer_at, unsure_at, join_at) from out-of-fold news scores."""
    answerable = sorted(s.confidence for s in scored if s.answerable)
    answer_at = answerable[int(MAX_FALSE_ABSTAIN * len(answerable))]
    unsure_at = answerable[int(MAX_NOT_FOUND * len(answerable))]
    join_at = 1.0  # the lowest bar down to which the joined sentences stay right enough
    for bar in [x / 20 for x in range(19, 0, -1)]:
        joined = [s for s in scored if s.confidence >= answer_at and s.second >= bar]
        if not joined:
            continue
        if sum(s.second_right for s in joined) / len(joined) < JOIN_PRECISION:
            break
        join_at = bar
    return round(answer_at, 4), round(unsure_at, 4), join_at


def reliability(scored: list[Scored]) -> dict[str, Any]:
    """Accuracy per confidence band and the expected calibration error (as `rag eval`
    computes them, `rag.evaluate.calibration`)."""
    table, ece = calibration([(s.confidence, bool(s.right)) for s in scored])
    bands = [
        {
            "band": f"{start:.1f}-{start + 1 / CONFIDENCE_BANDS:.1f}",
            "n": n,
            "confidence": round(mean, 3),
            "accuracy": round(share, 3),
        }
        for start, n, mean, share in table
    ]
    return {"bands": bands, "ece": round(ece, 4)}


def outcomes(scored: list[Scored], answer_at: float, unsure_at: float) -> dict[str, Any]:
    """What the thresholds make of these questions (first quote only)."""
    answerable = [s for s in scored if s.answerable]
    unanswerable = [s for s in scored if not s.answerable]
    shown = [s for s in scored if s.confidence >= answer_at]
    return {
        "questions": len(scored),
        "answerable": len(answerable),
        "answered_precision": round(sum(s.right for s in shown) / max(1, len(shown)), 3),
        "unanswerable_abstained": round(
            sum(s.confidence < answer_at for s in unanswerable) / max(1, len(unanswerable)), 3
        ),
        "false_abstain": round(
            sum(s.confidence < answer_at for s in answerable) / max(1, len(answerable)), 3
        ),
        "not_found_answerable": round(
            sum(s.confidence < unsure_at for s in answerable) / max(1, len(answerable)), 3
        ),
        "answer_first": round(
            sum(s.right for s in answerable if s.confidence >= answer_at)
            / max(1, sum(s.confidence >= answer_at for s in answerable)),
            3,
        ),
        "top1": round(sum(s.right for s in answerable) / max(1, len(answerable)), 3),
    }


def judge_file(
    pick: Any, sure: Any, scale: tuple[float, float], limits: tuple[float, float, float]
) -> dict[str, Any]:
    """What `rag.judge.load_judge` reads: the models, the scale and the thresholds
    (answer_at, unsure_at, join_at)."""
    answer_at, unsure_at, join_at = limits
    return {
        "format": FORMAT,
        "features": list(FEATURES),
        "sure_inputs": list(SURE_INPUTS),
        "pick": _model(pick),
        "sure": _model(sure),
        "scale": [round(scale[0], 6), round(scale[1], 6)],
        "answer_at": answer_at,
        "unsure_at": unsure_at,
        "join_at": join_at,
        "read": READ,
    }


def fit(
    news: list[Case], wiki: list[Case], synth: list[Case], news_raw: list[Scored]
) -> dict[str, Any]:
    """The judge fitted on everything, with its out-of-fold reports: real news (`news`,
    `news_raw` its `raw_out_of_fold` scores) and held-out Wikipedia (`wiki`), each measured
    by models fitted without its fold."""
    scale = fit_scale([s.confidence for s in news_raw], [s.right for s in news_raw])
    news_oof = cross_scaled(news_raw, folds(news))
    wiki_oof = with_scale(raw_out_of_fold(wiki, synth + news), scale)
    limits = thresholds(news_oof)
    answer_at, unsure_at, _ = limits
    pick = fit_pick(synth + wiki + news)
    sure = fit_sure(synth + wiki + news, pick)
    return {
        **judge_file(pick, sure, scale, limits),
        "fitted_on": {
            "news_synth": len(synth),
            "squad_heldout": len(wiki),
            "news_qa": len(news),
        },
        "report": {
            "news_out_of_fold": {
                **outcomes(news_oof, answer_at, unsure_at),
                **reliability(news_oof),
            },
            "wikipedia_out_of_fold": {
                **outcomes(wiki_oof, answer_at, unsure_at),
                **reliability(wiki_oof),
            },
        },
    }


def fold_judges(
    news: list[Case], wiki: list[Case], synth: list[Case], news_raw: list[Scored]
) -> list[dict[str, Any]]:
    """Per fold of the real news questions, a judge fitted without that fold: its models,
    its scale and its thresholds all from the other folds (for `rag eval` out of fold)."""
    fold_of = folds(news)
    news_oof = cross_scaled(news_raw, fold_of)
    judges = []
    for k in range(FOLDS):
        rest = [c for c, f in zip(news, fold_of, strict=True) if f != k]
        rest_oof = [s for s, f in zip(news_oof, fold_of, strict=True) if f != k]
        pick = fit_pick(synth + wiki + rest)
        sure = fit_sure(synth + wiki + rest, pick)
        raw = [raw_confidence(sure, pick, c) for c in rest]
        scale = fit_scale([score for score, _ in raw], [ok for _, ok in raw])
        judges.append({**judge_file(pick, sure, scale, thresholds(rest_oof)), "fold": k})
    return judges


def write_folds(out: Path, reader: Path, judges: list[dict[str, Any]], news: Path) -> None:
    """`out/fold-K/`: the reader's files with fold K's judge, and fold K's news questions."""
    import shutil

    questions = read_questions(news / "questions.jsonl")
    docs = sorted({str(q.get("doc", "")) for q in questions})
    of = {d: i % FOLDS for i, d in enumerate(docs)}
    for judge in judges:
        folder = out / f"fold-{judge['fold']}"
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(reader, folder, ignore=shutil.ignore_patterns(JUDGE_FILE))
        (folder / JUDGE_FILE).write_text(json.dumps(judge, indent=1) + "\n", encoding="utf-8")
        mine = [q for q in questions if of[str(q.get("doc", ""))] == judge["fold"]]
        text = "".join(json.dumps(q) + "\n" for q in mine)
        (folder / "questions.jsonl").write_text(text, encoding="utf-8")


CARD_SECTION = "## The judge (judge.json)"


def card_section(judge: dict[str, Any]) -> str:
    """The model card's account of the judge: what it was fitted on, its thresholds and its
    out-of-fold reliability per domain."""
    fitted = judge["fitted_on"]
    lines = [
        CARD_SECTION,
        "",
        "Fitted by `python -m training.judge` (training/judge.py) on "
        f"{fitted['news_synth']} questions over news articles written for training "
        f"(training/news_synth/judge), {fitted['squad_heldout']} SQuAD 2.0 questions of the "
        f"held-out articles (CC BY-SA 4.0) and the {fitted['news_qa']} real news questions of "
        "shared/bench/news_qa, two folds by article; the seed questions and the SQuAD Super "
        "Bowl set never. Thresholds: answer at a confidence of "
        f"{judge['answer_at']}, unsure from {judge['unsure_at']}, a second quote joins at "
        f"{judge['join_at']}; the reader reads {judge['read']} sentences.",
    ]
    for name, report in judge["report"].items():
        lines += [
            "",
            f"{name.replace('_', ' ')}: "
            + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in report.items() if k != "bands"),
            "",
            "| band | questions | mean confidence | first quote right |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {b['band']} | {b['n']} | {b['confidence']} | {b['accuracy']} |"
            for b in report["bands"]
        ]
    return "\n".join(lines) + "\n"


def write_card(folder: Path, judge: dict[str, Any]) -> None:
    """Replace (or add) the judge's section at the end of the folder's MODEL_CARD.md."""
    card = folder / "MODEL_CARD.md"
    text = card.read_text(encoding="utf-8") if card.is_file() else ""
    text = text.split(CARD_SECTION)[0].rstrip()
    card.write_text((text + "\n\n" if text else "") + card_section(judge), encoding="utf-8")


def _model(model: Any) -> dict[str, Any]:
    return {
        "coef": [round(float(c), 6) for c in model.coef_[0]],
        "intercept": round(float(model.intercept_[0]), 6),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m training.judge", description=__doc__.splitlines()[0]
    )
    parser.add_argument("folder", type=Path, help="the reader folder; judge.json is written there")
    parser.add_argument("--qa", type=Path, required=True, help="the QA sets (shared/data/qa)")
    parser.add_argument(
        "--news", type=Path, required=True, help="the news set (shared/bench/news_qa)"
    )
    parser.add_argument(
        "--synth",
        type=Path,
        action="append",
        required=True,
        help="news articles with questions (news_synth format; repeatable)",
    )
    parser.add_argument(
        "--work",
        type=Path,
        required=True,
        help="a folder for the indexes and the cases (reused when present)",
    )
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    cases: dict[str, list[Case]] = {}
    corpora: list[tuple[str, Any]] = [
        ("news", lambda out: read_questions(news_corpus(args.news, out))),
        ("wiki", lambda out: squad_corpus(args.qa, out)),
        *[
            (f"synth{i}", lambda out, f=f: read_questions(synth_corpus(f, out)))
            for i, f in enumerate(args.synth)
        ],
    ]
    for name, make in corpora:
        cached = args.work / f"{name}.cases.jsonl"
        if not cached.is_file():
            questions = make(args.work / name)
            save_cases(cached, answer_cases(name, args.work / name, questions, args.folder))
        cases[name] = load_cases(cached)
        print(f"{name}: {len(cases[name])} questions", file=sys.stderr)
    synth = [c for name, found in cases.items() if name.startswith("synth") for c in found]
    news_raw = raw_out_of_fold(cases["news"], synth + cases["wiki"])  # one fit per fold
    judge = fit(cases["news"], cases["wiki"], synth, news_raw)
    (args.folder / JUDGE_FILE).write_text(json.dumps(judge, indent=1) + "\n", encoding="utf-8")
    write_card(args.folder, judge)
    # For measuring the product out of fold: `rag eval FOLD/questions.jsonl` with
    # RAG_READER_MODEL=FOLD for each fold (BENCHMARKS.md, "News").
    fold_files = fold_judges(cases["news"], cases["wiki"], synth, news_raw)
    write_folds(args.work, args.folder, fold_files, args.news)
    print(json.dumps(judge["report"], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
