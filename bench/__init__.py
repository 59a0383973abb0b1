"""`rag bench`: throughput, latency, memory and cold start of the `rag` pipeline on this machine.

A benchmark application beside the library, not part of it: `rag` never imports this
package except in the `rag bench` command, this package imports no `rag.cli` (no circle),
and it reaches the index only through the library's public functions. Everything happens
inside one scratch folder (`--work`, default a temp dir); the project's ./sources and
./index are only read.

1. `corpus`: synthesizes `--docs` short news-like documents from real text (the `--corpus`
   folders, by default the checkout's sources/ and ../shared/bench/squad_superbowl/sources
   beside it): windows of consecutive sentences with some words swapped for others of the same
   length and digits changed, so no two documents are identical and BM25 has real work.
2. `throughput`: **index_build** (`build_index(rebuild=True)` with the model already
   loaded), **encode_raw** (a bare `SentenceTransformer.encode`, PyTorch) and
   **encode_runtime** (the build's own encoder, ONNX Runtime by default, bare).
3. `probes`: **noop_reindex** (`rag index` again on the unchanged corpus, in-process and
   as a CLI process), the serving probe (p50/p95 of a full cited answer, peak RSS of a
   process that opens the index and answers) and **cold start** (`rag ask` to its answer,
   `rag serve` to HTTP 200).
4. `scaled`: for every size in `--sizes`, a copy of the index with exactly that many
   chunks (real chunks first, then replicas of whole documents with perturbed text and
   vectors), the vector index `rag.vectors.fit` picks for that size, and its recall@10
   against exact search.
5. `compare` (`--txtai-python`): the same chunks and questions through txtai
   `Embeddings(hybrid=True)` with the same model, run by `txtai_probe.py` in that Python.
6. `report`: the machine description and the printed table; `run` ties the steps
   together and `cli` holds the flags (`python -m bench` is `rag bench`).

It changes no setting and writes nothing outside the scratch folder. Timings are wall
clock on whatever else the machine is doing; nothing here judges them (BENCHMARKS.md does).
"""
