"""Tests for rag.evaluate: question-file checks and CONTRACT.md's metrics."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag import NOT_IN_SOURCES, Settings
from rag.errors import QuestionFileError, RagError
from rag.evaluate import (
    MRR_DEPTH,
    Question,
    contains_answer,
    evaluate,
    format_metrics,
    load_questions,
    metrics,
)
from rag.indexing import build_index, open_index

SEED_QUESTIONS = Path(__file__).resolve().parent / "eval" / "seed_questions.jsonl"


def write(tmp_path: Path, *lines: object) -> Path:
    path = tmp_path / "questions.jsonl"
    path.write_text(
        "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n",
        encoding="utf-8",
    )
    return path


# --- load_questions -------------------------------------------------------------------------


def test_seed_questions_load() -> None:
    questions = load_questions(SEED_QUESTIONS)
    lines = [ln for ln in SEED_QUESTIONS.read_text(encoding="utf-8").splitlines() if ln.strip()]
    assert len(questions) == len(lines)
    assert len({q.id for q in questions}) == len(questions)
    assert all(q.question.strip() for q in questions)
    assert all(q.answers and q.evidence for q in questions if q.answerable)
    assert any(not q.answerable for q in questions)
    fifa = next(q for q in questions if "FIFA" in q.question)
    assert fifa.answerable is False and fifa.answers == []


def test_defaults_and_extra_keys(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        {"question": "Q one?", "answers": ["a"], "kind": "extra keys are fine"},
        "",
        {"question": "Q two?"},
        {"id": 7, "question": "Q three?", "answers": ["b"], "answerable": False},
    )
    q1, q2, q3 = load_questions(path)
    assert (q1.id, q1.answerable, q1.answers, q1.evidence) == ("1", True, ["a"], [])
    assert (q2.id, q2.answerable, q2.answers) == ("3", False, [])  # blank lines still count
    assert (q3.id, q3.answerable) == ("7", False)
    assert isinstance(q1, Question)


@pytest.mark.parametrize(
    ("lines", "line_no", "words"),
    [
        (['{"question": "ok?"}', '{"question": "ok?", ', '{"question": "x"}'], 2, "not valid JSON"),
        (['{"question": "ok?"}', "", "not json at all"], 3, "not valid JSON"),
        (['{"question": "q?", "n": ' + "9" * 5000 + "}"], 1, "not valid JSON"),
        (['{"id": "a", "answers": ["x"]}'], 1, '"question"'),
        (['{"question": 42}'], 1, '"question"'),
        (['["question", "a list"]'], 1, '"question"'),
        (['{"question": "q?", "answers": "April"}'], 1, '"answers"'),
        (['{"question": "q?", "evidence": [1, 2]}'], 1, '"evidence"'),
        (['{"question": "q?", "answerable": "yes"}'], 1, '"answerable"'),
    ],
)
def test_malformed_lines_name_the_line(
    tmp_path: Path, lines: list[str], line_no: int, words: str
) -> None:
    path = write(tmp_path, *lines)
    with pytest.raises(QuestionFileError) as info:
        load_questions(path)
    message = str(info.value)
    assert f"{path}, line {line_no}:" in message
    assert words in message


def test_duplicate_id(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        {"id": "q1", "question": "a?"},
        {"id": "q2", "question": "b?"},
        {"id": "q1", "question": "c?"},
    )
    with pytest.raises(QuestionFileError, match=r"line 3: duplicate id 'q1'"):
        load_questions(path)


def test_duplicate_of_a_default_id(tmp_path: Path) -> None:
    path = write(tmp_path, {"question": "a?"}, {"id": "1", "question": "b?"})
    with pytest.raises(QuestionFileError, match="duplicate id '1'"):
        load_questions(path)


@pytest.mark.parametrize("content", [b"", b"\n\n  \n"])
def test_no_questions(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_bytes(content)
    with pytest.raises(QuestionFileError, match="no questions"):
        load_questions(path)


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(QuestionFileError, match=r"missing\.jsonl"):
        load_questions(tmp_path / "missing.jsonl")
    bad = tmp_path / "latin1.jsonl"
    bad.write_bytes('{"question": "Café?"}'.encode("latin-1"))
    with pytest.raises(QuestionFileError, match=r"latin1\.jsonl"):
        load_questions(bad)
    with pytest.raises(RagError):
        load_questions(tmp_path)  # a folder


# --- metrics on hand-made records -----------------------------------------------------------


def record(
    *,
    answerable: bool,
    rank: int | None = None,
    answer: str = "An answer. [1]",
    abstained: bool = False,
    answer_hit: bool = False,
    cited_hit: bool = False,
    valid: list[bool] | None = None,
    total: float = 10.0,
) -> dict:
    return {
        "id": "x",
        "answerable": answerable,
        "evidence_rank": rank,
        "answer": answer,
        "abstained": abstained,
        "answer_hit": answer_hit,
        "cited_hit": cited_hit,
        "citations_valid": valid if valid is not None else [],
        "timings_ms": {"retrieve": 1.0, "answer": 1.0, "total": total},
    }


RECORDS = [
    record(
        answerable=True,
        rank=1,
        answer="On April 17, 2025 it happened. [1]",
        answer_hit=True,
        cited_hit=True,
        valid=[True],
        total=10,
    ),
    record(
        answerable=True,
        rank=3,
        answer="Something else entirely [1] and more [2]",
        valid=[True, False],
        total=20,
    ),
    record(answerable=True, rank=None, answer=NOT_IN_SOURCES, abstained=True, total=30),
    record(
        answerable=True,
        rank=7,
        answer="x y z [1]",
        answer_hit=True,
        cited_hit=False,
        valid=[True],
        total=40,
    ),
    record(answerable=False, answer=NOT_IN_SOURCES, abstained=True, total=50),
    record(answerable=False, answer="A wrong answer [1]", valid=[True], total=60),
]


def test_metrics_on_hand_made_records() -> None:
    m = metrics(RECORDS)
    assert m["questions"] == 6 and m["answerable"] == 4
    assert m["hit@1"] == 0.25
    assert m["hit@3"] == 0.5
    assert m["hit@5"] == 0.5
    assert m["mrr"] == round((1 + 1 / 3 + 1 / 7) / 4, 3)
    assert m["answer_hit"] == 0.5
    assert m["cited_answer_hit"] == 0.25
    assert m["citation_validity"] == 0.8  # 4 of 5 citations verbatim
    assert m["abstain_ok"] == "1/2"
    assert m["false_abstain"] == 0.25
    # Answer words: non-abstained answers without [n] markers: 6, 5, 3, 3 words.
    assert m["answer_words"] == 4
    assert m["latency_p50_ms"] in (30.0, 40.0)
    assert m["latency_p95_ms"] == 60.0


def test_metrics_count_each_abstention_rule_right_and_wrong() -> None:
    def refused(answerable: bool, reason: str) -> dict:
        return {
            **record(answerable=answerable, answer=NOT_IN_SOURCES, abstained=True),
            "abstain_reason": reason,
        }

    records = [
        refused(False, "off_topic"),
        refused(False, "off_topic"),
        refused(True, "unsure"),
        refused(False, "unsure"),
        record(answerable=True, rank=1, answer_hit=True),  # answered: no reason
    ]
    m = metrics(records)
    assert m["abstained_by"] == {"off_topic": [2, 0], "unsure": [1, 1]}
    assert "off_topic 2/0 · unsure 1/1" in format_metrics(m)
    # Runs whose answers carry no reason (an LLM's, an older run's) print no such row.
    assert "abstained_by" not in metrics(RECORDS)
    assert "abstained by" not in format_metrics(metrics(RECORDS))


def test_answer_hit_counts_only_answerable_questions() -> None:
    records = [
        record(answerable=True, rank=2, answer_hit=True),
        record(answerable=False, answer_hit=True),
    ]
    m = metrics(records)
    assert m["answer_hit"] == 1.0 and m["hit@1"] == 0.0 and m["hit@3"] == 1.0
    assert m["mrr"] == 0.5


def test_metrics_without_citations_or_answerable_questions() -> None:
    m = metrics([record(answerable=False, answer=NOT_IN_SOURCES, abstained=True)])
    assert m["citation_validity"] == 1.0
    assert m["abstain_ok"] == "1/1"
    assert m["hit@1"] == m["mrr"] == m["false_abstain"] == 0.0
    assert m["answer_words"] == 0


def test_answer_first_answered_precision_and_calibration_on_built_records() -> None:
    def shown(answerable: bool, first: bool, holds: bool, confidence: float, **more) -> dict:
        cited = {"citations": [{"n": 1}], "confidence": confidence, "outcome": "answered"}
        flags = {"first_holds": first, "holds_answer": holds}
        return {**record(answerable=answerable, rank=1), **cited, **flags, **more}

    records = [
        shown(True, True, True, 0.9),  # right, its first quote
        shown(True, False, True, 0.9),  # right, in its second quote only
        shown(False, False, False, 0.9),  # an unanswerable question answered: wrong
        shown(True, False, False, 0.1, abstained=True, outcome="unsure"),
        {**record(answerable=False, abstained=True), "outcome": "not_found"},
    ]
    m = metrics(records)
    assert m["answer_first"] == 0.5  # of the two answered answerable questions
    assert m["answered_precision"] == 0.667  # two of the three shown as answers
    assert m["outcomes"] == {"answered": 3, "unsure": 1, "not_found": 1}
    # Bands of the four replies with a quote: 0.9 (three, one first quote right), 0.1 (one,
    # wrong): |0.9 - 1/3| * 3/4 + |0.1 - 0| * 1/4.
    assert m["reliability"] == [[0.1, 1, 0.1, 0.0], [0.9, 3, 0.9, 0.333]]
    assert m["calibration_error"] == round(0.75 * (0.9 - 1 / 3) + 0.25 * 0.1, 3)
    text = format_metrics(m)
    assert "answered / unsure / not found  3 / 1 / 1" in text
    assert "calibration error (ECE)" in text
    assert "calibration_error" not in metrics(RECORDS)  # no confidence: nothing to rate


def test_a_citation_marker_is_not_a_gold_answer() -> None:
    assert not contains_answer("The team won ten games. [2]", ["2"])
    assert contains_answer("They won 2 titles [1], [2]", ["2"])
    assert contains_answer("“Он пришёл” 🙂 [1]", ['"он пришёл"'])  # match form both sides


def test_mrr_ignores_evidence_below_the_top_ten() -> None:
    m = metrics([record(answerable=True, rank=MRR_DEPTH + 2)])
    assert m["mrr"] == 0.0


def test_format_metrics_names_every_metric() -> None:
    text = format_metrics(metrics(RECORDS))
    for name in (
        "hit@1",
        "MRR",
        "answer hit",
        "cited answer hit",
        "citation validity",
        "abstain ok",
        "false abstain",
        "answer words",
        "latency",
    ):
        assert name in text
    assert "1/2" in text and "0.800" in text


# --- evaluate() over a real index built with the fake encoder --------------------------------


def test_evaluate_records_and_metrics(fake_settings: Settings) -> None:
    build_index(fake_settings)
    questions = [
        q
        for q in load_questions(SEED_QUESTIONS)
        if q.id in {"s002-01", "s001-03", "s003-02", "u-11", "u-12"}
    ]
    assert len(questions) == 5
    idx = open_index(fake_settings)
    try:
        records, m = evaluate(idx, questions, 3)
        assert [r["id"] for r in records] == [q.id for q in questions]
        for r, q in zip(records, questions, strict=True):
            assert {
                "question",
                "answer",
                "abstained",
                "citations",
                "passages",
                "timings_ms",
                "evidence_rank",
                "answer_hit",
                "cited_hit",
                "citations_valid",
                "answerable",
            } <= set(r)
            assert r["question"] == q.question and r["answerable"] == q.answerable
            assert len(r["passages"]) == MRR_DEPTH  # retrieved deeper than k, for MRR
            assert all(r["citations_valid"])
            assert len(r["citations_valid"]) == len(r["citations"])
            for c in r["citations"]:
                doc = idx.store.document_by_doc_id(c["doc_id"])
                assert doc["text"][c["start"] : c["end"]] == c["quote"]
            if r["evidence_rank"] is not None:
                assert 1 <= r["evidence_rank"] <= MRR_DEPTH
            json.dumps(r)  # a record is one JSON line
        assert m == metrics(records)
        assert m["questions"] == 5 and m["answerable"] == 3
        assert m["citation_validity"] == 1.0
    finally:
        idx.close()
