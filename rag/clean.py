"""Remove publisher chrome from raw article text, keeping an exact map back to the raw text.

`clean(raw)` returns a `CleanText` built only from slices of `raw` joined by "\\n" (lines of one
paragraph) and "\\n\\n" (paragraphs), so every `Span` copies raw characters verbatim. It:

* makes the text safe: drops invisible characters (zero-width U+200B-U+200D, U+2060, U+FEFF;
  bidi controls; Unicode tag characters; C0/C1 controls other than tab and newline) and
  replaces exotic spaces (NBSP, U+2000-U+200A, U+202F, U+205F, U+3000) by " " one for one.
  Those spaces are the only characters where `text` and the raw slice differ; since the
  replacement is 1:1, `to_raw` stays exact for them. "\\r\\n", "\\r", U+2028 and the like end a
  line. A ZWJ between two emoji is kept so emoji sequences survive. No NFKC: quotes, dashes,
  emoji, variation selectors and non-Latin scripts pass through untouched;
* strips each line and drops, by general rules rather than per-site strings: chrome phrases
  (subscribe/share/follow prompts, comment and reaction widgets, pagination, ads, copyright),
  bylines, date-only lines, counters, photo credits and the caption that follows a credit,
  "Read also"/"Latest news"-style link lists, trailing runs of headlines and timestamps,
  section labels and other non-sentence lines at the very start or end, and repeated blocks
  (exact or near-duplicate paragraphs, pull quotes repeated inside a paragraph).

`clean(raw, drop_chrome=False)` does the first step only and keeps every line: for text an
extractor already cut down to the article body (web pages read by trafilatura), where the
chrome rules measured worse (BENCHMARKS.md, "Saved pages").

Left out on purpose: it works on whole lines and never edits inside one, so chrome glued to
article text on the same line stays (e.g. a "MOSCOW (Reuters) -" dateline); it does not undo
hard wraps or hyphenation; titles, subtitles and bare author names are kept.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from .types import CleanText, Span

__all__ = [
    "CHROME_PHRASES",
    "LINK_LIST_HEADINGS",
    "SECTION_LABELS",
    "clean",
    "is_prose",
    "normalize_for_match",
]

# --- character classes -------------------------------------------------------------------

_LINE_BREAK_RE = re.compile("\r\n|[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
_INVISIBLE = (
    "\u200b-\u200d\u2060\ufeff"  # zero-width
    "\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c"  # bidi controls
    "\U000e0000-\U000e007f"  # tag characters
    "\x00-\x08\x0e-\x1b\x1f\x7f-\x84\x86-\x9f"  # C0/C1 controls (line breaks handled above)
)
_INVISIBLE_RE = re.compile(f"[{_INVISIBLE}]")
_SPACE_RE = re.compile("[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")
_SPECIAL_RE = re.compile(f"[{_INVISIBLE}\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")

# --- line classifiers ----------------------------------------------------------------------

_WORD_RE = re.compile(r"[^\W_]+(?:['’.\-][^\W_]+)*")
_CLOSERS = "\"'”’»)\\]*"
_SENTENCE_END_RE = re.compile(f"[.!?…。！？][{_CLOSERS}]*$")
_PERIOD_END_RE = re.compile(f"[.!…。！][{_CLOSERS}]*$")  # a statement, not a question
_LIST_ITEM_RE = re.compile(r"^(?:[-–—•·*▪●◦‣]|\(?\d{1,3}[.)]|\(?[a-z][.)])\s")

# Full-line patterns (case-insensitive) for site chrome, in several common wordings.
CHROME_PHRASES: tuple[str, ...] = (
    r"(?:please\s+)?(?:subscribe|sign\s+up|join|follow)(?:\s+(?:now|today|us|here|for\s+free))*"
    r"(?:\s+(?:to|for|on|in|at|via)\s+.{0,60})?",
    r"share(?:\s+(?:this|the))?(?:\s+(?:article|story|post|page))?(?:\s+(?:on|via|with)\s+.{0,40})?",
    r"(?:\d+\s+)?(?:comments?|reactions?|replies|likes?|shares?|views?|votes?)(?:\s*[:(]?\s*\d+\)?)?",
    r"already\s+(?:reacted|voted|liked|rated)\b.*",
    r"(?:please\s+)?(?:log\s*in|sign\s*in|register)(?:\s+(?:or|and)\s+(?:register|sign\s*up|log\s*in|"
    r"sign\s*in))?(?:\s+to\s+.{0,40})?",
    r"you\s+must\s+be\s+(?:logged|signed)\s+in\b.*",
    r"your\s+email\s+address\s+will\s+not\s+be\s+published\b.*",
    r"required\s+fields\s+are\s+marked\b.*",
    r"(?:leave|post|add|write)\s+a\s+(?:comment|reply|review)\b.*",
    r"(?:(?:previous|prev\.?|next|older|newer)\s*(?:article|post|story|page|entry)?\s*[»«›‹<>]*\s*)+",
    r"(?:all|more|latest|other)\s+(?:news|stories|articles|posts|headlines)",
    r"advertisement|advertising|sponsored(?:\s+content)?|ad|promoted|partner\s+content",
    r"skip\s+to\s+(?:main\s+)?content|back\s+to\s+top|(?:jump|scroll)\s+to\s+.{0,30}",
    r"(?:read|see)\s+(?:more|also|next)(?:\s*[:|»›>\-–—]\s*.{0,150})?",
    r"also\s+read(?:\s*[:|»›>\-–—]\s*.{0,150})?",
    r"(?:click|tap)\s+here\b.*",
    r"listen\s+to\s+(?:this\s+)?(?:article|story)\b.*|\d+\s*min(?:ute)?s?\s+read|reading\s+time\b.*",
    r"(?:©|\(c\)\s|copyright\b).*|.{0,80}all\s+rights\s+reserved\.?",
    r"(?:tags?|topics?|filed\s+under|categories|category)\s*:.*",
    r"(?:privacy\s+policy|terms\s+(?:of\s+(?:use|service)|and\s+conditions)|cookie\s+(?:policy|"
    r"settings)|accept(?:\s+all)?\s+cookies|we\s+use\s+cookies)\b.*",
    r"loading\W*|please\s+wait\W*",
    r".{1,40}\s+on\s+(?:youtube|telegram|facebook|twitter|x|instagram|tiktok|whatsapp|linkedin|"
    r"google\s+news)",
    r"(?:download|get)\s+(?:our|the)\s+(?:free\s+)?app\b.*",
    r"(?:story|article)\s+continues\s+(?:below|after).*",
    r"(?:show|hide)\s+(?:comments|caption|more|less)",
    r"continue\s+reading\b.*|reuse\s+this\s+content|ad\s+feedback|link\s+copied\W*",
    r"(?:watch|listen)\s*:\s*.{1,150}|page\s+\d+\s+(?:of|/)\s+\d+|toggle\s+navigation",
    r".{0,80}\b(?:to|in)\s+your\s+inbox\b.{0,40}",
    r".{1,80}\bcontributed\s+(?:to\s+)?(?:this\s+)?(?:report|story|article)(?:ing)?",
    r"(?:additional\s+)?(?:reporting|writing|editing)\s+by\s+.{1,150}",
)
_CHROME_RE = re.compile(r"(?:" + "|".join(CHROME_PHRASES) + r")\s*[.!:]?", re.I)

# Headings that open a block of links to other stories.
LINK_LIST_HEADINGS: tuple[str, ...] = (
    r"(?:read|see)\s+(?:also|more|next)",
    r"also\s+read",
    r"related(?:\s+(?:articles?|stories|story|news|posts?|topics|coverage|content|links|reading))?",
    r"more\s+(?:stories|news|articles|headlines|like\s+this|to\s+read|"
    r"on\s+(?:this|these)(?:\s+(?:topics?|story|stories|subjects?|issues?))?|"
    r"from\s+.{1,40}|in\s+.{1,30})",
    r"explore\s+more\b.{0,40}",
    r"(?:the\s+)?(?:latest|top|other|breaking|more|recent)(?:\s+(?:news|stories|headlines|articles|"
    r"posts))?",
    r"you\s+(?:may|might|could)\s+(?:also\s+)?(?:like|enjoy|be\s+interested\s+in)",
    r"most\s+(?:read|popular|viewed|shared|commented)|popular(?:\s+(?:now|posts|stories|articles))?",
    r"trending(?:\s+(?:now|stories|news|articles|topics))?",
    r"recommended(?:\s+(?:for\s+you|stories|articles|reading))?",
    r"editor'?s'?\s+picks?|editors'?\s+choice|(?:don't|do\s+not)\s+miss",
    r"further\s+reading|in\s+other\s+news|what\s+to\s+read\s+next|must\s+read|keep\s+reading",
    r"all\s+news|news\s+feed",
)
_LINK_HEADING_RE = re.compile(r"(?:" + "|".join(LINK_LIST_HEADINGS) + r")\s*[:»›>.]*", re.I)

# Section/menu labels: dropped only at the document's edges or as a whole menu line.
SECTION_LABELS = frozenset(
    {
        "news",
        "politics",
        "geopolitics",
        "world",
        "business",
        "economy",
        "economics",
        "opinion",
        "opinions",
        "analysis",
        "analytics",
        "sport",
        "sports",
        "tech",
        "technology",
        "science",
        "health",
        "culture",
        "lifestyle",
        "entertainment",
        "travel",
        "europe",
        "asia",
        "africa",
        "americas",
        "us",
        "uk",
        "home",
        "video",
        "videos",
        "photos",
        "gallery",
        "live",
        "latest",
        "features",
        "editorial",
        "commentary",
        "interview",
        "interviews",
        "region",
        "regions",
        "society",
        "security",
        "environment",
        "climate",
        "markets",
        "finance",
        "breaking",
        "exclusive",
        "blog",
        "blogs",
        "podcast",
        "podcasts",
        "magazine",
        "local",
        "national",
        "international",
        "investigations",
        "explainer",
        "reviews",
        "columns",
        "defense",
        "defence",
        "diplomacy",
        "military",
        "energy",
        "menu",
        "search",
        "topics",
        "tags",
        "share",
        "comments",
        "subscribe",
        "middle east",
        "central asia",
        "world news",
    }
)
_MENU_SPLIT_RE = re.compile(r"\s*[|/•·>»›,]\s*|\s{2,}")

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DATE_TIME_RE = re.compile(
    rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH},?(?:\s+\d{{4}})?\b"
    rf"|\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?\b(?:,?\s+\d{{4}}\b)?"
    rf"|\b{_MONTH}\s+\d{{4}}\b"
    r"|\b\d{4}[-./]\d{1,2}[-./]\d{1,2}(?:T[\d:.]+Z?)?\b|\b\d{1,2}[-./]\d{1,2}[-./]\d{2,4}\b"
    r"|\b\d{1,2}:\d{2}(?::\d{2})?(?:\s*[ap]\.?m\b\.?)?(?:\s*(?-i:[A-Z]{1,4}T)(?:[+-]\d{1,2})?)?"
    r"|\b(?:\d+|an?|one|few)\s+(?:sec(?:ond)?s?|min(?:ute)?s?|h(?:ou)?rs?|days?|weeks?|months?|"
    r"years?)\s+ago\b|\b(?:just\s+now|yesterday|today)\b"
    r"|\b(?:mon|tues|wednes|thurs|fri|satur|sun)day\b",
    re.I,
)
_PREPOSITIONS = frozenset(
    {"in", "since", "from", "until", "till", "by", "before", "after", "during", "as", "of", "to"}
)
_DATE_FILLER_RE = re.compile(
    r"\b(?:last\s+)?(?:updated|published|posted|modified|at|on|mon|tue|wed|thu|fri|sat|sun)\b"
    r"|[\s,.;|·•\-–—/:()\[\]]+",
    re.I,
)

_AGENCIES = (
    r"(?:AP(?:\s+Photo)?|AFP|Reuters|Getty(?:\s+Images)?|EPA(?:-EFE)?|EFE|Bloomberg|Shutterstock|"
    r"Alamy|TASS|Sputnik|RIA\s+Novosti|Anadolu(?:\s+Agency)?|Xinhua|NurPhoto|SOPA\s+Images|"
    r"ZUMA(?:\s+(?:Press|Wire))?|PA(?:\s+(?:Images|Wire|Media))?|Pool|iStock(?:photo)?|DPA|ANSA|"
    r"Kyodo|Yonhap|UPI|Associated\s+Press|Handout|Wikimedia\s+Commons|Unsplash|Sipa(?:\s+USA)?|"
    r"LightRocket|WireImage|Kremlin\.ru|Imago|Abaca)"
)
_CREDIT_RES = (  # full-line, optionally in parentheses or brackets
    re.compile(
        r"(?:(?:file\s+)?photo(?:graph)?s?|images?|pictures?|pic|illustration|video|"
        r"(?:photo|image)\s+credit|credits?)\s*(?::|by\b|/|–|—|-|courtesy(?:\s+of)?)\s*.{1,80}",
        re.I,
    ),
    re.compile(
        rf"(?:.{{1,60}}?\s*/\s*|.{{1,60}}\s+(?:via|for)\s+)?{_AGENCIES}(?:\s*/\s*.{{1,60}})?"
    ),
    re.compile(r"[A-Z][\w.'’-]+(?:\s+[A-Z][\w.'’-]+){1,3}\s*/\s*[A-Z][\w.&'’ -]{1,40}"),
    re.compile(r"courtesy(?:\s+of)?\s+.{1,60}", re.I),
)
# A caption with its credit at the end of the same line ("... Photograph: Name/Reuters").
_CREDIT_SUFFIX_RE = re.compile(
    r".*\b(?:Photograph|Photo|Image|Illustration|Picture)(?:\s+credit)?\s*:\s*[A-Z][^.!?]{1,60}"
)
_PHOTO_HINT_RE = re.compile(r"/|\bphoto|\bimage|\bvia\b|\bgetty\b|\bcredit|^[(\[]", re.I)
_BYLINE_RE = re.compile(r"(?:[Bb]y|BY|[Ww]ritten\s+by|[Ww]ords\s+by|[Aa]uthor:)\s+[A-ZА-ЯЁ]")


def _words(text: str) -> list[str]:
    return _WORD_RE.findall(text)


def is_prose(line: str) -> bool:
    """True for a sentence-bearing line: at least four words and sentence-final punctuation."""
    text = line.strip()
    return len(_words(text)) >= 4 and bool(_SENTENCE_END_RE.search(text))


def normalize_for_match(s: str) -> str:
    """CONTRACT.md matching form: NFKC, lower case, plain quotes and dashes, single spaces."""
    s = unicodedata.normalize("NFKC", s).lower().translate(_MATCH_TABLE)
    return " ".join(s.split())


_MATCH_TABLE = str.maketrans(
    {
        **dict.fromkeys("‘’‚‛′`´", "'"),
        **dict.fromkeys("“”„‟″«»", '"'),
        **dict.fromkeys("‐‑‒–—―−⁃", "-"),
    }
)


def _is_timestamp(text: str) -> bool:
    """A line that is only a date/time ("19 July 2024 - 15:06", "2 hours ago"), maybe labelled."""
    if len(text) > 80 or not _DATE_TIME_RE.search(text):
        return False
    rest = _words(_DATE_FILLER_RE.sub(" ", _DATE_TIME_RE.sub(" ", text)))
    if len(rest) > 1 or any(ch.isdigit() for w in rest for ch in w):
        return False
    return not rest or rest[0].lower() not in _PREPOSITIONS  # "In June 2024" is a phrase


def _credit_strength(text: str) -> int:
    """0: not a credit; 1: a credit line; 2: a photo credit (a caption may follow it)."""
    inner = text[1:-1].strip() if text[:1] in "([" and text[-1:] in ")]" else text
    inner = inner.rstrip(".")
    if (
        len(_words(inner)) <= 12
        and not re.search(r"[.!?]\s", inner)
        and any(rx.fullmatch(inner) for rx in _CREDIT_RES)
    ):
        return 2 if _PHOTO_HINT_RE.search(text) else 1
    # a caption that carries its own credit: the whole line goes, nothing after it
    return 1 if len(_words(text)) <= 80 and _CREDIT_SUFFIX_RE.fullmatch(text) else 0


def _is_byline(text: str) -> bool:
    words = _words(text)
    return bool(_BYLINE_RE.match(text)) and len(words) <= 10 and not _SENTENCE_END_RE.search(text)


_SHARE_WORDS = frozenset(
    {
        "share",
        "tweet",
        "print",
        "email",
        "e-mail",
        "facebook",
        "twitter",
        "x",
        "whatsapp",
        "telegram",
        "linkedin",
        "reddit",
        "pinterest",
        "vk",
        "messenger",
        "flipboard",
        "copy",
        "link",
        "comment",
        "comments",
        "save",
        "bookmark",
    }
)


def _is_share_bar(text: str) -> bool:
    words = [w.lower() for w in _words(text)]
    return bool(words) and all(w in _SHARE_WORDS for w in words)


def _is_menu(text: str) -> bool:
    """A line made only of section labels ("Politics", "World | Europe | Asia")."""
    parts = [p.strip().lower() for p in _MENU_SPLIT_RE.split(text) if p.strip()]
    return bool(parts) and all(" ".join(p.split()) in SECTION_LABELS for p in parts)


def _kind(text: str) -> str:
    """Classify one stripped, non-empty line: 'text' is kept unless later rules say otherwise."""
    if not any(ch.isalpha() for ch in text):
        return "time" if _is_timestamp(text) else "nonverbal"
    if len(_words(text)) <= 25 and _CHROME_RE.fullmatch(text):
        return "chrome"
    if _is_timestamp(text):
        return "time"
    strength = _credit_strength(text)
    if strength:
        return "photo" if strength == 2 else "credit"
    if _is_byline(text) or _is_share_bar(text):
        return "chrome"
    if _is_menu(text):
        return "label"
    return "text"


# Kinds dropped wherever they occur; "label" and "nonverbal" only at the document's edges.
_DROP_KINDS = frozenset({"chrome", "time", "credit", "photo"})
_EDGE_KINDS = _DROP_KINDS | {"label", "nonverbal"}

# --- lines with their raw map -------------------------------------------------------------


@dataclass
class _Line:
    text: str  # stripped, sanitized
    runs: list[tuple[int, int, int]]  # (offset in text, raw start, length)
    para: int
    kind: str = "text"
    keep: bool = True


def _runs(raw_idx: list[int]) -> list[tuple[int, int, int]]:
    """Group consecutive raw indices into (text offset, raw start, length) runs."""
    out: list[tuple[int, int, int]] = []
    for pos, r in enumerate(raw_idx):
        if out and out[-1][1] + out[-1][2] == r:
            off, start, length = out[-1]
            out[-1] = (off, start, length + 1)
        else:
            out.append((pos, r, 1))
    return out


def _is_emojiish(ch: str) -> bool:
    return ord(ch) > 0x2000 and (ch == "\ufe0f" or unicodedata.category(ch) in ("So", "Sk"))


def _sanitize(raw: str, a: int, b: int) -> tuple[str, list[tuple[int, int, int]]]:
    """Stripped text of raw[a:b] without invisible characters, plus its runs in raw."""
    if not _SPECIAL_RE.search(raw, a, b):  # fast path: a plain slice
        seg = raw[a:b]
        lead = len(seg) - len(seg.lstrip())
        text = seg.strip()
        return text, ([(0, a + lead, len(text))] if text else [])
    chars: list[str] = []
    idx: list[int] = []
    for i in range(a, b):
        ch = raw[i]
        if _SPACE_RE.match(ch):
            ch = " "
        elif _INVISIBLE_RE.match(ch) and not (  # a ZWJ joining two emoji belongs to the emoji
            ch == "\u200d"
            and a < i < b - 1
            and _is_emojiish(raw[i - 1])
            and _is_emojiish(raw[i + 1])
        ):
            continue
        chars.append(ch)
        idx.append(i)
    text = "".join(chars)
    lead = len(text) - len(text.lstrip())
    stripped = text.strip()
    return stripped, _runs(idx[lead : lead + len(stripped)])


def _split_lines(raw: str) -> list[_Line]:
    """Non-empty stripped lines; `para` increases across blank lines."""
    lines: list[_Line] = []
    para, start = 0, 0
    bounds = [(m.start(), m.end()) for m in _LINE_BREAK_RE.finditer(raw)] + [(len(raw), len(raw))]
    for end, nxt in bounds:
        text, runs = _sanitize(raw, start, end)
        if text:
            lines.append(_Line(text, runs, para, _kind(text)))
        elif lines and lines[-1].para == para:
            para += 1
        start = nxt
    return lines


# --- block rules ---------------------------------------------------------------------------


def _link_like(line: _Line) -> bool:
    """A headline, timestamp or chrome line as found in lists of links to other stories."""
    if line.kind != "text":
        return True
    return len(_words(line.text)) <= 25 and not _PERIOD_END_RE.search(line.text)


def _drop_link_lists(lines: list[_Line]) -> None:
    """Drop "Read also"/"Latest news" blocks and a trailing run of headlines with timestamps."""
    i = 0
    while i < len(lines):
        if not _LINK_HEADING_RE.fullmatch(lines[i].text):
            i += 1
            continue
        j = i + 1
        while j < len(lines) and not (  # the article resumes at the next statement sentence
            lines[j].kind == "text"
            and len(_words(lines[j].text)) >= 6
            and _PERIOD_END_RE.search(lines[j].text)
        ):
            j += 1
        block = [ln for ln in lines[i + 1 : j] if ln.keep or ln.kind != "text"]
        if block and _share(block, _link_like) >= 0.6 and (len(block) >= 2 or j == len(lines)):
            for ln in lines[i:j]:
                ln.keep = False
        i = j
    # no heading: a tail made of headline-like lines interleaved with timestamps
    k = len(lines)
    while k > 0 and _link_like(lines[k - 1]):
        k -= 1
    tail = lines[k:]
    times = sum(ln.kind == "time" for ln in tail)
    if times >= 2 and sum(ln.kind == "text" for ln in tail) >= 2:
        for ln in tail:
            ln.keep = False


def _share(lines: list[_Line], pred: Callable[[_Line], bool]) -> float:
    return sum(1 for ln in lines if pred(ln)) / len(lines)


def _drop_captions(lines: list[_Line]) -> None:
    """News sites render a photo credit, then its caption: drop the caption line too."""
    for i, line in enumerate(lines[:-1]):
        nxt = lines[i + 1]
        if (
            line.kind == "photo"
            and nxt.kind == "text"
            and len(_words(nxt.text)) <= 60
            and _SENTENCE_END_RE.search(nxt.text)
            and nxt.text[0] not in "\"“„«'‘-–—"
        ):
            nxt.keep = False


def _trim_edges(lines: list[_Line]) -> None:
    """Drop chrome-ish lines at the start and non-sentence lines at the end."""
    kept = [ln for ln in lines if ln.keep]
    for ln in kept:  # leading: chrome, labels, counters, single-word labels
        if ln.kind in _EDGE_KINDS or (len(_words(ln.text)) <= 1 and not is_prose(ln.text)):
            ln.keep = False
        else:
            break
    kept = [ln for ln in kept if ln.keep]
    for n, ln in enumerate(reversed(kept)):  # trailing: also headline-like lines without a stop
        titleish = (
            len(_words(ln.text)) <= 20
            and not _SENTENCE_END_RE.search(ln.text)
            and not _LIST_ITEM_RE.match(ln.text)
            and n < len(kept) - 1  # a lone title stays
        )
        if ln.kind in _EDGE_KINDS or titleish:
            ln.keep = False
        else:
            break


def _standalone(line: _Line, para_size: dict[int, int]) -> bool:
    """Whole-paragraph or complete-sentence lines; skips hard-wrapped fragments of PDFs."""
    complete = bool(_SENTENCE_END_RE.search(line.text)) and not line.text[0].islower()
    return para_size[line.para] == 1 or complete


def _shingles(key: str) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", key)
    return {tuple(words[i : i + 2]) for i in range(max(len(words) - 1, 1))}


_THREE_ALNUM_RE = re.compile(r"[^\W_](?:\W*[^\W_]){2}")


def _jaccard(a: set[tuple[str, ...]], b: set[tuple[str, ...]]) -> float:
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


def _drop_repeats(lines: list[_Line]) -> None:
    """Later exact or near copies of a block, and standalone pull quotes, are dropped."""
    kept = [ln for ln in lines if ln.keep]
    para_size: dict[int, int] = {}
    for ln in kept:
        para_size[ln.para] = para_size.get(ln.para, 0) + 1
    seen: set[str] = set()
    posting: dict[tuple[str, ...], list[int]] = {}
    shingle_sets: list[set[tuple[str, ...]]] = []
    for ln in kept:
        key = normalize_for_match(ln.text)
        if not _standalone(ln, para_size) or not _THREE_ALNUM_RE.search(key):
            continue
        if key in seen:
            ln.keep = False
            continue
        seen.add(key)
        if len(_words(key)) < 8:
            continue
        sh = _shingles(key)
        # a near copy shares most bigrams, so rare ones find it; common ones would be slow
        cands = {j for s in sh if len(posting.get(s, ())) <= 64 for j in posting.get(s, ())}
        if any(
            0.8 <= len(sh) / len(shingle_sets[j]) <= 1.25 and _jaccard(sh, shingle_sets[j]) >= 0.8
            for j in cands
        ):
            ln.keep = False
            continue
        for s in sh:
            posting.setdefault(s, []).append(len(shingle_sets))
        shingle_sets.append(sh)
    _drop_pull_quotes([ln for ln in lines if ln.keep], para_size)


def _drop_pull_quotes(kept: list[_Line], para_size: dict[int, int]) -> None:
    """A standalone sentence whose words also stand inside another paragraph is a pull quote."""
    keys = [normalize_for_match(ln.text) for ln in kept]
    # index word trigrams so each candidate is only searched for in lines that could hold it
    trigrams: dict[tuple[str, ...], set[int]] = {}
    for i, key in enumerate(keys):
        words = re.findall(r"\w+", key)
        for k in range(len(words) - 2):
            trigrams.setdefault(tuple(words[k : k + 3]), set()).add(i)
    for i, (ln, key) in enumerate(zip(kept, keys, strict=True)):
        core = key.strip(" \"'-.,;:!?…•*")
        words = re.findall(r"\w+", core)
        if len(words) < 6 or not _SENTENCE_END_RE.search(ln.text) or not _standalone(ln, para_size):
            continue
        # interior words are whole words wherever `core` occurs, so their trigram is indexed
        hosts = trigrams.get(tuple(words[1:4]), set()) - {i}
        if any(core in keys[j] for j in hosts):
            ln.keep = False


# --- entry point ---------------------------------------------------------------------------


def clean(text: str, drop_chrome: bool = True) -> CleanText:
    """Cleaned article text of `text` with spans mapping it back to `text`.

    With `drop_chrome` False the text is only made safe (line by line, as above) and every
    line is kept: for text an extractor already cut down to the article body.
    """
    lines = _split_lines(text)
    if not drop_chrome:
        return _assemble(lines)
    for ln in lines:
        ln.keep = ln.kind not in _DROP_KINDS
    _drop_captions(lines)
    _drop_link_lists(lines)
    for _ in range(6):  # repeats and edges can expose each other; settle to a fixed point
        _trim_edges(lines)
        kept = sum(ln.keep for ln in lines)
        _drop_repeats(lines)
        if sum(ln.keep for ln in lines) == kept:  # rules only ever drop lines
            break
    return _assemble([ln for ln in lines if ln.keep])


def _assemble(lines: list[_Line]) -> CleanText:
    parts: list[str] = []
    spans: list[Span] = []
    pos = 0
    for i, ln in enumerate(lines):
        if i:
            sep = "\n" if ln.para == lines[i - 1].para else "\n\n"
            parts.append(sep)
            pos += len(sep)
        spans.extend(Span(pos + off, start, length) for off, start, length in ln.runs)
        parts.append(ln.text)
        pos += len(ln.text)
    return CleanText("".join(parts), spans)
