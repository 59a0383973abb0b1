"""What the index would hold for each file, without indexing anything (`rag extract`).

`preview(paths)` reads each file (or each source file in a folder) the way `rag index`
does, cleans each of its articles the way `rag index` does (`article_text`, which the
index calls too), and yields one `FilePreview` per file: the articles with their metadata
and the cleaned text that is chunked and quoted, the warnings, or the reason the file
yields nothing. Nothing is embedded or stored, so this is quick and needs no model.

Left out: chunking and sentence splitting (they cut the text shown here, never change it).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .clean import clean
from .errors import SourceError
from .formats import list_sources, read_source
from .types import CleanText, Document

NO_TEXT_AFTER_CLEANING = "no article text left after cleaning"


@dataclass
class FilePreview:
    """One file's articles as the index would hold them, or why it yields none."""

    file: str
    articles: list[tuple[Document, CleanText]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str = ""


def article_text(doc: Document) -> CleanText | None:
    """The cleaned text the index chunks and quotes for `doc`, or None when none is left."""
    cleaned = clean(doc.text, drop_chrome=not doc.chrome_removed)
    return cleaned if cleaned.text.strip() else None


def preview(paths: Iterable[Path]) -> Iterator[FilePreview]:
    """A `FilePreview` per file named in `paths`; a folder stands for its source files."""
    for path in map(Path, paths):
        if path.is_dir():
            try:
                files, problems = list_sources(path)
            except SourceError as e:
                yield FilePreview(str(path), error=e.reason)
                continue
            yield from (FilePreview(str(path / rel), error=why) for rel, why in problems)
            yield from (_preview_file(file, path) for file in files)
        else:
            yield _preview_file(path, path.parent)


def _preview_file(path: Path, root: Path) -> FilePreview:
    result = FilePreview(str(path))
    try:
        documents, result.warnings = read_source(path, root)
    except SourceError as e:
        # e.path is relative to `root`: the file at fault, which may be the sidecar.
        result.file = str(root / e.path)
        result.error = e.reason
        return result
    for doc in documents:
        cleaned = article_text(doc)
        if cleaned is None:
            result.warnings.append(f"{doc.doc_id}: skipped, {NO_TEXT_AFTER_CLEANING}")
        else:
            result.articles.append((doc, cleaned))
    if not result.articles:
        result.error = NO_TEXT_AFTER_CLEANING
    return result
