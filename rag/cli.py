"""The `rag` command: index, ask, eval, serve (CONTRACT.md), extract, bench. A thin shell
over `rag.api` and, for `extract`, `rag.preview`; `bench` hands its arguments to the
top-level `bench` package (benchmarks are not part of the library).

Only argparse and the settings are imported up front, so `rag --help` is instant; the
model, FAISS and Gradio load inside the command that needs them. Errors the library
raises on purpose are printed as their message alone (no traceback), exit status 1.
`train-reader` hands its arguments to the top-level `training` package, as `bench` does to
`bench` (training is not part of the library either).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .errors import RagError
from .settings import Settings, describe
from .types import UNSURE, Citation

BENCH_HELP = "Measure build, query, memory and cold start (BENCHMARKS.md)."
BENCH_MISSING = (
    "`rag bench` runs the benchmark package bench/ of a checkout of this repository, and "
    "this installation has none: run `scripts/setup` (pip install -e .) in a checkout, "
    "or put the checkout on PYTHONPATH."
)
TRAINING_MISSING = (
    "`rag train-reader` runs the training package training/ of a checkout of this "
    "repository, and this installation has none: run `scripts/setup` (pip install -e .) in a "
    "checkout, or put the checkout on PYTHONPATH."
)


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args, rest = parser.parse_known_args(argv)
    if getattr(args, "command", None) == "bench":  # its flags are the bench package's
        args.bench_argv = rest
    elif getattr(args, "command", None) == "train-reader":  # the training package's
        args.train_argv = rest
    elif rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        settings = Settings.load(
            sources=getattr(args, "sources", None),
            index=getattr(args, "index", None),
            k=getattr(args, "k", None),
            **_llm_overrides(args),
        )
        return int(args.run(args, settings) or 0)
    except RagError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; the previous index is unchanged", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    settings_help = "\n".join(
        f"  RAG_{name.upper():<18} {text} (default: {default})"
        for name, default, text in describe()
    )
    parser = argparse.ArgumentParser(
        prog="rag",
        description="Offline, citation-first answers from a folder of news articles.",
        epilog="Settings (environment variables; flags override them):\n" + settings_help,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, run: Any, help: str, **kwargs: Any) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help, **kwargs)
        p.set_defaults(run=run)
        return p

    def paths(p: argparse.ArgumentParser, sources: bool = True) -> None:
        if sources:
            p.add_argument(
                "--sources", type=Path, help="articles folder (default ./sources, RAG_SOURCES)"
            )
        p.add_argument("--index", type=Path, help="index folder (default ./index, RAG_INDEX)")

    def llm(p: argparse.ArgumentParser) -> None:
        g = p.add_argument_group("local LLM answers (docs/llm.md)")
        g.add_argument(
            "--mode",
            choices=["auto", "extractive", "llm"],
            help="answer mode (default auto: llm when a model or server is set; RAG_ANSWER_MODE)",
        )
        g.add_argument(
            "--llm-model",
            metavar="PATH.gguf",
            help="GGUF file run in-process (needs the [llm] extra; RAG_LLM_MODEL)",
        )
        g.add_argument(
            "--llm-url",
            metavar="URL",
            help="OpenAI-compatible server on this "
            "machine, e.g. http://127.0.0.1:8080/v1 (RAG_LLM_URL)",
        )
        g.add_argument("--llm-name", metavar="M", help="model name for --llm-url (RAG_LLM_NAME)")
        g.add_argument(
            "--llm-allow-lan",
            action="store_true",
            default=None,
            help="accept an --llm-url on a private-network host",
        )

    def reader(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--reader",
            choices=["trained", "cosine"],
            help="how answer sentences are chosen (default trained; RAG_ANSWER_READER)",
        )

    p = command("index", _cmd_index, "Build or update the index from the sources folder.")
    paths(p)
    p.add_argument("--rebuild", action="store_true", help="discard the index and build anew")

    p = command("ask", _cmd_ask, "Answer one question with cited quotes.")
    p.add_argument("question")
    paths(p)
    p.add_argument("-k", type=int, help="passages to retrieve (default 5, RAG_K)")
    p.add_argument("--json", action="store_true", help="print the answer object as JSON")
    reader(p)
    llm(p)

    p = command("eval", _cmd_eval, "Answer a question file and print the metrics.")
    p.add_argument("questions", type=Path, help="JSON Lines question file")
    paths(p)
    p.add_argument("-k", type=int, help="passages to retrieve (default 5, RAG_K)")
    p.add_argument("--out", type=Path, help="write one answer object per question here")
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")
    reader(p)
    llm(p)

    p = command("serve", _cmd_serve, "Start the chat web app (builds the index first if needed).")
    paths(p)
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    llm(p)

    # The training package parses its own flags (and --help), loaded only when it runs.
    command(
        "train-reader",
        _cmd_train_reader,
        "Train the answer reader on public QA sets, export it to ONNX and calibrate it "
        "(docs/reader.md; about 80 minutes on 2 cores).",
        add_help=False,
    )

    p = command(
        "extract",
        _cmd_extract,
        "Show what the index would hold for each file (metadata and the cleaned text that is "
        "chunked and quoted), without indexing.",
    )
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="source file or folder")
    p.add_argument(
        "--json",
        action="store_true",
        help='one JSON object per article: "file", "title", "publisher", "author", "date", '
        '"url", "text"',
    )

    # The bench package parses its own flags (and --help), loaded only when it runs.
    command("bench", _cmd_bench, BENCH_HELP, add_help=False)
    return parser


def _llm_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """Settings named by the local-LLM flags (absent flags fall through to RAG_*)."""
    names = {"mode": "answer_mode", "llm_model": "llm_model", "llm_url": "llm_url"}
    names |= {"llm_name": "llm_name", "llm_allow_lan": "llm_allow_lan", "reader": "answer_reader"}
    return {setting: getattr(args, flag, None) for flag, setting in names.items()}


def _ensure_index(settings: Settings) -> None:
    """Build the index on first use, so `rag ask` works on a fresh checkout."""
    from .indexing import read_manifest

    if read_manifest(settings.index) is None:
        print(
            f"No index in {settings.index} yet; building it from {settings.sources} ...",
            file=sys.stderr,
        )
        _cmd_index(argparse.Namespace(rebuild=False), settings)


def _cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    from .api import index

    report = index(settings, rebuild=args.rebuild)
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(report)
    return 0


def _cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from .api import answer

    _ensure_index(settings)
    result = answer(args.question, settings)
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
        return 0
    if result.note and not result.abstained:
        print(f"note: {result.note}", file=sys.stderr)
    print(result.answer)
    if result.abstained and result.note:
        print(result.note)  # why: part of the answer, not a warning about it
    unsupported = [s.text for s in result.sentences or [] if not s.supported]
    if unsupported:
        print("\nNot supported by the cited sources (check before trusting):")
        for text in unsupported:
            print(f"  ✗ {text}")
    if result.confidence is not None and result.citations:
        print(f"(confidence {result.confidence:.0%} that the first quote answers)")
    if result.outcome == UNSURE:
        print("\nClosest quote (a lead, not an answer):")
        _print_citations(result.citations)
    if result.abstained:
        from .extractive import ABSTAIN_NOTE

        print(f"\n{ABSTAIN_NOTE}")
        for p in result.passages:
            print(f"\n({p.rank}) {_describe(p.title, p.publisher, p.date, p.url, p.doc_id)}")
            print(f"    {' '.join(p.text.split())[:300]}")
        return 0
    print("\nSources:")
    _print_citations(result.citations)
    return 0


def _print_citations(citations: list[Citation]) -> None:
    for c in citations:
        print(f"[{c.n}] {_describe(c.title, c.publisher, c.date, c.url, c.doc_id)}")
        print(f"    “{c.quote}”")


def _describe(title: str, publisher: str, date: str, url: str, doc_id: str) -> str:
    return " — ".join(x for x in (title or doc_id, publisher, date, url) if x)


def _cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from .api import current_index
    from .evaluate import evaluate, format_metrics, load_questions

    questions = load_questions(args.questions)
    _ensure_index(settings)
    from .llm import resolve_mode

    mode = resolve_mode(settings)
    records, metrics = evaluate(current_index(settings), questions, settings.k, mode=mode)
    if args.out:
        with args.out.open("w", encoding="utf-8") as f:
            for record in records:
                f.write(json.dumps(record, ensure_ascii=False) + "\n")
    print(json.dumps(metrics, indent=2) if args.json else format_metrics(metrics))
    return 0


def _cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    try:
        from ui.app import serve
    except ImportError as e:
        raise RagError(f"The web app cannot start: {e}. Install it with: pip install -e .") from e
    serve(settings, host=args.host, port=args.port)
    return 0


def _cmd_train_reader(args: argparse.Namespace, settings: Settings) -> int:
    try:
        from training.cli import main as train_reader
    except ModuleNotFoundError as e:
        if (e.name or "").partition(".")[0] != "training":
            raise
        raise RagError(TRAINING_MISSING) from e
    return train_reader(args.train_argv)


def _cmd_extract(args: argparse.Namespace, settings: Settings) -> int:
    from .preview import preview

    failed = 0
    for result in preview(args.paths):
        for warning in result.warnings:
            print(f"warning: {result.file}: {warning}", file=sys.stderr)
        if result.error:
            print(f"error: {result.file}: {result.error}", file=sys.stderr)
            failed += 1
        for doc, cleaned in result.articles:
            fields = {"file": result.file, "title": doc.title, "publisher": doc.publisher}
            fields |= {"author": doc.author, "date": doc.date, "url": doc.url}
            if args.json:
                print(json.dumps(fields | {"text": cleaned.text}, ensure_ascii=False), flush=True)
                continue
            print(f"== {doc.doc_id if len(result.articles) > 1 else result.file}")
            for key in ("title", "publisher", "author", "date", "url"):
                if fields[key]:
                    print(f"{key + ':':<11}{fields[key]}")
            print(f"({len(cleaned.text):,} characters)\n\n{cleaned.text}\n", flush=True)
    return 1 if failed else 0


def _cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    try:
        from bench.cli import main as bench
    except ModuleNotFoundError as e:
        if (e.name or "").partition(".")[0] != "bench":
            raise
        raise RagError(BENCH_MISSING) from e
    return bench(args.bench_argv)


if __name__ == "__main__":
    sys.exit(main())
