"""The flags of `rag bench` (also `python -m bench`) and its entry point `main`.

`rag.cli` hands everything after `rag bench` to `main`, which parses it, runs `run.run`
and prints JSON (`--json`) or the `report` table. `main` also serves the internal
`--serve-probe` call of `probes.probe_subprocess`. The measurements live in the other
modules of this package.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rag.settings import Settings

from .probes import SERVE_PROBE, serve_probe_main

DEFAULT_SIZES = "1000,10000"
# rag.cli lists the command with a line of its own: importing it from here made a circle.
DESCRIPTION = (
    "Throughput, latency, memory and cold start of the rag pipeline on this machine "
    "(BENCHMARKS.md holds the figures and their targets)."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The benchmark's flags, on `p`."""
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
        help="folder of real articles to synthesize from (repeatable; default the "
        "checkout's sources/ and ../shared/bench/squad_superbowl/sources beside it)",
    )
    p.add_argument(
        "--questions",
        type=Path,
        action="append",
        help="JSON Lines question file (repeatable; default the checkout's "
        "tests/eval/seed_questions.jsonl and ../shared/bench/squad_superbowl/questions.jsonl)",
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
    """Resolve what the flags leave open: the size list, `--quick`'s values, the model."""
    if isinstance(args.sizes, str):
        args.sizes = [int(float(s)) for s in args.sizes.split(",") if s.strip()]
    if args.quick:
        args.docs, args.sizes, args.queries = 30, [100, 300], 10
        args.in_process, args.no_cold = True, True
    if args.model is None:
        args.model = Settings.load().model
    return args


def main(argv: list[str] | None = None) -> int:
    """`rag bench ARGV`: run the benchmark and print its results."""
    from .report import format_table
    from .run import run

    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == [SERVE_PROBE]:  # internal: the measured serving subprocess
        return serve_probe_main(argv[1:])
    parser = argparse.ArgumentParser(prog="rag bench", description=DESCRIPTION)
    add_arguments(parser)
    args = finish_args(parser.parse_args(argv))
    result = run(args)
    print(json.dumps(result, indent=2) if args.json else format_table(result))
    return 0
