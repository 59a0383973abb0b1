"""Saved web pages (.html, .htm): decoded here, their article read by `rag.webpage`.

`read_html(data, rel)` decodes the page strictly (UTF-8, a BOM, or the charset the page
declares) and hands it to `rag.webpage.read_page`, which finds the article body and its
metadata; the result is one `Document`, marked `chrome_removed` when only the body was kept.

Left out: everything about finding the article in the markup (that is `rag.webpage`).
"""

from __future__ import annotations

from rag.types import Document
from rag.webpage import read_page

from .decode import decode, nonblank
from .metadata import apply_meta


def read_html(data: bytes, rel: str) -> Document:
    """A saved web page as one document: its article text and metadata."""
    page = read_page(nonblank(decode(data, rel, html=True), rel), rel)
    doc = Document(doc_id=rel, source=rel, text=page.text, chrome_removed=page.chrome_removed)
    apply_meta(doc, page.meta)
    return doc
