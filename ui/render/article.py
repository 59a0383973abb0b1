"""The article view: one whole cleaned article with the cited quote marked.

`article_view(doc, start, end, label=..., quote=...)` draws an article dict of
`rag.api.document()` with a "back to the sources" button, its title, publisher, date and
file, and its text escaped with `text[start:end]` marked (the app's JS scrolls to it).

Left out: fetching the article (the handlers call `rag.api.document`).
"""

from __future__ import annotations

import re

from ..types import Json
from .markup import esc, highlight, locate, meta_line, title_of

ARTICLE_PLACEHOLDER = (
    '<div class="rag-empty">Click a <b>[n]</b> marker or a source to read the whole '
    "article here, with the quote highlighted.</div>"
)
BACK_TO_SOURCES = "◂ Back to the sources"
_HEADING = re.compile(r"(?m)^((?:<mark[^>]*>)?)#{1,6}[ \t]+")
_KEEP_MARK = r"\1"


def article_view(doc: Json | None, start: int, end: int, *, label: str, quote: str = "") -> str:
    """The whole cleaned article, escaped, with `text[start:end]` marked (scrolled to by JS).

    `quote` (a citation's text) is checked against the offsets; if the article no longer
    holds it there, the first occurrence is marked, or a warning says it is missing. With
    `start == end` nothing is marked (an article opened from the library). Markdown
    heading marks ("# ") at line starts are not shown; the offsets are unaffected.
    """
    if doc is None:
        return (
            '<div class="rag-error">This article is no longer in the index '
            "(it was removed or re-indexed). Ask the question again.</div>"
        )
    text = str(doc.get("text", ""))
    where = locate(text, quote, start, end) if quote else (start, end)
    kind = "rag-quote" if quote else "rag-quote rag-passage-mark"
    body = highlight(text, *where, mark_class=kind) if where else esc(text)
    warn = (
        ""
        if where
        else '<div class="rag-error">The quoted text was not found in the current '
        "version of this article.</div>"
    )
    meta = meta_line(doc.get("publisher"), doc.get("date"), doc.get("url"))
    return (
        '<div class="rag-article"><div class="rag-article-head">'
        f'<button type="button" class="rag-back">{BACK_TO_SOURCES}</button>'
        f'<div class="rag-article-label">{esc(label)}</div>'
        f'<h3 class="rag-article-title">{esc(title_of(doc.get("title"), doc.get("doc_id")))}</h3>'
        + (f'<div class="rag-meta">{meta}</div>' if meta else "")
        + f'<div class="rag-meta">File: {esc(doc.get("source", ""))}</div>'
        + warn
        + f'</div><div class="rag-article-text">{_HEADING.sub(_KEEP_MARK, body)}</div></div>'
    )
