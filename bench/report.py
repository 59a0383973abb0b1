"""What the benchmark prints: the machine it ran on and the results as Markdown tables.

`machine` describes this computer (CPU, memory, versions, load average) for the result's
"machine" key; `format_table` turns a result of `run` into the table `rag bench` prints
without `--json` (BENCHMARKS.md pastes it). Nothing here measures or judges a number.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def machine() -> dict[str, Any]:
    """The CPU, memory, Python, torch and FAISS versions and the load average now."""
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
    """The results of `run` as two Markdown tables (throughput, then one row per size)."""
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
