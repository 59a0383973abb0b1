"""Plain text (.txt) and Markdown (.md, .markdown) files, returned verbatim.

`read_text` and `read_markdown` decode a file strictly and return one `Document` whose
text is the file's text unchanged (later offsets must map back to it). Markdown may open
with YAML front matter between `---` lines: it becomes the document's metadata and is cut
from the text; without a title there, the first `# heading` is the title.

Left out on purpose: rendering Markdown, removing chrome (cleaning happens later) and
front matter in formats other than YAML (TOML `+++`, JSON).
"""

from __future__ import annotations

import re

from rag.errors import SourceError
from rag.types import Document

from .decode import decode, nonblank
from .metadata import apply_meta, load_yaml

# Front matter: a `---` line at the very start, YAML, then a `---` (or `...`) line.
_FRONT_MATTER = re.compile(
    r"\A---[ \t]*\r?\n(.*?\r?\n)??(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.DOTALL
)
_MD_HEADING = re.compile(r"^#[ \t]+(.+?)[ \t#]*$", re.MULTILINE)


def read_text(data: bytes, rel: str) -> Document:
    """A .txt file as one document, its text exactly as decoded."""
    return Document(doc_id=rel, source=rel, text=nonblank(decode(data, rel), rel))


def read_markdown(data: bytes, rel: str) -> Document:
    """A Markdown file as one document: front matter to metadata, the rest verbatim."""
    text = nonblank(decode(data, rel), rel)
    doc = Document(doc_id=rel, source=rel, text=text)
    match = _FRONT_MATTER.match(text)
    if match:
        meta = load_yaml(match.group(1) or "", rel, "bad YAML front matter", line_offset=1)
        doc.text = text[match.end() :]
        if not doc.text.strip():
            raise SourceError(rel, "no text after the front matter")
        apply_meta(doc, meta)
    if not doc.title:
        heading = _MD_HEADING.search(doc.text)
        if heading:
            doc.title = heading.group(1)
    return doc
