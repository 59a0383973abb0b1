"""One source file into its `Document`s: checks common to every format, then its reader.

`read_source(path, root)` refuses an unsupported type, a path outside the sources folder,
an empty or oversized file, and (for every format) text with a line too long to be prose;
reads the sidecar first (a broken one should not cost a PDF parse); hands the file to the
reader `registry` names for its extension and applies the sidecar's metadata to every
document. It returns the documents and the per-part warnings, or raises `SourceError` with
a reason a user can act on.

Left out: listing a folder (`listing`), which reader reads which extension (`registry`),
and what each format means (its own module).
"""

from __future__ import annotations

from pathlib import Path

from rag.errors import SourceError
from rag.types import Document

from .files import check_file, check_inside, read_bytes, relpath
from .metadata import apply_meta, read_sidecar
from .registry import format_for

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_LINE_CHARS = 200_000  # longer lines are not prose (see _without_huge_lines)


def read_source(path: Path, root: Path) -> tuple[list[Document], list[str]]:
    """Read one source file into its documents and a list of per-part warnings.

    Raises `SourceError(relative path, reason)` when the file as a whole is unusable.
    """
    path, root = Path(path), Path(root)
    rel = relpath(path, root)
    ext = path.suffix.lower()
    fmt = format_for(ext)
    if fmt is None:
        raise SourceError(rel, f"unsupported file type {ext or '(no extension)'!r}")
    check_inside(path, root, rel)
    if check_file(path, rel, MAX_FILE_BYTES) == 0:
        raise SourceError(rel, "empty file")
    sidecar = read_sidecar(path, root)  # first: a broken sidecar should not cost a PDF parse

    warnings: list[str] = []
    if fmt.read is not None:
        docs = fmt.read(read_bytes(path, rel, MAX_FILE_BYTES), rel, warnings)
    else:
        assert fmt.read_path is not None  # register_format takes exactly one of the two
        docs = fmt.read_path(path, rel, warnings)
    docs = _without_huge_lines(docs, rel, warnings)
    for doc in docs:
        apply_meta(doc, sidecar)
    return docs, warnings


def _without_huge_lines(docs: list[Document], rel: str, warnings: list[str]) -> list[Document]:
    """Refuse text with a line over MAX_LINE_CHARS: no article has one, and cutting such a
    line into chunks costs minutes (a 50 MB one-line file would stall the whole run)."""
    kept = []
    for doc in docs:
        longest = max(map(len, doc.text.splitlines()), default=0)
        if longest <= MAX_LINE_CHARS:
            kept.append(doc)
            continue
        reason = f"a line of {longest:,} characters (limit {MAX_LINE_CHARS:,}): not article text"
        if len(docs) == 1:
            raise SourceError(rel, reason)
        warnings.append(f"{doc.doc_id}: skipped, {reason}")
    if not kept:
        raise SourceError(rel, f"no documents left: {reason}")
    return kept
