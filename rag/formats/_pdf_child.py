"""The PDF parser's child process: one PDF's page texts, metadata and warnings, as JSON.

`rag.formats.pdf` runs this file by path in a fresh interpreter:
`python -P _pdf_child.py PATH MEMORY_LIMIT MAX_CHARS OUT_OF_MEMORY_EXIT`. It imports
nothing from `rag`, so it starts fast whatever `rag/__init__` pulls in, and `-P` keeps this
folder off `sys.path` (its `html.py` must not shadow the standard library's). The
address-space limit is set before pypdf is imported; running out of memory exits with
OUT_OF_MEMORY_EXIT. Stdout is one JSON object: `{"pages": [text, ...], "meta": {...},
"warnings": [...]}`, or `{"error": "encrypted" | "corrupt" | "too much text", "detail": ...}`.

Left out: turning that into a `Document` and a user's message (the parent does), the time
limit (the parent kills a child that runs too long), OCR and page layout.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any


def extract(path: str, max_chars: int) -> dict[str, Any]:
    """Page texts, metadata and per-page warnings of the PDF at `path`, or an error."""
    import logging

    logging.disable(logging.CRITICAL)  # pypdf logs every quirk; the parent wants a verdict
    from pypdf import PdfReader

    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")
            except MemoryError:
                raise
            except Exception as err:  # e.g. AES without the 'cryptography' package
                return {"error": "encrypted", "detail": str(err)}
            if not opened:
                return {"error": "encrypted", "detail": ""}
        pages = reader.pages
        count = len(pages)
    except MemoryError:
        raise
    except RecursionError:
        return {"error": "corrupt", "detail": "objects nested too deeply"}
    except Exception as err:
        return {"error": "corrupt", "detail": str(err) or type(err).__name__}
    texts: list[str] = []
    warnings: list[str] = []
    total = 0
    for i in range(count):
        try:
            text = pages[i].extract_text() or ""
        except MemoryError:
            raise
        except Exception as err:
            text = ""
            warnings.append(f"page {i + 1}: could not extract text ({err})")
        total += len(text)
        if total > max_chars:
            return {"error": "too much text", "detail": ""}
        texts.append(text)
    meta: dict[str, Any] = {}
    try:
        info = reader.metadata
        if info is not None:
            meta = {"title": info.title, "author": info.author, "date": info.creation_date_raw}
    except MemoryError:
        raise
    except Exception:
        pass  # metadata is optional; a broken Info dictionary must not lose the text
    meta = {key: str(value) for key, value in meta.items() if value}
    return {"pages": texts, "meta": meta, "warnings": warnings}


def limit_memory(limit: int) -> None:
    """Cap this process's address space at `limit` bytes (or the lower hard limit)."""
    try:
        import resource

        hard = resource.getrlimit(resource.RLIMIT_AS)[1]
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)  # raising the hard limit is not allowed
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ImportError, ValueError, OSError):
        pass  # no rlimits on this platform: the time limit still applies


def main() -> None:
    path, limit, max_chars = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    limit_memory(limit)
    try:
        result = extract(path, max_chars)
        sys.stdout.write(json.dumps(result))
        sys.stdout.flush()
    except MemoryError:
        os._exit(int(sys.argv[4]))


if __name__ == "__main__":
    main()
