"""Which reader reads which file name ending: the one table of file formats.

`register_format(suffixes, read)` makes `read(data, rel, warnings)` the reader of files
whose name ends in one of `suffixes`: it gets the file's bytes (read whole and size-checked
by `source.read_source`), its path relative to the sources folder for messages, and a list
to append per-part warnings to, and returns the file's documents or raises `SourceError`.
A reader that must open the file itself (the PDF's, which parses it in a child process)
registers as `read_path` instead and gets the path in place of the bytes. `supported()`
lists the endings in the order they were registered, `format_for(suffix)` finds the reader.
The built-in formats are registered at the bottom; a plugin or a test registers more the
same way, and the listing, `read_source` and the upload check follow.

Left out: the checks every format shares (`source`) and what each format means (its module).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from rag.types import Document

from .html import read_html
from .jsonl import read_jsonl
from .pdf import read_pdf
from .text import read_markdown, read_text

ReadData = Callable[[bytes, str, list[str]], list[Document]]
ReadPath = Callable[[Path, str, list[str]], list[Document]]


@dataclass(frozen=True)
class Format:
    """How files of one format are read: from their bytes, or (`read_path`) by path."""

    read: ReadData | None = None
    read_path: ReadPath | None = None


_FORMATS: dict[str, Format] = {}


def register_format(
    suffixes: Iterable[str], read: ReadData | None = None, *, read_path: ReadPath | None = None
) -> None:
    """Make `read` (or `read_path`, exactly one of them) the reader of files ending in
    `suffixes` (".txt", ...; matched regardless of case), replacing any earlier reader."""
    if (read is None) == (read_path is None):
        raise ValueError("register_format needs exactly one of read and read_path")
    for suffix in suffixes:
        # One dot, as `Path.suffix` gives it: ".tar.gz" could never be matched.
        if not suffix.startswith(".") or len(suffix) < 2 or "." in suffix[1:]:
            raise ValueError(f"not a file name ending like '.txt': {suffix!r}")
        _FORMATS[suffix.lower()] = Format(read, read_path)


def supported() -> tuple[str, ...]:
    """Every registered file name ending (".txt", ".pdf", ...), lower case."""
    return tuple(_FORMATS)


def format_for(suffix: str) -> Format | None:
    """The reader of files ending in `suffix`, or None when no format claims it."""
    return _FORMATS.get(suffix.lower())


register_format([".txt"], lambda data, rel, warnings: [read_text(data, rel)])
register_format([".md", ".markdown"], lambda data, rel, warnings: [read_markdown(data, rel)])
register_format([".html", ".htm"], lambda data, rel, warnings: [read_html(data, rel)])
register_format([".pdf"], read_path=lambda path, rel, warnings: [read_pdf(path, rel, warnings)])
register_format([".jsonl"], read_jsonl)
