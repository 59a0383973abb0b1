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
from urllib.parse import quote as url_quote
from urllib.parse import urlsplit

Json = dict[str, Any]

NOT_FOUND_HEADING = "Not found in the sources"
SOURCES_PLACEHOLDER = (
    '<div class="rag-empty">Ask a question: the sources of each answer appear here, '
    "with the quoted sentence highlighted inside its passage.</div>"
)
SEARCHING = '<div class="rag-answer"><i>Searching the sources…</i></div>'
ARTICLE_PLACEHOLDER = (
    '<div class="rag-empty">Click a <b>[n]</b> marker or a source to read the whole '
    "article here, with the quote highlighted.</div>"
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
    """The classes that make an element open citation ("c") or passage ("p") `n` of `turn`.

    Classes, not data attributes: the chat's HTML sanitizer keeps `class` and drops `data-*`.
    """
    if kind not in ("c", "p"):
        raise ValueError(f"kind must be 'c' or 'p', not {kind!r}")
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


def answer_bubble(answer: Json, turn: int, *, partial: str | None = None) -> str:
    """One answer for the chat: text with clickable [n] markers, then its sources under it.

    With `partial` (the first words of the answer while it streams) only that text shows;
    the finished bubble carries the class `rag-done`.
    """
    done = "" if partial is not None else " rag-done"
    parts = [f'<div class="rag-answer{done}">']
    question, searched = answer.get("question", ""), answer.get("searched") or ""
    if searched and searched != question:
        parts.append(f'<div class="rag-searched">Searched: “{esc(searched)}”</div>')
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
    if partial is None and answer.get("citations"):
        parts.append('<ol class="rag-srclist">')
        for c in answer["citations"]:
            meta = meta_line(c)
            parts.append(
                f'<li><button type="button" class="rag-srcbtn {ref_class(turn, "c", c["n"])}">'
                f"[{int(c['n'])}] {esc(_title(c))}</button>"
                + (f' <span class="rag-meta">{meta}</span>' if meta else "")
                + "</li>"
            )
        parts.append("</ol>")
    parts.append("</div>")
    return "".join(parts)


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


def _closest_list(answer: Json, turn: int) -> str:
    passages = answer.get("passages", [])[:3]
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
    if not show_scores or p.get("score") is None:
        return ""
    return f' <span class="rag-score">score {float(p["score"]):.3f}</span>'


def sources_panel(answer: Json, turn: int, *, show_scores: bool = False) -> str:
    """Beside the chat: the cited sources (quote marked in its passage), then all passages."""
    parts = [
        f'<div class="rag-sources" data-turn="{int(turn)}">'
        f'<div class="rag-for">Sources for: “{esc(answer.get("question", ""))}”</div>'
    ]
    searched = answer.get("searched") or ""
    if searched and searched != answer.get("question"):
        parts.append(f'<div class="rag-searched">Searched: “{esc(searched)}”</div>')
    passages = answer.get("passages", [])
    if answer.get("abstained"):
        parts.append(
            f'<div class="rag-abstain"><b>{NOT_FOUND_HEADING}.</b> '
            "The closest passages are below; judge them yourself.</div>"
        )
        for p in passages:
            parts.append(
                _card(turn, "p", int(p["rank"]), p, esc(p.get("text", "")), _score(p, show_scores))
            )
        parts.append("</div>")
        return "".join(parts)
    for c in answer.get("citations", []):
        p = _passage_for(answer, c)
        score = _score(p, show_scores) if p else ""
        parts.append(_card(turn, "c", int(c["n"]), c, quote_in_passage(answer, c), score))
    if passages:
        parts.append(
            f'<details class="rag-all"><summary>All {len(passages)} retrieved passages</summary>'
        )
        for p in passages:
            parts.append(
                _card(turn, "p", int(p["rank"]), p, esc(p.get("text", "")), _score(p, show_scores))
            )
        parts.append("</details>")
    parts.append("</div>")
    return "".join(parts)


# --- the article (citation) view ----------------------------------------------------


def article_view(doc: Json | None, start: int, end: int, *, label: str, quote: str = "") -> str:
    """The whole cleaned article, escaped, with `text[start:end]` marked (scrolled to by JS).

    `quote` (a citation's text) is checked against the offsets; if the article no longer
    holds it there, the first occurrence is marked, or a warning says it is missing.
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
        f'<div class="rag-article-label">{esc(label)}</div>'
        f'<h3 class="rag-article-title">{esc(_title(doc))}</h3>'
        + (f'<div class="rag-meta">{meta}</div>' if meta else "")
        + f'<div class="rag-meta">File: {esc(doc.get("source", ""))}</div>'
        + warn
        + f'</div><div class="rag-article-text">{body}</div></div>'
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
        title = esc(_title(d))
        if safe_url(d.get("url")):
            title = link(d["url"], _title(d))
        rows.append(
            "<tr>"
            f"<td>{title}</td><td>{esc(d.get('publisher') or '')}</td>"
            f"<td>{esc(d.get('date') or '')}</td>"
            f'<td class="rag-num">{int(d.get("chunks") or 0)}</td>'
            f"<td>{esc(_when(d.get('added_at')))}</td>"
            f'<td class="rag-file">{esc(d.get("source") or "")}</td>'
            "</tr>"
        )
    return (
        head + '<table class="rag-library"><thead><tr><th>Title</th><th>Publisher</th>'
        "<th>Date</th><th>Chunks</th><th>Added (UTC)</th><th>File</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )


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


# --- Markdown export ----------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|!{}])")


def md_escape(text: Any) -> str:
    """`text` with Markdown and HTML punctuation backslash-escaped, so it renders as text."""
    return _MD_SPECIAL.sub(r"\\\1", "" if text is None else str(text))


def md_link(url: Any, label: str) -> str:
    """A Markdown link for http(s) URLs; anything else as escaped text."""
    good = safe_url(url)
    if good is None:
        return md_escape(label)
    return f"[{md_escape(label)}]({url_quote(good, safe=':/?#@!$&*+,;=%~.-_')})"


def _md_quote(text: str) -> str:
    return "\n".join("> " + md_escape(line) for line in str(text).splitlines() or [""])


def _md_source(item: Json, n: str) -> str:
    bits = [md_escape(item[k]) for k in ("publisher", "date") if item.get(k)]
    title = _title(item)
    head = md_link(item.get("url"), title) if safe_url(item.get("url")) else md_escape(title)
    line = f"{n} {head}" + (" — " + ", ".join(bits) if bits else "")
    if item.get("url") and not safe_url(item.get("url")):
        line += f" ({md_escape(item['url'])})"
    return line


def answer_markdown(answer: Json) -> str:
    """One answer as Markdown: question, searched query, answer, sources with their quotes."""
    lines = [f"## {md_escape(answer.get('question', ''))}", ""]
    searched = answer.get("searched") or ""
    if searched and searched != answer.get("question"):
        lines += [f"*Searched:* {md_escape(searched)}", ""]
    if answer.get("abstained"):
        lines += [f"**{NOT_FOUND_HEADING}.** {md_escape(answer.get('answer', ''))}", ""]
        passages = answer.get("passages", [])
        if passages:
            lines += ["Closest passages:", ""]
            for p in passages:
                head = _md_source(p, f"({int(p['rank'])})")
                lines += [head, "", _md_quote(p.get("text", "")), ""]
        return "\n".join(lines).rstrip() + "\n"
    if answer.get("note"):
        lines += [f"*Note:* {md_escape(answer['note'])}", ""]
    if answer.get("sentences"):
        shown = [
            md_escape(x.get("text", ""))
            + "".join(f" \\[{int(n)}\\]" for n in x.get("citations", []))
            + ("" if x.get("supported", True) else f" ⚠ *({UNSUPPORTED_LABEL})*")
            for x in answer["sentences"]
        ]
        lines += [" ".join(shown), ""]
    else:
        lines += [md_escape(answer.get("answer", "")), ""]
    if answer.get("citations"):
        lines += ["Sources:", ""]
        for c in answer["citations"]:
            lines += [_md_source(c, f"\\[{int(c['n'])}\\]"), "", _md_quote(c.get("quote", "")), ""]
    return "\n".join(lines).rstrip() + "\n"


def conversation_markdown(answers: list[Json], title: str = "Conversation") -> str:
    """Every answer of a conversation, in order, as one Markdown document."""
    body = "\n".join(answer_markdown(a) for a in answers)
    return f"# {md_escape(title)}\n\n" + (body or "*No questions asked yet.*\n")
