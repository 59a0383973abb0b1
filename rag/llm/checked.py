"""The checked LLM answer: `answer_with_llm(index, question, k)`.

It retrieves like the extractive mode, fits the top passages into the model's context
(rag/llm/prompt.py), generates with the configured backend, and checks every sentence
against the passage it cites (rag/grounding.py). When the model cannot be used (file
missing, server down, library not installed) or none of its sentences is supported, the
extractive answer is returned with a `note` saying why; `Answer.llm` reports the run
either way. It never shows an unchecked sentence as supported.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ..clean import normalize_for_match
from ..extractive import NOT_IN_SOURCES, answer_question
from ..grounding import check_answer
from ..retrieve import retrieve
from ..settings import Settings
from ..types import Answer, LLMRun
from .base import Backend, LLMUnavailable, OnToken
from .factory import backend_for
from .prompt import fit_prompt

if TYPE_CHECKING:
    from ..loaded import LoadedIndex


def is_abstention(text: str) -> bool:
    """True when the model replied with the "not in the sources" sentence (or its start)."""
    said = normalize_for_match(text.replace("*", ""))
    sentinel = normalize_for_match(NOT_IN_SOURCES)
    return sentinel.rstrip(".") in said or said.startswith(" ".join(sentinel.split()[:5]))


def answer_with_llm(
    index: LoadedIndex,
    question: str,
    k: int | None = None,
    *,
    settings: Settings | None = None,
    depth: int = 0,
    backend: Backend | None = None,
    on_token: OnToken | None = None,
) -> Answer:
    """Answer with the local model, every sentence checked; extractive when it cannot.

    `depth` lists more passages (for MRR) without showing them to the model, as in
    `answer_question`.
    """
    settings = settings or index.settings
    k = k or settings.k
    started = time.perf_counter()
    retrieved = retrieve(index, question, max(k, depth))
    shown = retrieved.passages
    retrieved.passages = shown[:k]
    t_llm = time.perf_counter()
    try:
        backend = backend or backend_for(settings)
        fitted = fit_prompt(question, retrieved, backend.context_size(), settings.llm_max_tokens)
        if not fitted.given:
            raise LLMUnavailable(
                f"Not even one sentence of the passages fits the model's context "
                f"({backend.context_size()} tokens, {settings.llm_max_tokens} kept for the "
                "answer); raise llm_context or lower llm_max_tokens."
            )
        output = backend.generate(fitted.messages, settings.llm_max_tokens, on_token)
    except LLMUnavailable as e:
        return _extractive(index, question, k, depth, started, f"{e} Answered extractively.")
    t_check = time.perf_counter()
    run = LLMRun(backend.name, output, fitted.prompt_tokens, len(fitted.given))
    timings = {"retrieve": round(retrieved.ms, 2), "llm": round((t_check - t_llm) * 1000, 2)}
    if is_abstention(output.text) or not output.text.strip():
        done = time.perf_counter()
        return Answer(
            question=question,
            answer=NOT_IN_SOURCES,
            abstained=True,
            citations=[],
            passages=shown,
            timings_ms={**timings, "check": 0.0, "total": round((done - started) * 1000, 2)},
            mode="llm",
            sentences=[],
            llm=run,
        )
    checked = check_answer(output.text, fitted.given, index.query_encoder)
    run.grounded, run.removed_markers = checked.grounded, checked.removed_markers
    if checked.supported == 0:
        note = (
            f"The local model ({backend.name}) wrote an answer, but none of its sentences "
            "is backed by the passage it cites, so it is not shown. Answered extractively."
        )
        result = _extractive(index, question, k, depth, started, note)
        result.llm = run
        result.timings_ms["llm"] = timings["llm"]
        return result
    done = time.perf_counter()
    unsupported = len(checked.sentences) - checked.supported
    return Answer(
        question=question,
        answer=checked.answer,
        abstained=False,
        citations=checked.citations,
        passages=shown,
        timings_ms={
            **timings,
            "check": round((done - t_check) * 1000, 2),
            "total": round((done - started) * 1000, 2),
        },
        mode="llm",
        sentences=checked.sentences,
        grounded=checked.grounded,
        note=(
            f"{unsupported} of {len(checked.sentences)} sentences are not backed by the "
            "passage they cite; they are marked unsupported."
            if unsupported
            else ""
        ),
        llm=run,
    )


def _extractive(
    index: LoadedIndex, question: str, k: int, depth: int, started: float, note: str
) -> Answer:
    result = answer_question(index, question, k, depth=depth)
    # The fallback's reason first, then the extractive answer's own note (dates that
    # differ, why it abstained), which it must not hide.
    result.mode, result.note = "extractive", " ".join(filter(None, [note, result.note]))
    result.timings_ms["total"] = round((time.perf_counter() - started) * 1000, 2)
    return result
