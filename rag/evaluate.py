"""`rag eval`: answer a question file in one process and compute CONTRACT.md's metrics.

`load_questions(path)` checks the file line by line; `evaluate(index, questions, k)`
returns per-question records (the answer object plus "id" and what matched) and the
metrics, keeping retrieval (hit@k, MRR) and answering (answer hit, abstention) separate.
Matching uses `normalize_for_match`, the contract's normalization. It does not tune.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .clean import normalize_for_match
from .errors import QuestionFileError
from .extractive import answer_question
from .grounding import MARKER
from .loaded import LoadedIndex

MRR_DEPTH = 10
CONFIDENCE_BANDS = 10


@dataclass
class Question:
    id: str
    question: str
    answers: list[str]
    evidence: list[str]
    answerable: bool


def load_questions(path: Path) -> list[Question]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise QuestionFileError(f"Cannot read question file {path}: {e}") from e
    questions, seen = [], set()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path}, line {number}"
        try:
            data = json.loads(line)
        except ValueError as e:  # bad syntax, or an integer too long to convert
            reason = e.msg if isinstance(e, json.JSONDecodeError) else str(e)
            raise QuestionFileError(f"{where}: not valid JSON ({reason}).") from e
        if not isinstance(data, dict) or not isinstance(data.get("question"), str):
            raise QuestionFileError(f'{where}: needs an object with a "question" string.')
        answers, evidence = data.get("answers", []), data.get("evidence", [])
        if not all(
            isinstance(x, list) and all(isinstance(s, str) for s in x) for x in (answers, evidence)
        ):
            raise QuestionFileError(f'{where}: "answers" and "evidence" must be lists of strings.')
        qid = str(data.get("id", number))
        if qid in seen:
            raise QuestionFileError(f"{where}: duplicate id {qid!r}.")
        seen.add(qid)
        answerable = data.get("answerable", bool(answers))
        if not isinstance(answerable, bool):
            raise QuestionFileError(f'{where}: "answerable" must be true or false.')
        if not data["question"].strip():
            raise QuestionFileError(f"{where}: the question is empty.")
        questions.append(Question(qid, data["question"], answers, evidence, answerable))
    if not questions:
        raise QuestionFileError(f"{path} holds no questions.")
    return questions


def contains_answer(answer: str, gold: list[str]) -> bool:
    """Whether the answer text holds one of the gold answers (already in match form), its
    [n] markers left out: "[2]" is not the answer "2"."""
    text = normalize_for_match(MARKER.sub("", answer))
    return any(g in text for g in gold)


def evaluate(
    index: LoadedIndex, questions: list[Question], k: int, *, mode: str = "extractive"
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Answer every question (`mode` "llm": with the local model of `index.settings`)."""
    records = []
    doc_text: dict[str, str] = {}
    for q in questions:
        if mode == "llm":
            from .llm import answer_with_llm

            result = answer_with_llm(index, q.question, k, depth=MRR_DEPTH)
        else:
            result = answer_question(index, q.question, k, depth=MRR_DEPTH)
        record = result.to_json()
        record["id"] = q.id
        evidence = [normalize_for_match(e) for e in q.evidence]
        gold = [normalize_for_match(a) for a in q.answers]
        texts = [normalize_for_match(p.text) for p in result.passages]
        record["evidence_rank"] = next(
            (i + 1 for i, t in enumerate(texts) if any(e in t for e in evidence)), None
        )
        record["answer_hit"] = (not result.abstained) and contains_answer(result.answer, gold)
        # What a reply holds, whether shown as an answer or not: its quotes' text, and
        # whether its first quote holds a gold answer.
        record["holds_answer"] = q.answerable and contains_answer(result.answer, gold)
        record["first_holds"] = bool(
            q.answerable
            and result.citations
            and any(g in normalize_for_match(result.citations[0].quote) for g in gold)
        )
        record["cited_hit"] = any(
            g in normalize_for_match(c.quote) for c in result.citations for g in gold
        )
        valid = []
        for c in result.citations:
            if c.doc_id not in doc_text:
                doc = index.document_by_doc_id(c.doc_id)
                doc_text[c.doc_id] = doc["text"] if doc else ""
            valid.append(doc_text[c.doc_id][c.start : c.end] == c.quote)
        record["citations_valid"] = valid
        record["answerable"] = q.answerable
        records.append(record)
    return records, metrics(records)


def metrics(records: list[dict[str, Any]]) -> dict[str, Any]:
    answerable = [r for r in records if r["answerable"]]
    unanswerable = [r for r in records if not r["answerable"]]
    n = len(answerable) or 1

    def hit(k: int) -> float:
        return sum(1 for r in answerable if r["evidence_rank"] and r["evidence_rank"] <= k) / n

    citations = [v for r in records for v in r["citations_valid"]]
    words = [len(_strip_markers(r["answer"]).split()) for r in records if not r["abstained"]]
    latency = sorted(r["timings_ms"]["total"] for r in records)
    abstained_ok = sum(1 for r in unanswerable if r["abstained"])
    return {
        "questions": len(records),
        "answerable": len(answerable),
        "hit@1": round(hit(1), 3),
        "hit@3": round(hit(3), 3),
        "hit@5": round(hit(5), 3),
        "mrr": round(
            sum(
                1 / r["evidence_rank"]
                for r in answerable
                if r["evidence_rank"] and r["evidence_rank"] <= MRR_DEPTH
            )
            / n,
            3,
        ),
        "answer_hit": round(sum(r["answer_hit"] for r in answerable) / n, 3),
        "cited_answer_hit": round(sum(r["cited_hit"] for r in answerable) / n, 3),
        "citation_validity": round(sum(citations) / len(citations), 3) if citations else 1.0,
        "abstain_ok": f"{abstained_ok}/{len(unanswerable)}",
        "false_abstain": round(sum(r["abstained"] for r in answerable) / n, 3),
        "answer_words": statistics.median(words) if words else 0,
        "latency_p50_ms": round(_percentile(latency, 50), 1),
        "latency_p95_ms": round(_percentile(latency, 95), 1),
        **_outcome_metrics(records),
        **_abstention_metrics(records),
        **_llm_metrics(records),
    }


def _outcome_metrics(records: list[dict[str, Any]]) -> dict[str, Any]:
    """CONTRACT.md's answer first and answered precision, the outcomes counted, and how
    well `confidence` (the probability that the shown quote answers) matches how often the
    first quote holds a gold answer: per band of 0.1 and the expected calibration error."""
    answered = [r for r in records if not r["abstained"]]
    answerable = [r for r in answered if r["answerable"]]
    first = sum(r.get("first_holds", False) for r in answerable)
    right = sum(r.get("holds_answer", False) for r in answered)
    out: dict[str, Any] = {
        "answer_first": round(first / len(answerable), 3) if answerable else 0.0,
        "answered_precision": round(right / len(answered), 3) if answered else 0.0,
        "outcomes": {
            o: sum(r.get("outcome") == o for r in records)
            for o in ("answered", "unsure", "not_found")
        },
    }
    rated = [r for r in records if r.get("confidence") is not None and r.get("citations")]
    if rated:
        table, ece = calibration([(r["confidence"], bool(r["first_holds"])) for r in rated])
        out["reliability"] = [[start, n, round(m, 3), round(s, 3)] for start, n, m, s in table]
        out["calibration_error"] = round(ece, 3)
    return out


def calibration(
    rated: list[tuple[float, bool]],
) -> tuple[list[tuple[float, int, float, float]], float]:
    """How well confidences match outcomes: per band of 1/CONFIDENCE_BANDS (the last one
    holding 1.0), (band start, count, mean confidence, share right), and the expected
    calibration error (the bands' gaps weighted by their counts)."""
    bands: dict[int, list[tuple[float, bool]]] = {}
    for confidence, right in rated:
        at = min(int(confidence * CONFIDENCE_BANDS), CONFIDENCE_BANDS - 1)
        bands.setdefault(at, []).append((confidence, right))
    table, ece = [], 0.0
    for band, inside in sorted(bands.items()):
        mean = sum(c for c, _ in inside) / len(inside)
        share = sum(r for _, r in inside) / len(inside)
        ece += len(inside) / len(rated) * abs(mean - share)
        table.append((band / CONFIDENCE_BANDS, len(inside), mean, share))
    return table, ece


def _abstention_metrics(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Which rule withheld each extractive answer (`abstain_reason`), as [unanswerable
    questions, answerable ones] per rule: what each rule catches and what it costs."""
    counts: dict[str, list[int]] = {}
    for r in records:
        if r.get("abstain_reason"):
            counts.setdefault(r["abstain_reason"], [0, 0])[bool(r["answerable"])] += 1
    return {"abstained_by": dict(sorted(counts.items()))} if counts else {}


def _llm_metrics(records: list[dict[str, Any]]) -> dict[str, Any]:
    """For LLM-mode runs: how often the model's answer was kept, how grounded, how fast.

    `grounded` is the mean share of supported sentences over the answers the model wrote
    (not abstentions); an answer with none supported counts 0 and falls back to extractive.
    """
    ran = [r["llm"] for r in records if r.get("llm")]
    if not ran:
        return {}
    checked = [x["grounded"] for x in ran if x.get("grounded") is not None]
    seconds = sum(x["tokens"] / x["tokens_per_s"] for x in ran if x.get("tokens_per_s"))
    return {
        "llm_model": ran[0].get("model", ""),
        "llm_answers": sum(1 for r in records if r.get("mode") == "llm"),
        "llm_fallbacks": sum(1 for r in records if r.get("llm") and r.get("mode") != "llm"),
        "llm_unavailable": sum(1 for r in records if not r.get("llm")),
        "grounded": round(statistics.mean(checked), 3) if checked else 0.0,
        "tokens_per_s": round(sum(x["tokens"] for x in ran) / seconds, 1) if seconds else 0.0,
    }


def _strip_markers(text: str) -> str:
    import re

    return re.sub(r"\s*\[\d+\]", "", text)


def _percentile(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    i = min(len(values) - 1, max(0, round(pct / 100 * (len(values) - 1))))
    return values[i]


def format_metrics(m: dict[str, Any]) -> str:
    rows = [
        ("questions (answerable)", f"{m['questions']} ({m['answerable']})"),
        ("hit@1 / hit@3 / hit@5", f"{m['hit@1']:.3f} / {m['hit@3']:.3f} / {m['hit@5']:.3f}"),
        ("MRR", f"{m['mrr']:.3f}"),
        ("answer hit", f"{m['answer_hit']:.3f}"),
        ("cited answer hit", f"{m['cited_answer_hit']:.3f}"),
        ("citation validity", f"{m['citation_validity']:.3f}"),
        ("abstain ok", m["abstain_ok"]),
        ("false abstain", f"{m['false_abstain']:.3f}"),
        ("answer words (median)", str(m["answer_words"])),
        ("answer first", f"{m['answer_first']:.3f}"),
        ("answered precision", f"{m['answered_precision']:.3f}"),
        (
            "answered / unsure / not found",
            " / ".join(str(m["outcomes"][o]) for o in ("answered", "unsure", "not_found")),
        ),
        ("latency p50 / p95 ms", f"{m['latency_p50_ms']} / {m['latency_p95_ms']}"),
    ]
    if "calibration_error" in m:
        rows.append(("calibration error (ECE)", f"{m['calibration_error']:.3f}"))
    if "abstained_by" in m:
        rows.append(
            (
                "abstained by (ok / false)",
                " · ".join(
                    f"{rule} {ok}/{false}" for rule, (ok, false) in m["abstained_by"].items()
                ),
            )
        )
    if "llm_model" in m:
        rows += [
            ("LLM model", m["llm_model"]),
            (
                "LLM answers / fallbacks / down",
                f"{m['llm_answers']} / {m['llm_fallbacks']} / {m['llm_unavailable']}",
            ),
            ("grounded (mean share)", f"{m['grounded']:.3f}"),
            ("tokens per second", f"{m['tokens_per_s']}"),
        ]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)
