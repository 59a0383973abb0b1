"""The HTML building blocks every view uses: escaping, safe links, highlights, ref classes.

`esc` escapes any text for HTML text and attributes; `safe_url` accepts only absolute
http(s) URLs, and `link` makes only those into links (new tab, rel="noopener noreferrer
nofollow"); `highlight` marks `text[start:end]` inside escaped text and `locate` finds a
quote at its offsets or elsewhere; `ref_class` names what a click opens; `meta_line` and
`title_of` say where a citation, passage or article comes from.

Left out: any layout of answers, panels, articles or tables (the sibling modules).
"""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import urlsplit

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


def meta_line(publisher: str | None, date: str | None, url: str | None) -> str:
    """Publisher · date · link to the original, of a citation, passage or article."""
    parts = [esc(value) for value in (publisher, date) if value]
    if safe_url(url):
        parts.append(link(url, "original ↗"))
    elif url:
        parts.append(f'<span class="rag-badurl">{esc(url)}</span>')
    return " · ".join(parts)


def title_of(title: str | None, doc_id: str | None) -> str:
    """The title of a citation, passage or article: its title, else its id."""
    return str(title or doc_id or "Untitled")
