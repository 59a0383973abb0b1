"""docs/contract.md documents every key of the answer object that real answers carry.

The key tables are read from the document itself, then compared with answers made by the
real code: extractive ones (answered and abstained) from the seed index with the real
model, and local-LLM ones through the HTTP backend and a scripted local server (as in
test_llm.py). A key in an answer and not in the document, or an "always" key missing from
an answer, fails.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from helpers import ROOT, SHARED
from test_llm import QUESTION, first_sentence, llm_settings, passages_of, server  # noqa: F401

from rag import NOT_IN_SOURCES, api
from rag.cli import main
from rag.settings import Settings

DOC = ROOT / "docs" / "contract.md"


def key_table(after: str) -> dict[str, str]:
    """{key: its "present" cell, or ""} of the first table after the line starting `after`."""
    lines = DOC.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(after))
    rows: dict[str, str] = {}
    for line in lines[start + 1 :]:
        if not line.startswith("|"):
            if rows:
                break
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        key = re.fullmatch(r"`([\w@]+)`", cells[0])
        if key:
            rows[key[1]] = cells[2] if len(cells) == 4 else ""
    assert rows, f"no key table after {after!r} in {DOC}"
    return rows


TOP = key_table("## The answer object")
CITATION = key_table("`citations[]`")
PASSAGE = key_table("`passages[]`")
SENTENCE = key_table("`sentences[]`")
LLM = key_table("`llm`:")
TIMINGS = key_table("`timings_ms`:")


def documented(answer: dict[str, Any]) -> None:
    assert set(answer) <= set(TOP), f"undocumented keys: {set(answer) - set(TOP)}"
    always = {k for k, present in TOP.items() if present == "always"}
    assert always <= set(answer), f"missing always-keys: {always - set(answer)}"
    assert set(answer["timings_ms"]) <= set(TIMINGS)
    assert {k for k, present in TIMINGS.items() if present == "always"} <= set(answer["timings_ms"])
    for citation in answer["citations"]:
        assert set(citation) == set(CITATION)
    for passage in answer["passages"]:
        assert set(passage) == set(PASSAGE)
    for sentence in answer.get("sentences", []):
        assert set(sentence) == set(SENTENCE)
    if "llm" in answer:
        assert set(answer["llm"]) <= set(LLM), set(answer["llm"]) - set(LLM)


def test_the_tables_were_read() -> None:
    assert {"question", "answer", "abstained", "confidence", "note", "llm"} <= set(TOP)
    assert {"quote", "start", "end"} <= set(CITATION) and "similarity" in PASSAGE
    assert "supported" in SENTENCE and "tokens_per_s" in LLM


@pytest.mark.slow
def test_extractive_answers_carry_the_documented_keys(real_index) -> None:
    answered = api.answer(QUESTION, real_index.settings).to_json()
    abstained = api.answer("What is the tallest mountain in Africa?", real_index.settings)
    assert not answered["abstained"] and abstained.abstained
    documented(answered)
    documented(abstained.to_json())
    assert "confidence" in answered  # the trained reader chose


@pytest.mark.parametrize("reply", ["supported", "unsupported", "abstained"])
def test_local_llm_answers_carry_the_documented_keys(
    reply: str,
    llm_settings: Settings,  # noqa: F811
    server,  # noqa: F811
) -> None:
    replies = {
        "supported": lambda body: f"{first_sentence(passages_of(body)[1])} [1]",
        "unsupported": lambda body: "Brazil won the 2022 World Cup [1].",
        "abstained": lambda body: NOT_IN_SOURCES,
    }
    server.reply = replies[reply]
    answer = api.answer(QUESTION, llm_settings).to_json()
    assert "llm" in answer
    documented(answer)


def test_the_document_names_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    listed = capsys.readouterr().out.split("positional arguments:")[1].split("\noptions:")[0]
    commands = re.findall(r"^    ([a-z][\w-]+)", listed, flags=re.M)
    assert "bench" in commands and "train-reader" in commands
    text = DOC.read_text(encoding="utf-8")
    assert all(f"`rag {name}" in text for name in commands), commands


def test_the_shared_contract_keys_are_kept() -> None:
    shared = SHARED / "CONTRACT.md"
    if not shared.exists():
        pytest.skip("../shared is not beside this checkout")
    block = shared.read_text(encoding="utf-8").split("```json", 1)[1].split("```", 1)[0]
    keys = set(TOP) | set(CITATION) | set(PASSAGE) | set(TIMINGS)
    assert set(re.findall(r'"(\w+)":', block)) <= keys
