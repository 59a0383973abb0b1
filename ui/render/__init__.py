"""Pure rendering for the web app: answer objects and articles to HTML.

Everything here takes data (a `rag.types.Answer` with its citations and passages, the
article dicts of `rag.api.document()` / `documents()`) and returns strings. Text from
the sources is *always* `html.escape`d, so HTML or Markdown inside an article renders as
inert text; URLs become links only when they are http(s), and then open in a new tab with
rel="noopener noreferrer nofollow". Clickable things carry `rag-ref-TURN-KIND-N` classes that
the app's small JS listener turns into a "cite" event; no handler lives in the markup itself.

The modules, re-exported here: `markup` (escaping, links, highlights, ref classes),
`answer` (the chat bubbles), `sources` (the panel beside the chat), `article` (one whole
article, quote marked) and `library` (the Library tab's table and reports). The Markdown
export is `ui.export`.

No Gradio, no retrieval, no answer logic here.
"""

from __future__ import annotations

from .answer import (
    ASK_ALONE,
    CLOSEST_SHOWN,
    CONFIDENCE_HELP,
    NOT_FOUND_HEADING,
    SEARCHING,
    STILL_STREAMING,
    UNSUPPORTED_LABEL,
    UNSURE_LABEL,
    after_label,
    answer_bubble,
    by_article,
    closest,
    error_bubble,
    percent,
    searched_line,
    user_bubble,
)
from .article import ARTICLE_PLACEHOLDER, BACK_TO_SOURCES, article_view
from .library import LIBRARY_COLUMNS, file_report, filter_documents, library_table, progress_words
from .markup import esc, highlight, link, locate, meta_line, ref_class, safe_url, title_of
from .sources import LOADING, MATCH_HELP, SOURCES_PLACEHOLDER, quote_in_passage, sources_panel

__all__ = [
    "ARTICLE_PLACEHOLDER",
    "ASK_ALONE",
    "BACK_TO_SOURCES",
    "CLOSEST_SHOWN",
    "CONFIDENCE_HELP",
    "LIBRARY_COLUMNS",
    "LOADING",
    "MATCH_HELP",
    "NOT_FOUND_HEADING",
    "SEARCHING",
    "SOURCES_PLACEHOLDER",
    "STILL_STREAMING",
    "UNSUPPORTED_LABEL",
    "UNSURE_LABEL",
    "after_label",
    "answer_bubble",
    "article_view",
    "by_article",
    "closest",
    "error_bubble",
    "esc",
    "file_report",
    "filter_documents",
    "highlight",
    "library_table",
    "link",
    "locate",
    "meta_line",
    "percent",
    "progress_words",
    "quote_in_passage",
    "ref_class",
    "safe_url",
    "searched_line",
    "sources_panel",
    "title_of",
    "user_bubble",
]
