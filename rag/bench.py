"""`rag bench`: throughput, latency, memory and cold start of this pipeline on this machine.

What it does, all inside one scratch folder (`--work`, default a temp dir; the project's
./sources and ./index are only read):

1. Synthesizes `--docs` short news-like documents from real text (the `--corpus` folders,
   by default ./sources and the SQuAD Super Bowl paragraphs): windows of consecutive
   sentences with some words swapped for others of the same length and digits changed,
   so no two documents are identical and BM25 has real work.
2. **index_build**: `build_index(rebuild=True)` on that corpus with the model already
   loaded; chunks/s and texts/s (chunks + sentences, since sentences are embedded too).
   **encode_raw**: a bare `SentenceTransformer.encode` (PyTorch) over the same chunk
   texts (and, for the text-inclusive ratio, over chunks + sentences).
   **encode_runtime**: the build's own encoder (ONNX Runtime by default), bare, over
   chunks + sentences: what is left of the build once reading and storing are free.
3. **noop_reindex**: `rag index` again on the unchanged corpus, in-process and as a CLI
   subprocess (interpreter start and imports included).
4. **query**: for every size in `--sizes`, a scaled copy of the index: real chunks first,
   then replicas of whole documents with perturbed text (same-length word swaps, so all
   offsets stay valid) and perturbed vectors (cosine ~0.9 to the original). BM25, the
   sentence scoring and the answer step run for real on it; the vector index is the one
   `rag.vectors.fit` picks for that size. p50/p95 of a full cited answer (warm), recall@10
   of the vector index against exact search, build time, and peak RSS (VmHWM) of a
   subprocess that opens the index and answers the questions.
5. **cold start**: seconds from process start to the first `rag ask` answer, and to
   `rag serve` answering HTTP.
6. Optionally (`--txtai-python`) the same corpus and questions through txtai
   `Embeddings(hybrid=True)` with the same model, in that Python (a separate venv).

It prints a table, or JSON with `--json`. It changes no setting and writes nothing outside
the scratch folder. Timings are wall clock on whatever else the machine is doing.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .settings import Settings

if TYPE_CHECKING:
    from .embed import SentenceTransformerEncoder

ROOT = Path(__file__).resolve().parents[1]
SQUAD = Path("/work/shared/bench/squad_superbowl")
DEFAULT_SIZES = "1000,10000"
NOOP_MAX_SIZE = 20_000  # scaled indexes up to this size also get a sources folder (no-op test)
PERTURB_COSINE = 0.9  # replicas' vectors: about this cosine to the chunk they copy
_WORD = re.compile(r"[A-Za-z]{4,}")
_DIGIT = re.compile(r"\d")


# -- corpus --------------------------------------------------------------------------------


def corpus_sentences(folders: list[Path]) -> list[list[str]]:
    """The cleaned sentences of every document under `folders`, one list per document."""
    from .extract import article_text
    from .readers import list_sources, read_source
    from .sentences import split_sentences

    out = []
    for folder in folders:
        if not folder.is_dir():
            continue
        files, _ = list_sources(folder)
        for path in files:
            try:
                docs, _ = read_source(path, folder)
            except Exception:
                continue
            for doc in docs:
                cleaned = article_text(doc)
                text = cleaned.text if cleaned else ""
                sentences = [text[a:b] for a, b in split_sentences(text)]
                sentences = [s for s in sentences if len(s.split()) >= 4]
                if sentences:
                    out.append(sentences)
    return out


class Perturber:
    """Swaps words for others of the same length and digits for other digits, so that
    every character offset of the text is kept (sentences and chunks stay where they are)."""

    def __init__(self, texts: list[str], share: float = 0.12) -> None:
        by_len: dict[int, set[str]] = {}
        for text in texts:
            for w in _WORD.findall(text):
                by_len.setdefault(len(w), set()).add(w)
        self.by_len = {n: sorted(ws) for n, ws in by_len.items()}
        self.share = share

    def __call__(self, text: str, rng: random.Random) -> str:
        def word(m: re.Match[str]) -> str:
            w = m.group()
            if rng.random() >= self.share:
                return w
            pool = self.by_len.get(len(w))
            return rng.choice(pool) if pool else w

        text = _WORD.sub(word, text)
        return _DIGIT.sub(
            lambda m: str(rng.randrange(10)) if rng.random() < 0.5 else m.group(), text
        )


def synthesize(folders: list[Path], n_docs: int, target: Path, seed: int = 0) -> int:
    """Write `n_docs` .txt documents of 3-7 consecutive, perturbed real sentences."""
    docs = corpus_sentences(folders)
    if not docs:
        raise SystemExit(f"rag bench: no readable text in {', '.join(map(str, folders))}")
    perturb = Perturber([s for d in docs for s in d])
    rng = random.Random(seed)
    target.mkdir(parents=True, exist_ok=True)
    for i in range(n_docs):
        sentences = docs[rng.randrange(len(docs))]
        size = rng.randint(3, 7)
        start = rng.randrange(max(1, len(sentences) - size + 1))
        text = " ".join(perturb(s, rng) for s in sentences[start : start + size])
        (target / f"doc{i:06d}.txt").write_text(text + "\n", encoding="utf-8")
    return n_docs


def load_bench_questions(paths: list[Path], limit: int, fallback: list[list[str]]) -> list[str]:
    questions: list[str] = []
    for path in paths:
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    questions.append(json.loads(line)["question"])
    if not questions:  # no question file: the opening words of real sentences
        questions = [" ".join(s.split()[:8]) + "?" for d in fallback for s in d[:2]]
    rng = random.Random(1)
    rng.shuffle(questions)
    return questions[:limit]


# -- scaled indexes -------------------------------------------------------------------------


def scaled_index(
    base: Settings, size: int, target: Path, seed: int = 0, sources: Path | None = None
) -> dict[str, Any]:
    """Copy the base index to `target` with exactly `size` chunks (see module docstring).

    With `sources`, every document of the scaled index is also written there as a .txt
    file and recorded in its files table, so that `rag index` on it is a no-op re-index.
    """
    import importlib

    import numpy as np

    ix = importlib.import_module(".index", __package__)
    from .vectors import FlatVectors, fit

    started = time.perf_counter()
    base_manifest = ix.read_manifest(base.index)
    assert base_manifest is not None
    gen = base.index / base_manifest["generation"]
    if target.exists():
        shutil.rmtree(target)
    work = target / ".gen-000001.tmp"
    work.mkdir(parents=True)
    shutil.copy2(gen / ix.DB_FILE, work / ix.DB_FILE)
    base_vectors = ix.load_vectors(gen / ix.VECTORS_FILE, **ix.vectors_meta(base_manifest))
    con = sqlite3.connect(work / ix.DB_FILE)
    con.execute("PRAGMA journal_mode=OFF")
    con.execute("PRAGMA synchronous=OFF")
    ids = [r[0] for r in con.execute("SELECT id FROM chunks ORDER BY id")]
    n_base = len(ids)
    if size <= n_base:
        keep = ids[:size]
        con.execute("DELETE FROM chunks WHERE id > ?", (keep[-1],))
        con.execute("INSERT INTO chunks_fts(chunks_fts) VALUES('rebuild')")
        all_ids = np.asarray(keep, dtype=np.int64)
        data = base_vectors.reconstruct(keep)
    else:
        all_ids, data = _add_replicas(con, base_vectors, ids, size, seed)
    if sources is not None:
        _write_sources(con, base.sources, sources)
    con.commit()
    counts = {
        t: int(con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0])
        for t in ("files", "documents", "chunks", "sentences")
    }
    con.close()
    db_seconds = time.perf_counter() - started
    t_vec = time.perf_counter()
    flat = FlatVectors(base_vectors.dim)
    flat.add(all_ids, data)
    exact = flat
    vectors = fit(flat, base.ann_threshold, base.ann_nprobe or None)
    vec_seconds = time.perf_counter() - t_vec
    vectors.save(work / ix.VECTORS_FILE)
    encoder = ix.document_encoder(base, base_manifest)
    settings = base.with_(index=target)
    shape = ix.fingerprint(settings, encoder)
    ix.publish(target, work, "gen-000001", shape, counts, vectors.kind, vectors.params)
    return {
        "size": size,
        "chunks": counts["chunks"],
        "documents": counts["documents"],
        "real_chunks": min(size, n_base),
        "build_db_s": round(db_seconds, 1),
        "build_vectors_s": round(vec_seconds, 1),
        "vectors": {"kind": vectors.kind, **vectors.params},
        "db_bytes": (target / "gen-000001" / ix.DB_FILE).stat().st_size,
        "vectors_bytes": (target / "gen-000001" / ix.VECTORS_FILE).stat().st_size,
        "_exact": exact,
        "_ann": vectors,
    }


def _write_sources(con: sqlite3.Connection, base_sources: Path, target: Path) -> None:
    """Give every document its own source file (copies of the base files, replicas' text)
    and record them all in the files table, as `rag index` would have."""
    import hashlib

    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    con.execute("DELETE FROM files")
    rows = []
    docs = con.execute("SELECT id, source, clean_text, raw_text FROM documents").fetchall()
    for doc, source, text, raw in docs:
        path = target / source
        path.parent.mkdir(parents=True, exist_ok=True)
        if raw:  # a base document: its own file, as indexed
            shutil.copy2(base_sources / source, path)
        else:
            path.write_text(text + "\n", encoding="utf-8")
        data = path.read_bytes()
        st = path.stat()
        rows.append((source, st.st_size, st.st_mtime_ns, hashlib.sha256(data).hexdigest(), ""))
        del doc
    con.executemany("INSERT OR REPLACE INTO files VALUES (?,?,?,?,?,'')", rows)


def _add_replicas(
    con: sqlite3.Connection, base_vectors: Any, ids: list[int], size: int, seed: int
) -> tuple[Any, Any]:
    """Add replicas of whole documents (perturbed text and vectors) until `size` chunks."""
    import numpy as np

    docs = con.execute(
        "SELECT id, doc_id, source, title, publisher, author, date, url, clean_text "
        "FROM documents ORDER BY id"
    ).fetchall()
    chunks_of: dict[int, list[tuple]] = {}
    for row in con.execute(
        "SELECT id, doc, ordinal, start, end, first_sentence, last_sentence FROM chunks ORDER BY id"
    ):
        chunks_of.setdefault(row[1], []).append(row)
    docs = [d for d in docs if d[0] in chunks_of]
    base = base_vectors.reconstruct(ids)
    row_of = {cid: n for n, cid in enumerate(ids)}
    perturb = Perturber([d[8] for d in docs])
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    sigma = float(np.sqrt((1 / PERTURB_COSINE**2 - 1) / base.shape[1]))
    next_doc = int(con.execute("SELECT MAX(id) FROM documents").fetchone()[0]) + 1
    next_chunk = max(ids) + 1
    out_ids = [np.asarray(ids, dtype=np.int64)]
    out_vecs = [base]
    total = len(ids)
    copy = 0
    first_new = next_chunk
    while total < size:
        copy += 1
        doc_rows, chunk_rows, src = [], [], []
        for d in docs:
            if total >= size:
                break
            text = perturb(d[8], rng)
            doc_rows.append(
                (
                    next_doc,
                    f"{d[1]}~{copy}",
                    f"copy{copy}/{d[2]}",
                    d[3],
                    d[4],
                    d[5],
                    d[6],
                    d[7],
                    "",
                    text,
                    "[]",
                    "[]",
                    "{}",
                )
            )
            for _cid, _doc, ordinal, a, b, first, last in chunks_of[d[0]]:
                if total >= size:
                    break
                chunk_rows.append((next_chunk, next_doc, ordinal, a, b, text[a:b], first, last))
                src.append(row_of[_cid])
                next_chunk += 1
                total += 1
            next_doc += 1
        con.executemany("INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", doc_rows)
        con.executemany("INSERT INTO chunks VALUES (?,?,?,?,?,?,?,?)", chunk_rows)
        v = base[np.asarray(src)] + nrng.normal(0, sigma, (len(src), base.shape[1])).astype(
            np.float32
        )
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        out_ids.append(np.asarray([r[0] for r in chunk_rows], dtype=np.int64))
        out_vecs.append(v.astype(np.float32))
    con.execute(
        "INSERT INTO chunks_fts(rowid, text) SELECT id, text FROM chunks WHERE id >= ?",
        (first_new,),
    )
    return np.concatenate(out_ids), np.concatenate(out_vecs)


def recall_at_10(exact: Any, ann: Any, query_vectors: Any) -> float:
    if exact is ann:
        return 1.0
    hits = []
    for q in query_vectors:
        truth = {i for i, _ in exact.search(q, 10)}
        found = {i for i, _ in ann.search(q, 10)}
        hits.append(len(truth & found) / max(1, len(truth)))
    return round(sum(hits) / len(hits), 4)


# -- serving measurements (run in a subprocess: `python -m rag.bench --serve-probe ...`) --------


def serve_probe(settings: Settings, questions: list[str], repeat: int = 1) -> dict[str, Any]:
    """Open the index, answer every question (after one warm-up), report latency and RSS."""
    from .answer import answer_question
    from .index import open_index

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
        "p50_ms": round(_pct(times, 50), 1),
        "p95_ms": round(_pct(times, 95), 1),
        "cpu_p50_ms": round(_pct(cpu, 50), 1),
        "peak_rss_mb": round(peak_rss_mb(), 0),
    }


def peak_rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _pct(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))]


# -- the run ----------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    from .embed import get_encoder, get_query_encoder
    from .index import build_index

    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="rag-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    log = _logger(args)
    folders = args.corpus or [p for p in (ROOT / "sources", SQUAD / "sources") if p.is_dir()]
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
    encoder = get_encoder(settings.model, settings.embed_backend)
    query_encoder = get_query_encoder(settings.model, settings.embed_backend)
    result: dict[str, Any] = {
        "machine": machine(),
        "model": encoder.name,
        "query_model": query_encoder.name,
        "work": str(work),
        "docs": args.docs,
        "corpus": [str(f) for f in folders],
    }
    encoder.encode(["warm up the model"])  # the load is cold start's business, not build's

    log(f"index_build: {args.docs} documents ...")
    t = time.perf_counter()
    build_index(settings, rebuild=True)
    build_s = time.perf_counter() - t
    con = sqlite3.connect(
        f"{(index_dir / _gen(index_dir) / 'rag.sqlite').as_uri()}?mode=ro", uri=True
    )
    chunk_texts = [r[0] for r in con.execute("SELECT text FROM chunks ORDER BY id")]
    sentence_texts = [
        r[0][r[1] : r[2]]
        for r in con.execute(
            "SELECT d.clean_text, s.start, s.end FROM sentences s JOIN documents d ON d.id=s.doc"
        )
    ]
    con.close()
    n_chunks, n_sent = len(chunk_texts), len(sentence_texts)
    result["index_build"] = {
        "seconds": round(build_s, 2),
        "chunks": n_chunks,
        "sentences": n_sent,
        "chunks_per_s": round(n_chunks / build_s, 1),
        "texts_per_s": round((n_chunks + n_sent) / build_s, 1),
    }
    log(f"encode_raw: {n_chunks} chunks, then {n_chunks + n_sent} chunks + sentences ...")
    raw = _raw_encoder(settings.model, settings.batch_size)
    t = time.perf_counter()
    raw(chunk_texts)
    raw_chunks_s = time.perf_counter() - t
    t = time.perf_counter()
    raw(chunk_texts + sentence_texts)
    raw_all_s = time.perf_counter() - t
    result["encode_raw"] = {
        "chunks_per_s": round(n_chunks / raw_chunks_s, 1),
        "texts_per_s": round((n_chunks + n_sent) / raw_all_s, 1),
        "chunks_seconds": round(raw_chunks_s, 2),
        "texts_seconds": round(raw_all_s, 2),
    }
    # The runtime the build itself uses (ONNX by default), bare, over the same texts: what
    # the build would take if reading, cleaning, chunking and storing cost nothing.
    t = time.perf_counter()
    encoder.encode(chunk_texts + sentence_texts, settings.batch_size)
    runtime_s = time.perf_counter() - t
    result["encode_runtime"] = {
        "backend": type(encoder).__name__,
        "texts_per_s": round((n_chunks + n_sent) / runtime_s, 1),
        "texts_seconds": round(runtime_s, 2),
    }
    result["ratio"] = {
        "chunks": round(
            result["index_build"]["chunks_per_s"] / result["encode_raw"]["chunks_per_s"], 3
        ),
        "texts": round(
            result["index_build"]["texts_per_s"] / result["encode_raw"]["texts_per_s"], 3
        ),
        "texts_runtime": round(runtime_s / build_s, 3),
    }

    _dump(work, result)
    log("noop_reindex ...")
    result["noop_reindex"] = noop_reindex(settings, args.in_process)

    questions = load_bench_questions(
        args.questions or _default_questions(), args.queries, corpus_sentences(folders)
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
            info.update(_probe_subprocess(scaled, questions, work))
        result["query"].append(info)
        _dump(work, result)
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


def noop_reindex(settings: Settings, in_process: bool) -> dict[str, Any]:
    """Seconds of `rag index` on an unchanged corpus: in-process and as a CLI process."""
    from .index import build_index

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
        done = _cli(
            ["index", "--sources", str(settings.sources), "--index", str(settings.index)], settings
        )
        out["cli_seconds"] = round(time.perf_counter() - t, 3)
        out["cli_ok"] = done.returncode == 0 and "0 added, 0 updated, 0 removed" in done.stdout
    return out


def _dump(work: Path, result: dict[str, Any]) -> None:
    """Partial results so far, in case a long run is stopped."""
    (work / "results.partial.json").write_text(json.dumps(result, indent=2, default=str))


def _gen(index_dir: Path) -> str:
    return json.loads((index_dir / "manifest.json").read_text())["generation"]


def _sentence_transformer(model: str) -> SentenceTransformerEncoder | None:
    """`model`'s PyTorch sentence-transformers encoder, or None for other encoders (tests'
    fakes, plugins), which have no bare `SentenceTransformer` to compare against."""
    from .embed import SentenceTransformerEncoder, get_encoder

    encoder = get_encoder(model, "torch")
    return encoder if isinstance(encoder, SentenceTransformerEncoder) else None


def _raw_encoder(model: str, batch_size: int) -> Any:
    """The bare `SentenceTransformer.encode` of `model` (PyTorch), as the issue defines
    encode_raw, when the model is a sentence-transformers one; else its own `encode`."""
    from .embed import get_encoder

    encoder = _sentence_transformer(model)
    if encoder is None:
        return lambda texts: get_encoder(model, "torch").encode(texts, batch_size)
    st = encoder.load()
    st.encode(["warm up"])
    return lambda texts: st.encode(
        texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True
    )


def _default_questions() -> list[Path]:
    return [ROOT / "tests" / "eval" / "seed_questions.jsonl", SQUAD / "questions.jsonl"]


def _env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(
        {
            "RAG_MODEL": settings.model,
            "RAG_ANN_THRESHOLD": str(settings.ann_threshold),
            # How answers are chosen is measured as set (RAG_ANSWER_READER=cosine ...).
            "RAG_ANSWER_READER": settings.answer_reader,
            "RAG_READER_MODEL": settings.reader_model,
            "RAG_READER_THRESHOLD": str(settings.reader_threshold),
            "RAG_PROGRESS": "0",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
        }
    )
    return env


def _cli(argv: list[str], settings: Settings) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rag.cli", *argv],
        capture_output=True,
        text=True,
        env=_env(settings),
        timeout=600,
    )


def _probe_subprocess(settings: Settings, questions: list[str], work: Path) -> dict[str, Any]:
    qfile = work / "probe-questions.json"
    qfile.write_text(json.dumps(questions))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "rag.bench",
            "--serve-probe",
            str(qfile),
            "--probe-index",
            str(settings.index),
        ],
        capture_output=True,
        text=True,
        env=_env(settings),
        timeout=3600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"serve probe failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def cold_start(settings: Settings, question: str) -> dict[str, Any]:
    """Seconds from process start to a `rag ask` answer, and to `rag serve` answering HTTP."""
    out: dict[str, Any] = {}
    t = time.perf_counter()
    done = _cli(["ask", question, "--index", str(settings.index), "--json"], settings)
    out["ask_seconds"] = round(time.perf_counter() - t, 2)
    out["ask_ok"] = done.returncode == 0
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t = time.perf_counter()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rag.cli",
            "serve",
            "--index",
            str(settings.index),
            "--sources",
            str(settings.sources),
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=_env(settings),
    )
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
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
    return out


TXTAI_SCRIPT = r"""
import json, sys, time
from txtai import Embeddings
spec = json.load(open(sys.argv[1]))
t = time.perf_counter()
emb = Embeddings(path=spec["model"], hybrid=True, content=False)
emb.index([(i, text, None) for i, text in enumerate(spec["chunks"])])
build = time.perf_counter() - t
emb.search(spec["questions"][0], 5)
times = []
for q in spec["questions"]:
    t = time.perf_counter()
    emb.search(q, 5)
    times.append((time.perf_counter() - t) * 1000)
times.sort()
pct = lambda p: times[min(len(times) - 1, round(p / 100 * (len(times) - 1)))]
print(json.dumps({"build_seconds": round(build, 2),
                  "chunks_per_s": round(len(spec["chunks"]) / build, 1),
                  "p50_ms": round(pct(50), 1), "p95_ms": round(pct(95), 1)}))
"""


def txtai_compare(
    python: str, model: str, chunks: list[str], questions: list[str], work: Path
) -> dict[str, Any]:
    """Build and query txtai `Embeddings(hybrid=True)` on the same chunks, same model."""
    encoder = _sentence_transformer(model)
    if encoder is None:
        return {"error": f"txtai needs a sentence-transformers model folder, not {model!r}"}
    path = encoder.path
    spec = work / "txtai-spec.json"
    spec.write_text(json.dumps({"model": str(path), "chunks": chunks, "questions": questions}))
    script = work / "txtai_bench.py"
    script.write_text(TXTAI_SCRIPT)
    done = subprocess.run(
        [python, str(script), str(spec)],
        capture_output=True,
        text=True,
        timeout=3600,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    if done.returncode != 0:
        return {"error": done.stderr[-1000:]}
    return {
        "search": "Embeddings.search(q, 5): retrieval only, no answer step",
        **json.loads(done.stdout.strip().splitlines()[-1]),
    }


def machine() -> dict[str, Any]:
    import platform

    info: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_avg": os.getloadavg(),
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        mem = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
        info["ram_gib"] = round(int(mem) / 1024 / 1024, 1)
    except OSError:
        pass
    try:
        import faiss
        import torch

        info["torch"], info["faiss"] = torch.__version__, faiss.__version__
        info["torch_threads"] = torch.get_num_threads()
    except ImportError:
        pass
    return info


def format_table(r: dict[str, Any]) -> str:
    b, e, ratio = r["index_build"], r["encode_raw"], r["ratio"]
    m = r["machine"]
    lines = [
        f"machine: {m.get('cpu', '?')}, {m.get('cpus')} cpus, {m.get('ram_gib', '?')} GiB, "
        f"python {m.get('python')}, torch {m.get('torch', '?')}, faiss {m.get('faiss', '?')}; "
        f"load average at start {m.get('load_avg')}, at end {r.get('load_avg_end')}",
        f"model: {r['model']}; corpus: {r['docs']} synthesized documents, {b['chunks']} chunks, "
        f"{b['sentences']} sentences",
        "",
        "| measure | value |",
        "|---|---|",
        f"| encode_raw (chunks) | {e['chunks_per_s']} chunks/s |",
        f"| encode_raw (chunks + sentences) | {e['texts_per_s']} texts/s |",
        f"| index_build | {b['chunks_per_s']} chunks/s, {b['texts_per_s']} texts/s "
        f"({b['seconds']} s) |",
        f"| index_build / encode_raw, chunks only | {ratio['chunks']} |",
        f"| index_build / encode_raw, chunks + sentences | {ratio['texts']} |",
        f"| encode_runtime ({r['encode_runtime']['backend']}, chunks + sentences) | "
        f"{r['encode_runtime']['texts_per_s']} texts/s |",
        f"| index_build / encode_runtime, chunks + sentences | {ratio['texts_runtime']} |",
        f"| noop_reindex, in-process ({r['noop_reindex']['documents']} docs) | "
        f"{r['noop_reindex']['seconds']} s |",
    ]
    if "cli_seconds" in r["noop_reindex"]:
        lines.append(
            f"| noop_reindex, `rag index` process | {r['noop_reindex']['cli_seconds']} s |"
        )
    for q in r["query"]:
        n = q.get("noop_reindex")
        if n:
            lines.append(
                f"| noop_reindex at {n['documents']:,} docs ({q['chunks']:,} chunks) | "
                f"{n['seconds']} s in-process, {n.get('cli_seconds', '-')} s `rag index` |"
            )
    if "cold_start" in r:
        c = r["cold_start"]
        lines.append(f"| cold start: `rag ask` to answer | {c.get('ask_seconds')} s |")
        lines.append(f"| cold start: `rag serve` to HTTP 200 | {c.get('serve_seconds')} s |")
    lines += [
        "",
        "| chunks | vector index | recall@10 | p50 ms | p95 ms | CPU p50 ms | peak RSS MB |"
        " open s | build s (db + vectors) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for q in r["query"]:
        v = q["vectors"]
        desc = v["kind"] + (f" nlist={v['nlist']} nprobe={v['nprobe']}" if "nlist" in v else "")
        lines.append(
            f"| {q['chunks']:,} | {desc} | {q['recall_at_10']} | {q['p50_ms']} | {q['p95_ms']} | "
            f"{q.get('cpu_p50_ms', '-')} | {q['peak_rss_mb']:.0f} | {q['open_s']} | "
            f"{q['build_db_s']} + {q['build_vectors_s']} |"
        )
    if "txtai" in r:
        t = r["txtai"]
        lines += ["", f"txtai Embeddings(hybrid=True), same chunks and model: {t}"]
    return "\n".join(lines)


def _logger(args: argparse.Namespace) -> Any:
    started = time.perf_counter()

    def log(message: str) -> None:
        if not args.quiet:
            print(
                f"[{time.perf_counter() - started:7.1f} s] {message}", file=sys.stderr, flush=True
            )

    return log


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--sizes",
        default=DEFAULT_SIZES,
        help=f"comma-separated index sizes in chunks for the query test "
        f"(default {DEFAULT_SIZES}; the full run: 1000,10000,100000,1000000)",
    )
    p.add_argument(
        "--docs", type=int, default=300, help="synthesized documents to index (default 300)"
    )
    p.add_argument("--queries", type=int, default=200, help="questions per size (default 200)")
    p.add_argument(
        "--corpus",
        type=Path,
        action="append",
        help="folder of real articles to synthesize from (repeatable; default "
        "./sources and the SQuAD Super Bowl paragraphs)",
    )
    p.add_argument(
        "--questions",
        type=Path,
        action="append",
        help="JSON Lines question file (repeatable; default the seed and SQuAD ones)",
    )
    p.add_argument("--model", help="embedding model (default: the model setting)")
    p.add_argument(
        "--ann-threshold",
        type=int,
        help="chunks from which the vector index is IVF-SQ8 (default: the setting)",
    )
    p.add_argument("--work", type=Path, help="scratch folder (default: a new temp folder)")
    p.add_argument("--keep", action="store_true", help="keep the scaled indexes")
    p.add_argument(
        "--quick",
        action="store_true",
        help="a tiny smoke run: 30 documents, sizes 100,300, 10 questions, in-process",
    )
    p.add_argument(
        "--in-process",
        action="store_true",
        help="no subprocesses (no peak RSS per size, no CLI or cold-start timings)",
    )
    p.add_argument("--no-cold", action="store_true", help="skip the cold-start measurements")
    p.add_argument("--txtai-python", help="a Python with txtai installed, for the comparison")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")


def finish_args(args: argparse.Namespace) -> argparse.Namespace:
    if isinstance(args.sizes, str):
        args.sizes = [int(float(s)) for s in args.sizes.split(",") if s.strip()]
    if args.quick:
        args.docs, args.sizes, args.queries = 30, [100, 300], 10
        args.in_process, args.no_cold = True, True
    if args.model is None:
        args.model = Settings.load().model
    return args


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--serve-probe"]:  # internal: the measured serving subprocess
        questions = json.loads(Path(argv[1]).read_text())
        settings = Settings.load(index=Path(argv[3]))
        print(json.dumps(serve_probe(settings, questions)))
        return 0
    parser = argparse.ArgumentParser(prog="rag bench", description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    return command(parser.parse_args(argv))


def command(args: argparse.Namespace) -> int:
    result = run(finish_args(args))
    print(json.dumps(result, indent=2) if args.json else format_table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
