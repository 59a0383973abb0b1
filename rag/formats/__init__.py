"""Turn the files of a sources folder into `Document`s.

`list_sources` walks the folder and says which files to read (and which entries it had to
skip, e.g. symlinks leading out of the folder); `read_source` reads one file into one or more
`Document`s plus per-part warnings, or raises `SourceError` with a reason a user can act on.

Formats: plain text (.txt), Markdown with optional YAML front matter (.md, .markdown), HTML
(.html, .htm), PDF (.pdf) and JSON Lines with one article per line (.jsonl). A sidecar file
`NAME.EXT.meta.yaml` next to a source fills in or overrides its metadata (for JSONL, that of
every record).

Text is decoded strictly: UTF-8 (or UTF-16/32 when a BOM says so; HTML may also declare its
charset); nothing is guessed. Plain text, Markdown bodies and JSONL texts are returned
verbatim, because later offsets must map back to them; HTML and PDF text is produced, as
paragraphs separated by blank lines: a web page's article body and metadata by `webpage`
(trafilatura), a PDF's pages here. PDFs are parsed in a child process with a time and memory
limit, and web pages over 100,000 characters in another with a time limit, so one hostile
file cannot hang or starve the indexer.

The modules: `listing` (which files), `source` (one file: common checks, then its format's
reader), `registry` (which reader reads which extension), `text` (.txt, .md), `html` (and
`_html_child`, the script its child process runs), `jsonl`, `pdf` (and `_pdf_child`, the
script the PDF child process runs), `metadata` (sidecars, front matter values, dates),
`decode` (bytes to text) and `files` (size-checked reads, paths). To add a format, write its
reader and `register_format` its extensions: listing, reading and the upload check follow.

Left out on purpose: OCR of scanned PDFs, .docx/.epub/.rtf, guessing legacy encodings,
removing chrome from text files (cleaning happens later), and fetching anything from the
network.
"""

from __future__ import annotations

from .listing import check_sources_folder, list_sources
from .metadata import SIDECAR_SUFFIX
from .pdf import PDF_MAX_MEMORY, PDF_TIMEOUT_S
from .registry import register_format, supported
from .source import MAX_FILE_BYTES, MAX_LINE_CHARS, read_source

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_LINE_CHARS",
    "PDF_MAX_MEMORY",
    "PDF_TIMEOUT_S",
    "SIDECAR_SUFFIX",
    "check_sources_folder",
    "list_sources",
    "read_source",
    "register_format",
    "supported",
]
