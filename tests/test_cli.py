"""Tests for the `rag` command (CONTRACT.md), run as a real subprocess.

Tests marked slow use the real embedding model and the session's `real_index` (the seeds,
indexed once by `rag index`). The rest fail before any model is needed and are fast.
Every run happens in a tmp folder with explicit --index / RAG_INDEX.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import (
    SEED_QUESTIONS,
    SEED_SOURCES,
    RealIndex,
    run_cli,
    run_python,
)
from test_formats import NEWS_PAGE

import rag
from rag import api
from rag.clean import clean
from rag.cli import main
from rag.extractive import ABSTAIN_NOTE
from rag.formats import read_source
from rag.indexing import MANIFEST, VECTORS_FILE, read_manifest

COURT_QUESTION = "When did Russia's Supreme Court lift the ban on the Taliban?"
OFF_TOPIC = "Who won the 2022 FIFA World Cup?"
SUMMARY = re.compile(
    r"^documents: (\d+) added, (\d+) updated, (\d+) removed, (\d+) unchanged; "
    r"(\d+) chunks; \d+\.\d s$"
)
CITATION_KEYS = {"n", "doc_id", "title", "publisher", "date", "url", "quote", "start", "end"}
PASSAGE_KEYS = {"rank", "doc_id", "title", "text", "score", "start", "end"}
ANSWER_KEYS = {"question", "answer", "abstained", "citations", "passages", "timings_ms"}


def assert_one_line_error(stderr: str, *needles: str) -> str:
    """Exactly one `error:` line, no traceback; returns that line."""
    assert "Traceback" not in stderr, stderr
    errors = [ln for ln in stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1, stderr
    assert stderr.rstrip("\n").splitlines()[-1] == errors[0]
    for needle in needles:
        assert needle in errors[0], errors[0]
    return errors[0]


def assert_answer_object(data: dict, settings: rag.Settings, k: int) -> None:
    """CONTRACT.md's answer object; every quote and passage is verbatim in its document."""
    assert set(data) >= ANSWER_KEYS
    assert isinstance(data["answer"], str) and data["answer"]
    assert isinstance(data["abstained"], bool)
    assert {"retrieve", "answer", "total"} <= set(data["timings_ms"])
    assert all(isinstance(v, (int, float)) and v >= 0 for v in data["timings_ms"].values())
    passages = data["passages"]
    assert len(passages) >= k
    assert [p["rank"] for p in passages] == list(range(1, len(passages) + 1))
    for p in passages:
        assert set(p) >= PASSAGE_KEYS
        doc = api.document(settings, p["doc_id"])
        assert doc is not None and p["title"] == doc["title"]
        assert doc["text"][p["start"] : p["end"]] == p["text"]
        assert isinstance(p["score"], (int, float))
    for n, c in enumerate(data["citations"], 1):
        assert set(c) >= CITATION_KEYS and c["n"] == n
        doc = api.document(settings, c["doc_id"])
        assert doc is not None
        assert doc["text"][c["start"] : c["end"]] == c["quote"]
        assert (c["title"], c["publisher"], c["date"], c["url"]) == (
            doc["title"],
            doc["publisher"],
            doc["date"],
            doc["url"],
        )
        assert f"[{n}]" in data["answer"]
    if data["abstained"]:
        assert data["answer"] == rag.NOT_IN_SOURCES


# --- fast: help and errors that need no model -----------------------------------------------


def test_help_does_not_import_heavy_modules(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from rag.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit as e:\n    code = e.code\n"
        "heavy = ['torch', 'sentence_transformers', 'transformers', 'faiss', 'gradio', "
        "'tiktoken', 'onnxruntime', 'bench']\n"  # bench: loaded by `rag bench` alone
        "print('EXIT', code, 'HEAVY', [m for m in heavy if m in sys.modules])\n"
    )
    done = run_python(code, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "EXIT 0 HEAVY []"
    assert "usage: rag" in done.stdout


def test_console_script_help(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "rag"
    assert script.exists()
    done = subprocess.run(
        [str(script), "--help"], capture_output=True, text=True, cwd=tmp_path, timeout=120
    )
    assert done.returncode == 0
    for word in ("index", "ask", "eval", "serve", "extract", "RAG_INDEX", "RAG_SOURCES", "RAG_K"):
        assert word in done.stdout
    for command, flags in [
        ("index", ["--sources", "--index", "--rebuild"]),
        ("ask", ["--index", "-k", "--json"]),
        ("eval", ["--index", "-k", "--out", "--json"]),
        ("serve", ["--host", "--port"]),
        ("extract", ["PATH", "--json"]),
    ]:
        sub = run_cli(command, "--help", cwd=tmp_path)
        assert sub.returncode == 0
        for flag in flags:
            assert flag in sub.stdout, (command, flag)


def test_no_command_prints_help(tmp_path: Path) -> None:
    done = run_cli(cwd=tmp_path)
    assert done.returncode == 2 and "usage: rag" in done.stdout


def test_missing_index_and_no_sources(tmp_path: Path) -> None:
    done = run_cli(
        "ask",
        "What happened?",
        "--index",
        str(tmp_path / "no-index"),
        "--sources",
        str(tmp_path / "no-sources"),
        cwd=tmp_path,
    )
    assert done.returncode == 1
    assert_one_line_error(done.stderr, "no-sources", "not found")
    assert done.stdout == ""
    assert not (tmp_path / "no-index").exists()  # nothing is created for a wrong path
    # The same through RAG_* variables, and for `rag index`.
    env = {"RAG_INDEX": str(tmp_path / "no-index"), "RAG_SOURCES": str(tmp_path / "no-sources")}
    done = run_cli("index", cwd=tmp_path, env=env)
    assert done.returncode == 1
    assert_one_line_error(done.stderr, "no-sources", "not found")
    assert not (tmp_path / "sources").exists() and not (tmp_path / "index").exists()


def test_empty_sources_folder(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    done = run_cli(
        "index",
        "--sources",
        str(tmp_path / "empty"),
        "--index",
        str(tmp_path / "idx"),
        cwd=tmp_path,
    )
    assert done.returncode == 1
    assert_one_line_error(done.stderr, "Nothing to index", "empty")
    assert read_manifest(tmp_path / "idx") is None


def test_bad_question_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "question": "ok?"}\n{"id": "b", "question": \n', encoding="utf-8")
    done = run_cli("eval", str(bad), "--index", str(tmp_path / "idx"), cwd=tmp_path)
    assert done.returncode == 1
    assert_one_line_error(done.stderr, "bad.jsonl", "line 2", "not valid JSON")
    missing = run_cli(
        "eval", str(tmp_path / "nope.jsonl"), "--index", str(tmp_path / "idx"), cwd=tmp_path
    )
    assert missing.returncode == 1
    assert_one_line_error(missing.stderr, "nope.jsonl")


@pytest.mark.parametrize("k", ["0", "51", "-3"])
def test_k_out_of_range(tmp_path: Path, k: str) -> None:
    done = run_cli("ask", "What happened?", "-k", k, "--index", str(tmp_path / "idx"), cwd=tmp_path)
    assert done.returncode == 1
    assert_one_line_error(done.stderr, "k")
    assert not (tmp_path / "idx").exists()  # refused before anything was built


def test_bad_environment_value(tmp_path: Path) -> None:
    done = run_cli(
        "ask",
        "What happened?",
        "--index",
        str(tmp_path / "idx"),
        cwd=tmp_path,
        env={"RAG_K": "lots"},
    )
    assert done.returncode == 1
    assert_one_line_error(done.stderr, "RAG_K", "lots")


def test_non_integer_k_is_a_usage_error(tmp_path: Path) -> None:
    done = run_cli("ask", "What happened?", "-k", "abc", cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "invalid int value" in done.stderr


# --- rag extract (no model, no index) -------------------------------------------------------

EXTRACT_KEYS = ["file", "title", "publisher", "author", "date", "url", "text"]


def test_extract_json_is_what_the_index_would_hold(tmp_path: Path) -> None:
    seed = SEED_SOURCES / "000_bc0cf055e4f1d4cb.txt"
    page = tmp_path / "pages" / "bridge.html"
    page.parent.mkdir()
    page.write_text(NEWS_PAGE, encoding="utf-8")
    feed = tmp_path / "feed.jsonl"
    feed.write_text(
        '{"id": "a", "title": "One", "text": "The first story is here."}\n'
        '{"id": "b", "title": "Two", "text": "The second story is here."}\n',
        encoding="utf-8",
    )
    done = run_cli("extract", "--json", str(seed), str(page.parent), str(feed), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [list(line) for line in lines] == [EXTRACT_KEYS] * 4
    assert [line["file"] for line in lines] == [str(seed), str(page), str(feed), str(feed)]
    # The seed: its sidecar's metadata and exactly the text the index chunks and quotes.
    (doc,), _ = read_source(seed, seed.parent)
    assert lines[0]["text"] == clean(doc.text).text
    assert (lines[0]["title"], lines[0]["date"]) == (doc.title, doc.date) and doc.date
    assert lines[1]["title"] == "Harbour bridge reopens after two years"
    assert lines[1]["text"].startswith("Harbour bridge reopens after two years\n\nThe swing")
    assert "Ferry" not in lines[1]["text"]
    assert [line["title"] for line in lines[2:]] == ["One", "Two"]
    assert sorted(tmp_path.iterdir()) == [feed, page.parent]  # nothing indexed or written


def test_extract_readable_form(tmp_path: Path) -> None:
    page = tmp_path / "bridge.html"
    page.write_text(NEWS_PAGE, encoding="utf-8")
    done = run_cli("extract", str(page), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"== {page}"
    assert "title:     Harbour bridge reopens after two years" in lines
    assert "publisher: The Kelvedon Courier" in lines
    assert "The harbour master, Orla Pennant" in done.stdout


def test_extract_names_each_bad_file_and_shows_the_rest(tmp_path: Path) -> None:
    good = tmp_path / "good.txt"
    good.write_text("The ferry resumed service on Monday.\n", encoding="utf-8")
    (tmp_path / "latin1.html").write_bytes(b"<p>Caf\xe9 society reopens.</p>")
    (tmp_path / "menu.html").write_text("<nav>Home News</nav><script>x()</script>")
    (tmp_path / "meta.txt").write_text("A story.\n")
    (tmp_path / "meta.txt.meta.yaml").write_text("title: [unclosed\n")
    names = ["missing.txt", "latin1.html", "good.txt", "menu.html", "meta.txt"]
    done = run_cli("extract", "--json", *(str(tmp_path / n) for n in names), cwd=tmp_path)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert [json.loads(line)["file"] for line in done.stdout.splitlines()] == [str(good)]
    *errors, sidecar = done.stderr.splitlines()
    assert errors == [
        f"error: {tmp_path / 'missing.txt'}: No such file or directory",
        f"error: {tmp_path / 'latin1.html'}: not valid UTF-8 text (byte 0xe9 at offset 6)",
        f"error: {tmp_path / 'menu.html'}: no text found",
    ]
    assert sidecar.startswith(f"error: {tmp_path / 'meta.txt.meta.yaml'}: bad YAML in sidecar")


# --- slow: the real model -------------------------------------------------------------------


@pytest.mark.slow
def test_index_prints_the_summary_line(real_index: RealIndex) -> None:
    assert real_index.returncode == 0
    assert "Traceback" not in real_index.stderr
    last = real_index.stdout.strip().splitlines()[-1]
    match = SUMMARY.match(last)
    assert match, last
    added, updated, removed, unchanged, chunks = map(int, match.groups())
    assert (added, updated, removed, unchanged) == (5, 0, 0, 0)
    m = read_manifest(real_index.index)
    assert m is not None and chunks == m.counts["chunks"] > 5
    # The default embeds documents with the model's int8 copy (rag.embed.get_query_encoder).
    assert m.shape.model == "all-MiniLM-L6-v2+onnx-int8-per-channel"
    assert m.shape.dim == 384


@pytest.mark.slow
def test_index_again_is_a_no_op(real_index: RealIndex, tmp_path: Path) -> None:
    index = tmp_path / "index"
    shutil.copytree(real_index.index, index)
    before = read_manifest(index)
    done = run_cli(
        "index", "--sources", str(real_index.sources), "--index", str(index), cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    match = SUMMARY.match(done.stdout.strip().splitlines()[-1])
    assert match and tuple(map(int, match.groups()[:4])) == (0, 0, 0, 5)
    assert read_manifest(index) == before


@pytest.mark.slow
def test_ask_json_is_the_contract_answer_object(real_index: RealIndex, tmp_path: Path) -> None:
    done = run_cli("ask", COURT_QUESTION, "--json", "--index", str(real_index.index), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["question"] == COURT_QUESTION
    assert_answer_object(data, real_index.settings, k=5)
    assert data["abstained"] is False
    assert "[1]" in data["answer"] and "April 17, 2025" in data["answer"]
    assert data["citations"] and "April 17, 2025" in data["citations"][0]["quote"]
    assert data["citations"][0]["doc_id"] == "002_a4725ca1221cdf27.txt"


@pytest.mark.slow
def test_ask_human_output_cites_sources(
    real_index: RealIndex, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # In-process (the same `main` the console script calls), so the model loads once here.
    monkeypatch.setenv("RAG_INDEX", str(real_index.index))
    assert main(["ask", COURT_QUESTION, "-k", "3"]) == 0
    out = capsys.readouterr().out
    answer, _, sources = out.partition("\nSources:\n")
    assert "[1]" in answer and "April 17, 2025" in answer
    assert sources.startswith("[1] Russia's Supreme Court lifts the ban on the Afghan Taliban")
    assert "“On April 17, 2025" in sources


@pytest.mark.slow
def test_ask_shows_each_outcome(
    real_index: RealIndex, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Answered (with its confidence), unsure (a lead, labelled as one) and not found, with
    the judge's confidence pinned between and under its thresholds."""
    from rag.extractive import UNSURE_LEAD
    from rag.judge import Judge
    from rag.reader import get_reader

    judge = get_reader().judge
    args = ["ask", COURT_QUESTION, "--index", str(real_index.index)]
    assert main(args) == 0
    answered = capsys.readouterr().out
    assert re.search(r"^\(confidence \d+% that the first quote answers\)$", answered, re.M)
    assert "\nSources:\n[1]" in answered and "a lead, not an answer" not in answered
    between = (judge.unsure_at + judge.answer_at) / 2
    monkeypatch.setattr(Judge, "confidence", lambda self, rows, picked: between)
    assert main(args) == 0
    unsure = capsys.readouterr().out
    assert unsure.startswith(UNSURE_LEAD + " ") and "[1]" in unsure.splitlines()[0]
    assert "\nClosest quote (a lead, not an answer):\n[1] " in unsure
    assert ABSTAIN_NOTE in unsure and "\nSources:" not in unsure
    assert main([*args, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["outcome"] == data["abstain_reason"] == "unsure" and data["abstained"]
    assert len(data["citations"]) == 1
    monkeypatch.setattr(Judge, "confidence", lambda self, rows, picked: judge.unsure_at / 2)
    assert main([*args, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["outcome"], data["answer"], data["citations"]) == (
        "not_found",
        rag.NOT_IN_SOURCES,
        [],
    )


@pytest.mark.slow
def test_off_topic_question_abstains(
    real_index: RealIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ask", OFF_TOPIC, "--index", str(real_index.index)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == rag.NOT_IN_SOURCES
    assert lines[1].startswith("Even the closest sentence is far from the question")
    assert ABSTAIN_NOTE in out
    assert "(1) " in out  # the closest passages are still listed
    assert "Sources:" not in out
    assert main(["ask", OFF_TOPIC, "--json", "--index", str(real_index.index)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert_answer_object(data, real_index.settings, k=5)
    assert data["abstained"] is True and data["answer"] == rag.NOT_IN_SOURCES
    assert data["abstain_reason"] == "off_topic" and data["note"] == lines[1]


@pytest.mark.slow
def test_empty_question_is_refused(real_index: RealIndex, tmp_path: Path) -> None:
    done = run_cli("ask", "   ", "--index", str(real_index.index), cwd=tmp_path)
    assert done.returncode == 1
    assert_one_line_error(done.stderr, "empty")


@pytest.mark.slow
def test_mismatched_and_corrupt_index_errors(real_index: RealIndex, tmp_path: Path) -> None:
    done = run_cli(
        "ask",
        COURT_QUESTION,
        "--index",
        str(real_index.index),
        cwd=tmp_path,
        env={"RAG_CHUNK_TOKENS": "64"},
    )
    assert done.returncode == 1
    assert_one_line_error(done.stderr, "rag index --rebuild", "chunk_tokens")
    broken = tmp_path / "broken"
    shutil.copytree(real_index.index, broken)
    generation = broken / json.loads((broken / MANIFEST).read_text())["generation"]
    (generation / VECTORS_FILE).write_bytes(b"not a faiss index")
    done = run_cli("ask", COURT_QUESTION, "--index", str(broken), cwd=tmp_path)
    assert done.returncode == 1
    assert_one_line_error(done.stderr, "rag index --rebuild")


@pytest.mark.slow
def test_eval_writes_one_answer_object_per_question(real_index: RealIndex, tmp_path: Path) -> None:
    out = tmp_path / "results.jsonl"
    done = run_cli(
        "eval",
        str(SEED_QUESTIONS),
        "--index",
        str(real_index.index),
        "--out",
        str(out),
        "--json",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    questions = [
        json.loads(ln)
        for ln in SEED_QUESTIONS.read_text(encoding="utf-8").splitlines()
        if ln.strip()
    ]
    records = [json.loads(ln) for ln in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in records] == [q["id"] for q in questions]
    for r, q in zip(records, questions, strict=True):
        assert r["question"] == q["question"]
        assert_answer_object(r, real_index.settings, k=5)
    by_id = {r["id"]: r for r in records}
    court = by_id["s002-01"]
    assert not court["abstained"] and "April 17, 2025" in court["answer"]
    assert "[1]" in court["answer"]
    fifa = by_id["u-11"]
    assert fifa["abstained"] is True and fifa["answer"] == rag.NOT_IN_SOURCES
    metrics = json.loads(done.stdout)
    assert metrics["questions"] == len(questions)
    assert metrics["citation_validity"] == 1.0
    for key in (
        "hit@1",
        "hit@3",
        "hit@5",
        "mrr",
        "answer_hit",
        "cited_answer_hit",
        "abstain_ok",
        "false_abstain",
        "answer_words",
        "latency_p50_ms",
        "latency_p95_ms",
    ):
        assert key in metrics
    assert metrics["hit@5"] >= metrics["hit@3"] >= metrics["hit@1"] > 0
