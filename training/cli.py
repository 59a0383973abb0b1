"""The flags of `rag train-reader` (also `python -m training`) and its entry point `main`.

`rag.cli` hands everything after `rag train-reader` to `main`, which parses it and runs
`build.build`; the library's errors reach the caller, which prints their message. Training
itself lives in the other modules of this package.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .build import build

DESCRIPTION = (
    "Train the answer reader on public QA sets, export it to ONNX, fit its question adapter "
    "and calibrate it (docs/reader.md; about 80 minutes on 2 cores)."
)


def main(argv: list[str] | None = None) -> int:
    """`rag train-reader ARGV`: build a reader into `--out`."""
    parser = argparse.ArgumentParser(prog="rag train-reader", description=DESCRIPTION)
    parser.add_argument("--data", type=Path, required=True, help="the QA sets (shared/data/qa)")
    parser.add_argument("--out", type=Path, required=True, help="folder for the reader's files")
    parser.add_argument("--minutes", type=float, default=80.0, help="training time budget")
    parser.add_argument("--steps", type=int, default=0, help="train exactly N steps instead")
    parser.add_argument("--limit", type=int, default=0, help="N questions per split (smoke test)")
    parser.add_argument("--seed", type=int, default=13, help="random seed")
    parser.add_argument(
        "--news",
        type=Path,
        action="append",
        default=[],
        help="a folder of news articles with questions to train on too (repeatable)",
    )
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    options = {"--minutes": args.minutes, "--steps": args.steps, "--limit": args.limit}
    command = f"rag train-reader --data {args.data} --out {args.out} --seed {args.seed}"
    command += "".join(f" {flag} {value:g}" for flag, value in options.items() if value)
    command += "".join(f" --news {folder}" for folder in args.news)
    build(
        args.data,
        args.out,
        minutes=args.minutes,
        steps=args.steps,
        limit=args.limit,
        seed=args.seed,
        news=tuple(args.news),
        command=command,
    )
    return 0
