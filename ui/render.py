"""Pure rendering for the web app: answer objects and articles to HTML and Markdown.

Everything here takes plain data (the CONTRACT answer object from `Answer.to_json()`,
the article dicts of `rag.api.document()` / `documents()`) and returns strings. Text from
the sources is *always* `html.escape`d, so HTML or Markdown inside an article renders as
inert text; URLs become links only when they are http(s), and then open in a new tab with
rel="noopener noreferrer nofollow". Clickable things carry `rag-ref-TURN-KIND-N` classes that
the app's small JS listener turns into a "cite" event; no handler lives in the markup itself.
No Gradio, no retrieval, no answer logic here.
"""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import urlsplit

Json = dict[str, Any]

NOT_FOUND_HEADING = "Not found in the sources"
SOURCES_PLACEHOLDER = (
    '<div class="rag-empty">Ask a question: the sources of each answer appear here, '
    "with the quoted sentence highlighted inside its passage.</div>"
)
LOADING = '<div class="rag-empty rag-loading">Opening your latest conversation…</div>'
SEARCHING = '<div class="rag-answer"><i>Searching the sources…</i></div>'
ARTICLE_PLACEHOLDER = (
    '<div class="rag-empty">Click a <b>[n]</b> marker or a source to read the whole '
    "article here, with the quote highlighted.</div>"
)
ASK_ALONE = "Ask without the earlier questions"
BACK_TO_SOURCES = "◂ Back to the sources"
CLOSEST_SHOWN = 3  # passages offered under a "not found" answer (chat, panel and export)
MATCH_HELP = (
    "How close the passage's meaning is to the question (cosine similarity, 0 to 1; "
    "comparable across questions, above about 0.5 is usually on topic)"
)
CONFIDENCE_HELP = (
    "How likely the trained reader finds it that the first quote answers the question "
    "(calibrated on held-out questions; below the abstention threshold it says not found)"
)
_MARKER = re.compile(r"\[(\d{1,3})\]")
_CONTROL = re.compile(r"[\x00-\x20\x7f]")


def esc(text: Any) -> str:
    """`text` as HTML text (None is empty); quotes escaped too, so it is attribute-safe."""
    return html.escape("" if text is None else str(text), quote=True)


def safe_url(url: Any) -> str | None:
    """`url` when it is an absolute http(s) URL with a host and no spaces, else None."""
    if not isinstance(url, str) or not url or _CONTROL.search(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url


def link(url: Any, label: str | None = None) -> str:
    """An external link to `url` (http/https only); any other URL is shown as plain text."""
    good = safe_url(url)
    if good is None:
        return esc(url)
    return (
        f'<a href="{esc(good)}" target="_blank" rel="noopener noreferrer nofollow">'
        f"{esc(label if label is not None else good)}</a>"
    )


def highlight(text: str, start: int, end: int, *, mark_class: str = "rag-quote") -> str:
    """`text` escaped, with `text[start:end]` inside one `<mark>` (offsets are clamped)."""
    start = max(0, min(int(start), len(text)))
    end = max(start, min(int(end), len(text)))
    if start == end:
        return esc(text)
    return (
        f'{esc(text[:start])}<mark class="{esc(mark_class)}">{esc(text[start:end])}</mark>'
        f"{esc(text[end:])}"
    )


def locate(text: str, quote: str, start: int, end: int) -> tuple[int, int] | None:
    """Where `quote` is in `text`: at (start, end) when it is there, else its first match."""
    if quote and 0 <= start <= end <= len(text) and text[start:end] == quote:
        return start, end
    at = text.find(quote) if quote else -1
    return (at, at + len(quote)) if at >= 0 else None


def ref_class(turn: int, kind: str, n: int) -> str:
    """The classes that make an element open citation ("c") or passage ("p") `n` of `turn`,
    or ask the question of `turn` again without the earlier questions ("s").

    Classes, not data attributes: the chat's HTML sanitizer keeps `class` and drops `data-*`.
    """
    if kind not in ("c", "p", "s"):
        raise ValueError(f"kind must be 'c', 'p' or 's', not {kind!r}")
    return f"rag-ref rag-ref-{int(turn)}-{kind}-{int(n)}"


def meta_line(item: Json) -> str:
    """Publisher · date · link to the original, for a citation, passage or article dict."""
    parts = [esc(item[key]) for key in ("publisher", "date") if item.get(key)]
    if safe_url(item.get("url")):
        parts.append(link(item["url"], "original ↗"))
    elif item.get("url"):
        parts.append(f'<span class="rag-badurl">{esc(item["url"])}</span>')
    return " · ".join(parts)


def _title(item: Json) -> str:
    return str(item.get("title") or item.get("doc_id") or "Untitled")


# --- chat bubbles -------------------------------------------------------------------


def user_bubble(question: str) -> str:
    """The user's question as inert text."""
    return f'<div class="rag-user">{esc(question)}</div>'


def _with_markers(text: str, turn: int, numbers: set[int]) -> str:
    """Escaped `text` with each `[n]` of a known citation turned into a clickable marker."""
    out, last = [], 0
    for m in _MARKER.finditer(text):
        n = int(m.group(1))
        if n not in numbers:
            continue
        out.append(esc(text[last : m.start()]))
        out.append(
            f'<button type="button" class="rag-cite {ref_class(turn, "c", n)}" '
            f'title="Open source [{n}]">[{n}]</button>'
        )
        last = m.end()
    out.append(esc(text[last:]))
    return "".join(out)


def searched_line(answer: Json, turn: int) -> str:
    """What was searched, when the question was read as a follow-up, with a button to
    ask the question again on its own."""
    question, searched = answer.get("question", ""), answer.get("searched") or ""
    if not searched or searched == question:
        return ""
    return (
        f'<div class="rag-searched">Searched: “{esc(searched)}” '
        f'<button type="button" class="rag-again {ref_class(turn, "s", 0)}">'
        f"{ASK_ALONE}</button></div>"
    )


def by_article(citations: list[Json]) -> list[list[Json]]:
    """Citations grouped by article, in the order each article is first cited."""
    groups: dict[str, list[Json]] = {}
    for c in citations:
        groups.setdefault(str(c.get("doc_id")), []).append(c)
    return list(groups.values())


def _source_lines(answer: Json, turn: int) -> str:
    """One line per cited article: its markers (each opens its own quote), title, meta."""
    items = []
    for group in by_article(answer.get("citations", [])):
        markers = "".join(
            f'<button type="button" class="rag-cite {ref_class(turn, "c", c["n"])}" '
            f'title="Open source [{int(c["n"])}]">[{int(c["n"])}]</button>'
            for c in group
        )
        first = group[0]
        meta = meta_line(first)
        items.append(
            f"<li>{markers} "
            f'<button type="button" class="rag-srcbtn {ref_class(turn, "c", first["n"])}">'
            f"{esc(_title(first))}</button>"
            + (f' <span class="rag-meta">{meta}</span>' if meta else "")
            + "</li>"
        )
    return f'<ol class="rag-srclist">{"".join(items)}</ol>' if items else ""


def answer_bubble(answer: Json, turn: int, *, partial: str | None = None) -> str:
    """One answer for the chat: text with clickable [n] markers, then its sources under it,
    one line per article.

    With `partial` (the first words of the answer while it streams) only that text shows;
    the finished bubble carries the class `rag-done`.
    """
    done = "" if partial is not None else " rag-done"
    parts = [f'<div class="rag-answer{done}">', searched_line(answer, turn)]
    if answer.get("abstained"):
        parts.append(f'<div class="rag-abstain"><b>{NOT_FOUND_HEADING}.</b> ')
        parts.append(esc(partial if partial is not None else answer.get("answer", "")))
        parts.append("</div>")
        if partial is None:
            parts.append(_closest_list(answer, turn))
        parts.append("</div>")
        return "".join(parts)
    numbers = {int(c["n"]) for c in answer.get("citations", [])}
    text = partial if partial is not None else answer.get("answer", "")
    if partial is None and answer.get("note"):
        parts.append(f'<div class="rag-note">{esc(answer["note"])}</div>')
    body = _with_markers(text, turn, numbers)
    if partial is None and answer.get("sentences"):
        body = " ".join(_checked_sentence(s, turn, numbers) for s in answer["sentences"])
    parts.append(f'<div class="rag-text">{body}</div>')
    if partial is None:
        parts.append(_confidence(answer))
        parts.append(_source_lines(answer, turn))
    parts.append("</div>")
    return "".join(parts)


def _confidence(answer: Json) -> str:
    """The reader's probability that the answer answers, in words a reader can weigh."""
    value = answer.get("confidence")
    if value is None:
        return ""
    return (
        f'<div class="rag-confidence" title="{esc(CONFIDENCE_HELP)}">'
        f"reader confidence {round(100 * float(value))}%</div>"
    )


UNSUPPORTED_LABEL = "not supported by its cited source"


def _checked_sentence(sentence: Json, turn: int, numbers: set[int]) -> str:
    """One sentence of a local-LLM answer; an unsupported one is flagged in plain sight."""
    markers = "".join(f" [{int(n)}]" for n in sentence.get("citations", []))
    body = _with_markers(str(sentence.get("text", "")) + markers, turn, numbers)
    if sentence.get("supported", True):
        return body
    return (
        f'<span class="rag-unsupported" title="{UNSUPPORTED_LABEL}">⚠ <em>{body}</em> '
        f"<small>({UNSUPPORTED_LABEL})</small></span>"
    )


def closest(answer: Json) -> list[Json]:
    """The passages offered under a "not found" answer: the first `CLOSEST_SHOWN`."""
    return list(answer.get("passages", []))[:CLOSEST_SHOWN]


def _closest_list(answer: Json, turn: int) -> str:
    passages = closest(answer)
    if not passages:
        return ""
    items = "".join(
        f'<li><button type="button" class="rag-srcbtn {ref_class(turn, "p", p["rank"])}">'
        f"({int(p['rank'])}) {esc(_title(p))}</button></li>"
        for p in passages
    )
    return (
        '<div class="rag-closest">The closest passages are listed beside; judge them '
        f'yourself:<ol class="rag-srclist">{items}</ol></div>'
    )


def error_bubble(message: str) -> str:
    """A library error (`str(RagError)`) shown in the chat, as text."""
    return f'<div class="rag-error">{esc(message)}</div>'


# --- the sources panel --------------------------------------------------------------


def _passage_for(answer: Json, citation: Json) -> Json | None:
    for p in answer.get("passages", []):
        if p.get("doc_id") == citation.get("doc_id") and (
            p.get("start", 0) <= citation.get("start", -1) < p.get("end", 0)
        ):
            return p
    return None


def quote_in_passage(answer: Json, citation: Json) -> str:
    """The passage holding the citation, escaped, with the quote marked (or the quote alone)."""
    p = _passage_for(answer, citation)
    quote = str(citation.get("quote", ""))
    if p is not None:
        text = str(p.get("text", ""))
        s = int(citation.get("start", 0)) - int(p.get("start", 0))
        where = locate(text, quote, s, s + len(quote))
        if where:
            return highlight(text, *where)
    return f'<mark class="rag-quote">{esc(quote)}</mark>'


def _card(turn: int, kind: str, n: int, item: Json, body: str, score: str = "") -> str:
    meta = meta_line(item)
    label = f"[{n}]" if kind == "c" else f"({n})"
    return (
        f'<article class="rag-card {ref_class(turn, kind, n)}" role="button" tabindex="0">'
        f'<div class="rag-card-head"><span class="rag-n">{label}</span> '
        f'<span class="rag-title">{esc(_title(item))}</span>{score}</div>'
        + (f'<div class="rag-meta">{meta}</div>' if meta else "")
        + f'<blockquote class="rag-passage">{body}</blockquote>'
        f'<div class="rag-open">Open the article ▸</div></article>'
    )


def _score(p: Json, show_scores: bool) -> str:
    """The passage's similarity to the question. Not the ranking score: that one is
    scaled per question, so every top passage had 1.000."""
    if not show_scores or p.get("similarity") is None:
        return ""
    return (
        f' <span class="rag-score" title="{esc(MATCH_HELP)}">'
        f"match {float(p['similarity']):.2f}</span>"
    )


def _passage_cards(passages: list[Json], turn: int, show_scores: bool) -> str:
    return "".join(
        _card(turn, "p", int(p["rank"]), p, esc(p.get("text", "")), _score(p, show_scores))
        for p in passages
    )


def _details(label: str, passages: list[Json], turn: int, show_scores: bool) -> str:
    if not passages:
        return ""
    cards = _passage_cards(passages, turn, show_scores)
    return f'<details class="rag-all"><summary>{esc(label)}</summary>{cards}</details>'


def sources_panel(answer: Json, turn: int, *, show_scores: bool = False) -> str:
    """Beside the chat: the cited sources (quote marked in its passage), then all passages."""
    parts = [
        f'<div class="rag-sources" data-turn="{int(turn)}">'
        f'<div class="rag-for">Sources for: “{esc(answer.get("question", ""))}”</div>',
        searched_line(answer, turn),
    ]
    passages = answer.get("passages", [])
    if answer.get("abstained"):
        shown = closest(answer)
        parts.append(
            f'<div class="rag-abstain"><b>{NOT_FOUND_HEADING}.</b> '
            "The closest passages are below; judge them yourself.</div>"
        )
        parts.append(_passage_cards(shown, turn, show_scores))
        rest = passages[len(shown) :]
        parts.append(_details(f"{len(rest)} more passages", rest, turn, show_scores))
    else:
        for c in answer.get("citations", []):
            p = _passage_for(answer, c)
            score = _score(p, show_scores) if p else ""
            parts.append(_card(turn, "c", int(c["n"]), c, quote_in_passage(answer, c), score))
        label = f"All {len(passages)} retrieved passages"
        parts.append(_details(label, passages, turn, show_scores))
    parts.append("</div>")
    return "".join(parts)


# --- the article (citation) view ----------------------------------------------------


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
    meta = meta_line(doc)
    return (
        '<div class="rag-article"><div class="rag-article-head">'
        f'<button type="button" class="rag-back">{BACK_TO_SOURCES}</button>'
        f'<div class="rag-article-label">{esc(label)}</div>'
        f'<h3 class="rag-article-title">{esc(_title(doc))}</h3>'
        + (f'<div class="rag-meta">{meta}</div>' if meta else "")
        + f'<div class="rag-meta">File: {esc(doc.get("source", ""))}</div>'
        + warn
        + f'</div><div class="rag-article-text">{_HEADING.sub(_KEEP_MARK, body)}</div></div>'
    )


# --- the library tab ----------------------------------------------------------------


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


LIBRARY_COLUMNS = ("Title", "Publisher", "Date", "Chunks", "Added (UTC)", "File")
_CELL_CLASS = {"Chunks": ' class="rag-num"', "File": ' class="rag-file"'}


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
            f'title="Read it here">{esc(_title(d))}</button>'
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
