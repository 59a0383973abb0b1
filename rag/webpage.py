"""Saved web pages: the article body and metadata of one HTML page, as paragraphs.

`read_page(html, rel)` takes a decoded page and returns a `Page`: its article text
(paragraphs joined by blank lines), a metadata mapping (title, author, date, publisher, url,
language) and whether page chrome is already gone. The body comes from trafilatura,
favouring precision: chrome that slips through (related links, captions, comment counts)
would become citable "evidence", and on the public article-extraction benchmark this
setting scores best, and best without the project's chrome rules after it (BENCHMARKS.md,
"Saved pages"). Its metadata comes from trafilatura too (htmldate for the date). When
trafilatura finds no body, the page is read the way it was before trafilatura: the visible
text of the largest `<article>`/`<main>` (or of the whole page), metadata from the usual
`<meta>` tags, and `clean` removes the chrome later.

Hidden elements (`hidden`, `aria-hidden="true"`, inline `display:none`/`visibility:hidden`)
are dropped before either extractor reads the page, so text a reader cannot see is never
indexed; so are `<nav>`, `<aside>` and `<footer>`, which trafilatura's own cleaning drops
too but its last resort for short pages (all the text of the body) would keep. Pages with
more than `MAX_TAGS` start tags are refused: no article has that much markup, and
extraction time grows with it.

Left out on purpose: decoding (the caller decodes strictly, see `formats`), CSS stylesheets
(only inline styles hide), running scripts, reader comments, images and link targets, and
anything that needs the network.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import islice
from typing import TYPE_CHECKING, Any

from rag.errors import SourceError

if TYPE_CHECKING:
    from bs4 import Tag
    from lxml.html import HtmlElement

MAX_TAGS = 150_000
# lxml, jusText and htmldate take time quadratic in one tag's attributes (10,000 on one
# <div>: 1.7 s; 20,000: 9.6 s) and about 26 µs per attribute on the page (300 tags of
# 1,000 attributes: 7.6 s); no article's markup comes near either limit.
MAX_TAG_ATTRIBUTES = 1_000
MAX_ATTRIBUTES = 300_000
# trafilatura's backup extractors (readability, jusText) add a little on full-size news pages,
# but jusText's pass is quadratic in paragraphs: a page with more tags than this skips them.
_BACKUP_EXTRACTORS_MAX_TAGS = 10_000
_START_TAG = re.compile(r"<[A-Za-z]")
# A start tag's attributes (quoted values may hold ">"); each alternative starts differently,
# so matching is linear.
_TAG_BODY = re.compile(r"""<[A-Za-z][^\s/>]*((?:[^>"']|"[^"]*"|'[^']*')*)""")
_ATTRIBUTE = re.compile(r"""[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'>]+))?""")
# Where the markup holds no tags: scripts ("for (i = 0; i<n; ...)" is no tag), styles,
# templates, text areas and comments, each skipped up to its end.
_RAW_OPEN = re.compile(r"<(script|style|template|textarea)\b|<!--", re.I)
_RAW_CLOSE = {
    name: re.compile(rf"</{name}\s*>", re.I) for name in ("script", "style", "template", "textarea")
}


@dataclass
class Page:
    """The article of one web page; `chrome_removed` when only its body was kept."""

    text: str
    meta: dict[str, str] = field(default_factory=dict)
    chrome_removed: bool = False


def read_page(html: str, rel: str) -> Page:
    """The article of page `html`; SourceError(rel, ...) when it has no text."""
    tags = check_markup(html, rel)
    try:
        found = _trafilatura(html, fast=tags > _BACKUP_EXTRACTORS_MAX_TAGS)
    except MemoryError:
        raise
    except Exception:  # it fails on some malformed pages (AssertionError, lxml errors, ...)
        found = None
    if found is not None:
        return found
    return _soup_page(html, rel)


def check_markup(html: str, rel: str) -> int:
    """The page's start tags, counted (and their attributes) before anything parses it;
    SourceError(rel, "too much markup ...") past `MAX_TAGS`, `MAX_TAG_ATTRIBUTES` on one
    tag or `MAX_ATTRIBUTES` in all."""
    html = markup_only(html)
    tags = sum(1 for _ in _START_TAG.finditer(html))
    if tags > MAX_TAGS:
        raise SourceError(
            rel, f"too much markup for one article ({tags:,} tags, limit {MAX_TAGS:,})"
        )
    total = 0
    for tag in _TAG_BODY.finditer(html):
        body = tag.group(1)
        if len(body) < 2:
            continue
        found = sum(1 for _ in islice(_ATTRIBUTE.finditer(body), MAX_TAG_ATTRIBUTES + 1))
        if found > MAX_TAG_ATTRIBUTES:
            raise SourceError(
                rel,
                f"too much markup for one article (over {MAX_TAG_ATTRIBUTES:,} attributes on "
                "one tag)",
            )
        total += found
    if total > MAX_ATTRIBUTES:
        raise SourceError(
            rel,
            f"too much markup for one article ({total:,} attributes, limit {MAX_ATTRIBUTES:,})",
        )
    return tags


def markup_only(html: str) -> str:
    """`html` without the insides of scripts, styles, templates, text areas and comments,
    in one pass: an element left open drops the rest of the page, as a browser reads it."""
    kept, at = [], 0
    while (opened := _RAW_OPEN.search(html, at)) is not None:
        kept.append(html[at : opened.start()])
        if opened.group(1) is None:
            end = html.find("-->", opened.end())
            at = -1 if end < 0 else end + 3
        else:
            closed = _RAW_CLOSE[opened.group(1).lower()].search(html, opened.end())
            at = -1 if closed is None else closed.end()
        if at < 0:
            return " ".join(kept)
    kept.append(html[at:])
    return " ".join(kept)


# ---------------------------------------------------------------------------------------------
# trafilatura

# Blocks of trafilatura's output tree that end a paragraph; <lb/> is a <br> in the page.
_XML_BLOCK = frozenset(
    ("body", "p", "head", "list", "item", "quote", "table", "row", "lb", "code", "div")
)
_XML_CELL = "cell"  # adjacent cells must not glue their words together


def _trafilatura(html: str, fast: bool) -> Page | None:
    """Body and metadata by trafilatura, or None when it finds no body."""
    from trafilatura import bare_extraction
    from trafilatura.utils import load_html

    _quiet()
    tree = load_html(html)
    if tree is None or _hidden(tree.attrib):  # a hidden root: the fallback finds no text
        return None
    _drop_chrome_and_hidden(tree)
    found = bare_extraction(
        tree, fast=fast, favor_precision=True, include_comments=False, with_metadata=True
    )
    if found is None or isinstance(found, dict) or found.body is None:  # a dict: as_dict=True
        return None
    paragraphs = _xml_paragraphs(found.body)
    if not paragraphs:
        return None
    found_meta = {
        "title": found.title,
        "author": found.author,
        "date": found.date,
        "publisher": found.sitename,
        "url": _canonical(tree) or found.url,
        "language": _language(tree),
    }
    meta = {key: value for key, value in found_meta.items() if value}
    return Page("\n\n".join(paragraphs), meta, chrome_removed=True)


def _quiet() -> None:
    """Keep trafilatura's per-page log lines ("discarding data: None") off the user's screen;
    an application that configures logging still receives them."""
    for name in ("trafilatura", "htmldate", "courlan", "justext"):
        logger = logging.getLogger(name)
        if not logger.handlers:
            logger.addHandler(logging.NullHandler())


_CHROME_TAGS = frozenset(("nav", "aside", "footer"))


def _drop_chrome_and_hidden(tree: HtmlElement) -> None:
    dropped = [
        el
        for el in tree.iterdescendants()
        if isinstance(el.tag, str) and (el.tag in _CHROME_TAGS or _hidden(el.attrib))
    ]
    for el in dropped:
        el.drop_tree()  # inner ones go with their outer one; dropping them again is harmless


def _xml_paragraphs(body: Any) -> list[str]:
    """The text of trafilatura's output tree as whitespace-collapsed paragraphs."""
    from lxml import etree

    out = _Paragraphs()
    for event, el in etree.iterwalk(body, events=("start", "end")):
        if el.tag in _XML_BLOCK:
            out.flush()
        elif el.tag == _XML_CELL:
            out.parts.append(" ")
        if event == "start":
            out.parts.append(el.text or "")
        elif el is not body:
            out.parts.append(el.tail or "")
    out.flush()
    return out.paragraphs


class _Paragraphs:
    """Text pieces gathered into whitespace-collapsed paragraphs, a `flush` ending each."""

    def __init__(self) -> None:
        self.paragraphs: list[str] = []
        self.parts: list[str] = []

    def flush(self) -> None:
        paragraph = " ".join("".join(self.parts).split())
        self.parts.clear()
        if paragraph:
            self.paragraphs.append(paragraph)


def _canonical(tree: HtmlElement) -> str:
    for link in tree.iterfind(".//link[@href]"):
        if "canonical" in (link.get("rel") or "").lower().split():
            return link.get("href", "").strip()
    return ""


def _language(tree: HtmlElement) -> str:
    lang = tree.get("lang") or tree.get("{http://www.w3.org/XML/1998/namespace}lang") or ""
    if not lang:
        for meta in tree.iterfind(".//meta[@content]"):
            key = (meta.get("http-equiv") or meta.get("property") or "").lower()
            if key in ("content-language", "og:locale"):
                lang = meta.get("content", "")
                break
    return lang.strip().replace("_", "-")


# ---------------------------------------------------------------------------------------------
# Fallback: the visible text of <article>/<main>, metadata from <meta> tags

# Never article text: code, chrome, forms, embedded media, and the <head> (its <title>
# is metadata).
_HTML_DROP = frozenset((
    "script", "style", "noscript", "template", "iframe", "svg", "canvas", "nav", "header",
    "footer", "aside", "form", "button", "select", "input", "textarea", "head", "title",
    "meta", "link", "object", "embed", "audio", "video",
))  # fmt: skip
# Elements that end a paragraph before and after themselves.
_HTML_BLOCK = frozenset((
    "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "dl", "dd", "dt",
    "blockquote", "pre", "table", "tr", "br", "hr", "section", "article", "main", "figure",
    "figcaption", "address", "details", "summary", "caption", "body", "html",
))  # fmt: skip
_HTML_CELL = frozenset(("td", "th"))  # adjacent cells must not glue their words together
_BREAK = object()  # stack marker: close the current paragraph


def _soup_page(html: str, rel: str) -> Page:
    import warnings

    from bs4 import BeautifulSoup, XMLParsedAsHTMLWarning

    with warnings.catch_warnings():
        # A saved page that opens with an XML declaration (XHTML) is still read as HTML.
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        soup = BeautifulSoup(html, "lxml")
    paragraphs = _paragraphs(soup)
    total = sum(map(len, paragraphs))
    # Prefer the article body when it holds most of the page's text; otherwise keep it all,
    # since a mis-marked <article> (a teaser, a comment) must not hide the story.
    for name in ("article", "main"):
        candidates = [_paragraphs(tag) for tag in _outermost(soup, name)]
        best = max(candidates, key=lambda paras: sum(map(len, paras)), default=[])
        if best and sum(map(len, best)) >= total / 2:
            paragraphs = best
            break
    if not paragraphs:
        raise SourceError(rel, "no text found")
    return Page("\n\n".join(paragraphs), _html_meta(soup))


def _hidden(attrs: Mapping[str, Any]) -> bool:
    """Whether an element with these attributes is hidden from a reader of the page."""
    if not attrs:
        return False
    if "hidden" in attrs or str(attrs.get("aria-hidden", "")).strip().lower() == "true":
        return True
    style = "".join(str(attrs.get("style", "")).split()).lower()
    return "display:none" in style or "visibility:hidden" in style


def _dropped(tag: Tag) -> bool:
    """Whether `tag` and everything inside it is not article text."""
    return tag.name in _HTML_DROP or _hidden(tag.attrs)


def _paragraphs(root: Tag) -> list[str]:
    """The visible text under `root` as whitespace-collapsed paragraphs.

    Iterative (explicit stack), so 100 000 nested elements cannot raise RecursionError.
    """
    from bs4.element import CData, NavigableString, PreformattedString, Tag

    out = _Paragraphs()
    stack: list[Any] = [root]
    while stack:
        node = stack.pop()
        if node is _BREAK:
            out.flush()
        elif isinstance(node, Tag):
            if node is not root and _dropped(node):
                continue
            if node.name in _HTML_BLOCK:
                out.flush()
                stack.append(_BREAK)
            elif node.name in _HTML_CELL:
                out.parts.append(" ")
            stack.extend(reversed(node.contents))
        elif isinstance(node, NavigableString) and (
            # Comments, doctypes and processing instructions are markup, not text.
            not isinstance(node, PreformattedString) or isinstance(node, CData)
        ):
            out.parts.append(str(node))
    out.flush()
    return out.paragraphs


def _outermost(root: Tag, name: str) -> list[Tag]:
    """Visible `name` elements not nested in another one (disjoint, so scanning them is linear)."""
    from bs4 import Tag

    found: list[Tag] = []
    stack = [root]
    while stack:
        for child in stack.pop().contents:
            if isinstance(child, Tag) and not _dropped(child):
                (found if child.name == name else stack).append(child)
    return found


def _html_meta(soup: Any) -> dict[str, str]:
    """Title, author, date, url and publisher from the usual <meta>/<link>/<time> places."""
    from bs4.element import Tag

    # One pass over the tree collects every candidate; each soup.find() would be another pass.
    metas: dict[str, str] = {}
    first_tag: dict[str, Tag] = {}  # first <title>, <h1>, <time datetime>, <link canonical>
    bylines: list[Tag] = []  # elements with rel="author"
    for node in soup.descendants:
        if not isinstance(node, Tag):
            continue
        name = node.name
        if name == "meta":
            content = node.get("content")
            for attr in ("property", "name", "itemprop"):
                key = node.get(attr)
                if isinstance(key, str) and key.strip() and isinstance(content, str):
                    metas.setdefault(key.strip().lower(), " ".join(content.split()))
        elif name in ("title", "h1") or (name == "time" and _attr(node, "datetime")):
            first_tag.setdefault(name, node)
        rel = node.get("rel")
        rels = {r.lower() for r in (rel if isinstance(rel, list) else str(rel or "").split())}
        if "author" in rels:
            bylines.append(node)
        if name == "link" and "canonical" in rels and _attr(node, "href"):
            first_tag.setdefault("canonical", node)

    def first(*keys: str) -> str:
        return next((metas[key] for key in keys if metas.get(key)), "")

    def text_of(key: str) -> str:
        tag = first_tag.get(key)
        return " ".join(tag.get_text(" ").split()) if tag is not None else ""

    author = first("author")
    if not author and not _looks_like_url(metas.get("article:author", "")):
        author = first("article:author")  # often a profile URL, which is no name
    if not author:
        bylines_text = (" ".join(tag.get_text(" ").split()) for tag in bylines)
        author = next(filter(None, bylines_text), "")
    time_tag = first_tag.get("time")
    canonical = first_tag.get("canonical")
    return {
        "title": first("og:title") or text_of("title") or text_of("h1"),
        "author": author,
        "date": first("article:published_time", "date", "pubdate", "datepublished", "dc.date")
        or (_attr(time_tag, "datetime") if time_tag is not None else ""),
        "url": (_attr(canonical, "href") if canonical is not None else "") or first("og:url"),
        "publisher": first("og:site_name"),
    }


def _attr(tag: Tag, name: str) -> str:
    value = tag.get(name)
    return value.strip() if isinstance(value, str) else ""


def _looks_like_url(value: str) -> bool:
    return value.startswith(("http://", "https://", "//"))
