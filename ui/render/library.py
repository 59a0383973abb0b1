"""The Library tab's HTML: the table of indexed articles, per-file reports, progress words.

`library_table(docs, query)` lists the articles of `rag.api.documents()` that match every
word of `query` (a title button opens the article); `file_report` says, one line per file,
what became of an upload, removal or re-index; `progress_words` turns the indexer's
progress messages into plain words.

Left out: the handlers that add, remove and re-index (`ui.library`).
"""

from __future__ import annotations

import re
from typing import Any

from ..types import Json
from .markup import esc, link, safe_url, title_of

LIBRARY_COLUMNS = ("Title", "Publisher", "Date", "Chunks", "Added (UTC)", "File")
_CELL_CLASS = {"Chunks": ' class="rag-num"', "File": ' class="rag-file"'}


def filter_documents(docs: list[Json], query: str) -> list[Json]:
    """The articles whose title, publisher, date, file or URL contain every query word."""
    words = (query or "").lower().split()
    if not words:
        return docs
    keys = ("title", "publisher", "date", "source", "url", "doc_id")
    return [
        d
        for d in docs
        if all(w in " ".join(str(d.get(k) or "") for k in keys).lower() for w in words)
    ]


def _when(stamp: Any) -> str:
    """An ISO time stamp as "YYYY-MM-DD HH:MM:SS" (UTC offset dropped), else as given."""
    text = str(stamp or "")
    match = re.match(r"(\d{4}-\d\d-\d\d)T(\d\d:\d\d(?::\d\d)?)(?:\.\d+)?(?:Z|[+-]00:?00)?$", text)
    return f"{match[1]} {match[2]}" if match else text


def library_table(docs: list[Json], query: str = "") -> str:
    """The indexed articles as an HTML table (every cell escaped)."""
    shown = filter_documents(docs, query)
    chunks = sum(int(d.get("chunks") or 0) for d in docs)
    head = (
        f'<div class="rag-libcount">{len(docs)} articles, {chunks} chunks indexed'
        + (f"; {len(shown)} match “{esc(query)}”" if query.strip() else "")
        + "</div>"
    )
    if not shown:
        return head + '<div class="rag-empty">No articles match.</div>'
    rows = []
    for d in shown:
        title = (
            f'<button type="button" class="rag-doc" data-doc="{esc(d.get("doc_id"))}" '
            f'title="Read it here">{esc(title_of(d.get("title"), d.get("doc_id")))}</button>'
        )
        if safe_url(d.get("url")):
            title += " " + link(d["url"], "original ↗")
        cells = [
            title,
            esc(d.get("publisher") or ""),
            esc(d.get("date") or ""),
            str(int(d.get("chunks") or 0)),
            esc(_when(d.get("added_at"))),
            esc(d.get("source") or ""),
        ]
        rows.append(
            "<tr>"
            + "".join(
                f'<td data-label="{name}"{_CELL_CLASS.get(name, "")}>{cell}</td>'
                for name, cell in zip(LIBRARY_COLUMNS, cells, strict=True)
            )
            + "</tr>"
        )
    header = "".join(f"<th>{name}</th>" for name in LIBRARY_COLUMNS)
    return (
        head
        + f'<table class="rag-library"><thead><tr>{header}</tr></thead><tbody>'
        + "".join(rows)
        + "</tbody></table>"
    )


def progress_words(done: int, total: int, message: str) -> str:
    """An indexing progress message in plain words: "reading a.md" -> "Reading a.md (1 of
    2)", "embedding" -> "Preparing the articles for search"."""
    if message.startswith("reading "):
        return f"Reading {message[len('reading ') :]} ({done} of {total} files)"
    if message == "embedding":
        return "Preparing the articles for search"
    return message[:1].upper() + message[1:]


def file_report(rows: list[tuple[str, bool, str]], summary: str = "") -> str:
    """Per-file results of an upload: (file name, ok, message) each on its own line."""
    items = "".join(
        f'<li class="{"rag-ok" if ok else "rag-fail"}"><span class="rag-file">{esc(name)}</span>'
        f" — {esc(message)}</li>"
        for name, ok, message in rows
    )
    return (
        '<div class="rag-report">'
        + (f'<div class="rag-summary">{esc(summary)}</div>' if summary else "")
        + (f"<ul>{items}</ul>" if items else "")
        + "</div>"
    )
