"""txtai's side of the comparison: build and query `Embeddings(hybrid=True)`, print JSON.

Run by `bench.compare` as a script in another Python, one with txtai installed:
`PYTHON txtai_probe.py SPEC.json`, where SPEC holds "model" (a sentence-transformers
folder), "chunks" and "questions". It prints one JSON line: build seconds, chunks/s and
the p50/p95 of `search(q, 5)` (retrieval only, no answer step). It imports nothing of
this project, so that Python needs only txtai.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def main(spec_file: str) -> None:
    from txtai import Embeddings

    spec = json.loads(Path(spec_file).read_text())
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

    def pct(p: float) -> float:
        return times[min(len(times) - 1, round(p / 100 * (len(times) - 1)))]

    result = {
        "build_seconds": round(build, 2),
        "chunks_per_s": round(len(spec["chunks"]) / build, 1),
        "p50_ms": round(pct(50), 1),
        "p95_ms": round(pct(95), 1),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1])
