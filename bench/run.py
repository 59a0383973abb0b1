"""One benchmark run: synthesize, build, measure every size, and collect the results.

`run` calls the steps in order (`corpus`, `throughput`, `scaled` and `probes`, `compare`)
inside the scratch folder and returns the result dict that `rag bench --json` prints; its
keys are the contract BENCHMARKS.md and tests/test_bench.py read. Partial results are
written to WORK/results.partial.json after each step, in case a long run is stopped.
Parsing flags is `cli`'s business; printing is `report`'s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rag.settings import Settings

from .compare import txtai_compare
from .corpus import (
    corpus_sentences,
    default_corpus,
    default_questions,
    load_bench_questions,
    synthesize,
)
from .probes import cold_start, noop_reindex, probe_subprocess, serve_probe
from .report import machine
from .scaled import recall_at_10, scaled_index
from .throughput import measure_build

NOOP_MAX_SIZE = 20_000  # scaled indexes up to this size also get a sources folder (no-op test)


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Every measurement `args` (from `cli.finish_args`) asks for, as one result dict."""
    from rag.embed import get_encoder, get_query_encoder

    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="rag-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    log = logger(args.quiet)
    folders = args.corpus or default_corpus()
    sources, index_dir = work / "sources", work / "index"
    if sources.exists():
        shutil.rmtree(sources)
    synthesize(folders, args.docs, sources)
    settings = Settings.load(
        sources=sources,
        index=index_dir,
        model=args.model,
        progress=False,
        **({"ann_threshold": args.ann_threshold} if args.ann_threshold else {}),
    )
    encoder = get_encoder(settings.model, settings.embed_backend, settings.onnx_cache)
    query_encoder = get_query_encoder(settings.model, settings.embed_backend, settings.onnx_cache)
    result: dict[str, Any] = {
        "machine": machine(),
        "model": encoder.name,
        "query_model": query_encoder.name,
        "work": str(work),
        "docs": args.docs,
        "corpus": [str(f) for f in folders],
    }
    build, chunk_texts = measure_build(settings, encoder, log, args.docs)
    result.update(build)

    dump(work, result)
    log("noop_reindex ...")
    result["noop_reindex"] = noop_reindex(settings, args.in_process)

    questions = load_bench_questions(
        args.questions or default_questions(), args.queries, corpus_sentences(folders)
    )
    qvecs = query_encoder.encode(questions)
    result["query"] = []
    for size in args.sizes:
        log(f"query at {size} chunks: building the scaled index ...")
        target = work / f"scaled-{size}"
        with_sources = size <= NOOP_MAX_SIZE
        scaled_sources = work / f"scaled-{size}-sources" if with_sources else None
        info = scaled_index(settings, size, target, sources=scaled_sources)
        info["recall_at_10"] = recall_at_10(info.pop("_exact"), info.pop("_ann"), qvecs)
        scaled = settings.with_(index=target)
        if scaled_sources is not None:
            scaled = scaled.with_(sources=scaled_sources)
            info["noop_reindex"] = noop_reindex(scaled, args.in_process)
        log(f"query at {size} chunks: answering {len(questions)} questions ...")
        if args.in_process:
            info.update(serve_probe(scaled, questions))
        else:
            info.update(probe_subprocess(scaled, questions, work))
        result["query"].append(info)
        dump(work, result)
        if not args.keep:
            shutil.rmtree(target, ignore_errors=True)

    if not args.in_process and not args.no_cold:
        log("cold start ...")
        result["cold_start"] = cold_start(settings, questions[0])
    if args.txtai_python:
        log("txtai ...")
        result["txtai"] = txtai_compare(
            args.txtai_python, settings.model, chunk_texts, questions, work
        )
    result["load_avg_end"] = os.getloadavg()
    return result


def dump(work: Path, result: dict[str, Any]) -> None:
    """Partial results so far, in case a long run is stopped."""
    (work / "results.partial.json").write_text(json.dumps(result, indent=2, default=str))


def logger(quiet: bool) -> Callable[[str], None]:
    """A progress printer to stderr, each line stamped with the seconds since the start."""
    started = time.perf_counter()

    def log(message: str) -> None:
        if not quiet:
            print(
                f"[{time.perf_counter() - started:7.1f} s] {message}", file=sys.stderr, flush=True
            )

    return log
