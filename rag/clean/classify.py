"""Line classification: what one stripped line is, judged on its own.

`kind(text)` returns one `Kind`: "chrome" (a chrome phrase, a byline, a share bar), "time"
(a date or time alone, maybe labelled: "Updated 19 July 2024 - 15:06", "2 hours ago"),
"credit" and "photo" (a credit line; a photo credit, which a caption may follow), "label"
(a section or menu label), "nonverbal" (no letters at all: counters, rules, bullets) or
"text". `DROP_KINDS` are dropped wherever they occur; `EDGE_KINDS` only at the document's edges.

Left out on purpose: nothing here looks at neighbouring lines (captions, link lists, the edges
and repeats are `blocks` and `repeats`), and a line is classified whole, never edited inside,
so chrome glued to article text on the same line stays (e.g. a "MOSCOW (Reuters) -" dateline).
"""

from __future__ import annotations

import re
from typing import Literal

from .rules import (
    BYLINE_RE,
    CHROME_RE,
    CREDIT_RES,
    CREDIT_SUFFIX_RE,
    DATE_FILLER_RE,
    DATE_TIME_RE,
    MENU_SPLIT_RE,
    PHOTO_HINT_RE,
    PREPOSITIONS,
    SECTION_LABELS,
    SHARE_WORDS,
)
from .words import SENTENCE_END_RE, words_of

Kind = Literal["text", "chrome", "time", "credit", "photo", "label", "nonverbal"]

# Kinds dropped wherever they occur; "label" and "nonverbal" only at the document's edges.
DROP_KINDS: frozenset[Kind] = frozenset({"chrome", "time", "credit", "photo"})
EDGE_KINDS: frozenset[Kind] = DROP_KINDS | {"label", "nonverbal"}


def _is_timestamp(text: str) -> bool:
    """A line that is only a date/time ("19 July 2024 - 15:06", "2 hours ago"), maybe labelled."""
    if len(text) > 80 or not DATE_TIME_RE.search(text):
        return False
    rest = words_of(DATE_FILLER_RE.sub(" ", DATE_TIME_RE.sub(" ", text)))
    if len(rest) > 1 or any(ch.isdigit() for w in rest for ch in w):
        return False
    return not rest or rest[0].lower() not in PREPOSITIONS  # "In June 2024" is a phrase


def _credit_strength(text: str) -> int:
    """0: not a credit; 1: a credit line; 2: a photo credit (a caption may follow it)."""
    inner = text[1:-1].strip() if text[:1] in "([" and text[-1:] in ")]" else text
    inner = inner.rstrip(".")
    if (
        len(words_of(inner)) <= 12
        and not re.search(r"[.!?]\s", inner)
        and any(rx.fullmatch(inner) for rx in CREDIT_RES)
    ):
        return 2 if PHOTO_HINT_RE.search(text) else 1
    # a caption that carries its own credit: the whole line goes, nothing after it
    return 1 if len(words_of(text)) <= 80 and CREDIT_SUFFIX_RE.fullmatch(text) else 0


def _is_byline(text: str) -> bool:
    words = words_of(text)
    return bool(BYLINE_RE.match(text)) and len(words) <= 10 and not SENTENCE_END_RE.search(text)


def _is_share_bar(text: str) -> bool:
    words = [w.lower() for w in words_of(text)]
    return bool(words) and all(w in SHARE_WORDS for w in words)


def _is_menu(text: str) -> bool:
    """A line made only of section labels ("Politics", "World | Europe | Asia")."""
    parts = [p.strip().lower() for p in MENU_SPLIT_RE.split(text) if p.strip()]
    return bool(parts) and all(" ".join(p.split()) in SECTION_LABELS for p in parts)


def kind(text: str) -> Kind:
    """Classify one stripped, non-empty line: 'text' is kept unless later rules say otherwise."""
    if not any(ch.isalpha() for ch in text):
        return "time" if _is_timestamp(text) else "nonverbal"
    if len(words_of(text)) <= 25 and CHROME_RE.fullmatch(text):
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
