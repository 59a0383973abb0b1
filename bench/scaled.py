"""Scaled copies of an index: exactly N chunks, for the query measurements at any size.

Real chunks come first; past them, replicas of whole documents with perturbed text
(`Perturber`: same-length word swaps, so every stored offset stays valid) and perturbed
vectors (cosine about `PERTURB_COSINE` to the chunk they copy). BM25, sentence scoring and
answering then run for real on distinct rows. The copy is published through
`rag.publish`, with the manifest of its base's encoder, so `open_index` loads it
like any index. Measuring answers on it is `probes`' business, not this module's.
"""

from __future__ import annotations

import hashlib
import random
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any

from rag.settings import Settings

from .corpus import Perturber

PERTURB_COSINE = 0.9  # replicas' vectors: about this cosine to the chunk they copy


def scaled_index(
    base: Settings, size: int, target: Path, seed: int = 0, sources: Path | None = None
) -> dict[str, Any]:
    """Copy the base index to `target` with exactly `size` chunks (see the module docstring).

    With `sources`, every document of the scaled index is also written there as a .txt
    file and recorded in its files table, so that `rag index` on it is a no-op re-index.
    The result's "_exact" and "_ann" are the exact and the fitted vector indexes, for
    `recall_at_10`; the other keys are reported.
    """
    import numpy as np

    from rag.indexing import (
        DB_FILE,
        VECTORS_FILE,
        document_encoder,
        fingerprint,
        publish,
        read_manifest,
        vectors_meta,
    )
    from rag.vectors import FlatVectors, fit, load_vectors

    started = time.perf_counter()
    base_manifest = read_manifest(base.index)
    assert base_manifest is not None
    gen = base.index / base_manifest.generation
    if target.exists():
        shutil.rmtree(target)
    work = target / ".gen-000001.tmp"
    work.mkdir(parents=True)
    shutil.copy2(gen / DB_FILE, work / DB_FILE)
    base_vectors = load_vectors(gen / VECTORS_FILE, **vectors_meta(base_manifest))
    con = sqlite3.connect(work / DB_FILE)
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
    vectors.save(work / VECTORS_FILE)
    encoder = document_encoder(base, base_manifest)
    shape = fingerprint(base.with_(index=target), encoder)
    publish(target, work, "gen-000001", shape, counts, vectors.kind, vectors.params)
    return {
        "size": size,
        "chunks": counts["chunks"],
        "documents": counts["documents"],
        "real_chunks": min(size, n_base),
        "build_db_s": round(db_seconds, 1),
        "build_vectors_s": round(vec_seconds, 1),
        "vectors": {"kind": vectors.kind, **vectors.params},
        "db_bytes": (target / "gen-000001" / DB_FILE).stat().st_size,
        "vectors_bytes": (target / "gen-000001" / VECTORS_FILE).stat().st_size,
        "_exact": exact,
        "_ann": vectors,
    }


def _write_sources(con: sqlite3.Connection, base_sources: Path, target: Path) -> None:
    """Give every document its own source file (copies of the base files, replicas' text)
    and record them all in the files table, as `rag index` would have."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    con.execute("DELETE FROM files")
    rows = []
    docs = con.execute("SELECT source, clean_text, raw_text FROM documents").fetchall()
    for source, text, raw in docs:
        path = target / source
        path.parent.mkdir(parents=True, exist_ok=True)
        if raw:  # a base document: its own file, as indexed
            shutil.copy2(base_sources / source, path)
        else:
            path.write_text(text + "\n", encoding="utf-8")
        data = path.read_bytes()
        st = path.stat()
        rows.append((source, st.st_size, st.st_mtime_ns, hashlib.sha256(data).hexdigest(), ""))
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
            doc_id, source, title, publisher, author, date, url = d[1:8]
            doc_rows.append(
                (next_doc, f"{doc_id}~{copy}", f"copy{copy}/{source}", title, publisher, author,
                 date, url, "", text, "[]", "[]", "{}")
            )  # fmt: skip
            for cid, _doc, ordinal, a, b, first, last in chunks_of[d[0]]:
                if total >= size:
                    break
                chunk_rows.append((next_chunk, next_doc, ordinal, a, b, text[a:b], first, last))
                src.append(row_of[cid])
                next_chunk += 1
                total += 1
            next_doc += 1
        con.executemany("INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", doc_rows)
        con.executemany("INSERT INTO chunks VALUES (?,?,?,?,?,?,?,?)", chunk_rows)
        noise = nrng.normal(0, sigma, (len(src), base.shape[1])).astype(np.float32)
        v = base[np.asarray(src)] + noise
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        out_ids.append(np.asarray([r[0] for r in chunk_rows], dtype=np.int64))
        out_vecs.append(v.astype(np.float32))
    con.execute(
        "INSERT INTO chunks_fts(rowid, text) SELECT id, text FROM chunks WHERE id >= ?",
        (first_new,),
    )
    return np.concatenate(out_ids), np.concatenate(out_vecs)


def recall_at_10(exact: Any, ann: Any, query_vectors: Any) -> float:
    """The share of exact search's top 10 that the approximate index also returns."""
    if exact is ann:
        return 1.0
    hits = []
    for q in query_vectors:
        truth = {i for i, _ in exact.search(q, 10)}
        found = {i for i, _ in ann.search(q, 10)}
        hits.append(len(truth & found) / max(1, len(truth)))
    return round(sum(hits) / len(hits), 4)
