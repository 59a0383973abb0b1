"""Measurements of a built index: answer latency, peak memory, no-op re-index, cold start.

`serve_probe` opens an index and answers questions, timed; `probe_subprocess` runs it in
a fresh process (`python -m bench --serve-probe`) so that its peak RSS is the index's
alone. `noop_reindex` times `rag index` on an unchanged corpus and `cold_start` times a
`rag ask` and a `rag serve` process from start to answer. Child processes get the
measured settings as `RAG_*` variables and nothing else of the caller's `RAG_*`; they
never reach the network. Building the indexes they measure is `scaled`'s business.
"""

from __future__ import annotations

import json
import os
import resource
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from rag.settings import Settings

SERVE_PROBE = "--serve-probe"  # `python -m bench --serve-probe QUESTIONS --probe-index DIR`


def serve_probe(settings: Settings, questions: list[str], repeat: int = 1) -> dict[str, Any]:
    """Open the index, answer every question (after one warm-up), report latency and RSS."""
    from rag.extractive import answer_question
    from rag.indexing import open_index

    t0 = time.perf_counter()
    index = open_index(settings)
    open_s = time.perf_counter() - t0
    answer_question(index, questions[0])  # warm: model, caches
    times, cpu = [], []
    for _ in range(repeat):
        for q in questions:
            t, c = time.perf_counter(), time.process_time()
            answer_question(index, q)
            times.append((time.perf_counter() - t) * 1000)
            cpu.append((time.process_time() - c) * 1000)
    return {
        "open_s": round(open_s, 2),
        "queries": len(times),
        "p50_ms": round(percentile(times, 50), 1),
        "p95_ms": round(percentile(times, 95), 1),
        "cpu_p50_ms": round(percentile(cpu, 50), 1),
        "peak_rss_mb": round(peak_rss_mb(), 0),
    }


def serve_probe_main(argv: list[str]) -> int:
    """The child's side of `probe_subprocess`: argv is [QUESTIONS_JSON, "--probe-index", DIR]."""
    questions = json.loads(Path(argv[0]).read_text())
    settings = Settings.load(index=Path(argv[2]))
    print(json.dumps(serve_probe(settings, questions)))
    return 0


def probe_subprocess(settings: Settings, questions: list[str], work: Path) -> dict[str, Any]:
    """`serve_probe` in a fresh process, so that its peak RSS is the index's own."""
    qfile = work / "probe-questions.json"
    qfile.write_text(json.dumps(questions))
    done = subprocess.run(
        [sys.executable, "-m", "bench", SERVE_PROBE, str(qfile), "--probe-index",
         str(settings.index)],
        capture_output=True,
        text=True,
        env=child_env(settings),
        timeout=3600,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"serve probe failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def peak_rss_mb() -> float:
    """This process's peak resident memory in MB (VmHWM; ru_maxrss where /proc is absent)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(values: list[float], pct: float) -> float:
    """The nearest-rank `pct` percentile of `values` (0.0 when there are none)."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))]


def noop_reindex(settings: Settings, in_process: bool) -> dict[str, Any]:
    """Seconds of `rag index` on an unchanged corpus: in-process and as a CLI process."""
    from rag.indexing import build_index

    t = time.perf_counter()
    report = build_index(settings)
    out: dict[str, Any] = {
        "documents": report.unchanged,
        "seconds": round(time.perf_counter() - t, 3),
    }
    if report.added or report.updated or report.removed:
        out["changed"] = [report.added, report.updated, report.removed]
    if not in_process:
        t = time.perf_counter()
        done = rag_cli(
            ["index", "--sources", str(settings.sources), "--index", str(settings.index)], settings
        )
        out["cli_seconds"] = round(time.perf_counter() - t, 3)
        out["cli_ok"] = done.returncode == 0 and "0 added, 0 updated, 0 removed" in done.stdout
    return out


def cold_start(settings: Settings, question: str) -> dict[str, Any]:
    """Seconds from process start to a `rag ask` answer, and to `rag serve` answering HTTP."""
    out: dict[str, Any] = {}
    t = time.perf_counter()
    done = rag_cli(["ask", question, "--index", str(settings.index), "--json"], settings)
    out["ask_seconds"] = round(time.perf_counter() - t, 2)
    out["ask_ok"] = done.returncode == 0
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "rag.cli", "serve", "--index", str(settings.index),
         "--sources", str(settings.sources), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=child_env(settings),
    )  # fmt: skip
    try:
        deadline = time.time() + 180
        while time.time() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
                    if r.status == 200:
                        out["serve_seconds"] = round(time.perf_counter() - t, 2)
                        break
            except OSError:
                time.sleep(0.1)
    finally:
        stop(proc)
    return out


def stop(proc: subprocess.Popen[Any]) -> None:
    """End a child process: terminate, then kill it if it has not exited within 10 s."""
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def rag_cli(argv: list[str], settings: Settings) -> subprocess.CompletedProcess[str]:
    """`rag ARGV` as a child process under `settings` (interpreter start included)."""
    return subprocess.run(
        [sys.executable, "-m", "rag.cli", *argv],
        capture_output=True,
        text=True,
        env=child_env(settings),
        timeout=600,
    )


def child_env(settings: Settings) -> dict[str, str]:
    """The environment of a measured child: the caller's, with only `settings`' RAG_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(
        {
            "RAG_MODEL": settings.model,
            "RAG_ANN_THRESHOLD": str(settings.ann_threshold),
            # How answers are chosen is measured as set (RAG_ANSWER_READER=cosine ...).
            "RAG_ANSWER_READER": settings.answer_reader,
            "RAG_READER_MODEL": settings.reader_model,
            "RAG_READER_THRESHOLD": str(settings.reader_threshold),
            # The ONNX copies already exported, not a second export timed as a cold start.
            "RAG_ONNX_CACHE": settings.onnx_cache,
            "RAG_PROGRESS": "0",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
        }
    )
    return env
