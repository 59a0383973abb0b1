"""PDF files (.pdf): page texts joined by blank lines, parsed in a limited child process.

`read_pdf(path, rel, warnings)` checks the `%PDF` header, runs `_pdf_child.py` in a fresh
interpreter with an address-space limit (`PDF_MAX_MEMORY`) and a timeout
(`PDF_TIMEOUT_S`), so one hostile file cannot hang or starve the indexer, and turns its
answer into one `Document`: non-empty pages joined by a blank line, `pages` mapping text
offsets to page numbers, the PDF's title, author and date as metadata. Pages that fail
become warnings; a PDF with no text at all, an encrypted one, a corrupt one or one that
needs too much time, memory or text raises `SourceError` saying which.

Left out on purpose: OCR of scanned PDFs, passwords, layout (columns, tables) and images.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from rag.errors import SourceError
from rag.types import Document

from .files import os_reason, size
from .metadata import apply_meta

PDF_TIMEOUT_S = 60
PDF_MAX_MEMORY = 1024**3  # address-space limit of the PDF child process, bytes
CHILD = Path(__file__).with_name("_pdf_child.py")

_PDF_MAX_CHARS = 20_000_000  # more text than this from one PDF is a bomb, not an article
_PDF_OUT_OF_MEMORY = 3  # exit code of the PDF child when it hit the memory limit


def read_pdf(path: Path, rel: str, warnings: list[str]) -> Document:
    """A PDF as one document; per-page problems are appended to `warnings`."""
    try:
        with path.open("rb") as file:
            head = file.read(1024)
    except OSError as err:
        raise SourceError(rel, os_reason(err)) from None
    if b"%PDF-" not in head:
        raise SourceError(rel, "not a PDF (no %PDF header)")

    result = _run_child(path, rel)
    if "error" in result:
        kind, detail = result["error"], " ".join(str(result.get("detail", "")).split())
        if kind == "encrypted":
            raise SourceError(rel, "encrypted PDF" + (f" ({detail})" if detail else ""))
        if kind == "too much text":
            raise SourceError(rel, f"PDF holds more than {_PDF_MAX_CHARS:,} characters of text")
        raise SourceError(rel, f"corrupt PDF: {detail[:300]}")

    # Pages are joined by a blank line; empty pages are left out but keep their numbers.
    chunks: list[str] = []
    pages: list[tuple[int, int]] = []
    offset = 0
    for number, raw in enumerate(result["pages"], 1):
        page_text = raw.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "").strip()
        if not page_text:
            continue
        if chunks:
            offset += 2
        pages.append((offset, number))
        chunks.append(page_text)
        offset += len(page_text)
    if not chunks:
        failed = result.get("warnings", [])  # e.g. a page whose stream inflates too far
        why = f"; {' '.join(str(failed[0]).split())[:300]}" if failed else ""
        raise SourceError(rel, f"PDF has no extractable text (scanned?{why})")
    warnings.extend(result.get("warnings", []))
    doc = Document(doc_id=rel, source=rel, text="\n\n".join(chunks), pages=pages)
    apply_meta(doc, result.get("meta", {}))
    return doc


def _run_child(path: Path, rel: str) -> dict[str, Any]:
    """The child's JSON answer for `path`; SourceError when it timed out, ran out of
    memory, crashed or answered nothing readable."""
    command = [
        sys.executable,
        "-P",  # keep the child's folder off sys.path: nothing may shadow pypdf or the stdlib
        os.fspath(CHILD),
        os.fspath(path),
        str(PDF_MAX_MEMORY),
        str(_PDF_MAX_CHARS),
        str(_PDF_OUT_OF_MEMORY),
    ]
    try:
        proc = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=PDF_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise SourceError(rel, f"PDF took too long to parse (over {PDF_TIMEOUT_S} s)") from None
    except OSError as err:
        raise SourceError(rel, f"cannot start the PDF parser: {os_reason(err)}") from None
    too_big = f"PDF needs too much memory to parse (over {size(PDF_MAX_MEMORY)})"
    if proc.returncode == _PDF_OUT_OF_MEMORY:
        raise SourceError(rel, too_big)
    if proc.returncode < 0:
        try:
            name = signal.Signals(-proc.returncode).name
        except ValueError:
            name = f"signal {-proc.returncode}"
        raise SourceError(
            rel, f"PDF parser crashed ({name}): the file is corrupt or needs too much memory"
        )
    try:
        result = json.loads(proc.stdout)
    except ValueError:
        result = None
    if proc.returncode != 0 or not isinstance(result, dict):
        lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        if any("MemoryError" in line for line in lines[-3:]):
            raise SourceError(rel, too_big)
        last = lines[-1] if lines else f"exit code {proc.returncode}, no output"
        raise SourceError(rel, f"corrupt PDF: parser failed ({last[:300]})")
    return result
