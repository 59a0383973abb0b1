"""Block rules: lines dropped because of the lines around them.

* `drop_captions`: the caption line that follows a photo credit (news sites render the credit,
  then its caption);
* `drop_link_lists`: a "Read also"/"Latest news"-style heading and the block of headline-like
  lines under it, and, without a heading, a trailing run of headlines with timestamps;
* `trim_edges`: chrome, labels, counters and one-word lines at the very start; the same and
  headline-like lines without a stop at the very end.

Each sets `Line.keep` to False and never back. Left out on purpose: repeated blocks
(`repeats`); titles, subtitles and bare author names are kept, and a lone title stays.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .classify import EDGE_KINDS
from .lines import Line
from .rules import LINK_HEADING_RE
from .words import PERIOD_END_RE, SENTENCE_END_RE, is_prose, words_of

_LIST_ITEM_RE = re.compile(r"^(?:[-–—•·*▪●◦‣]|\(?\d{1,3}[.)]|\(?[a-z][.)])\s")


def _link_like(line: Line) -> bool:
    """A headline, timestamp or chrome line as found in lists of links to other stories."""
    if line.kind != "text":
        return True
    return len(words_of(line.text)) <= 25 and not PERIOD_END_RE.search(line.text)


def drop_link_lists(lines: list[Line]) -> None:
    """Drop "Read also"/"Latest news" blocks and a trailing run of headlines with timestamps."""
    i = 0
    while i < len(lines):
        if not LINK_HEADING_RE.fullmatch(lines[i].text):
            i += 1
            continue
        j = i + 1
        while j < len(lines) and not (  # the article resumes at the next statement sentence
            lines[j].kind == "text"
            and len(words_of(lines[j].text)) >= 6
            and PERIOD_END_RE.search(lines[j].text)
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


def _share(lines: list[Line], pred: Callable[[Line], bool]) -> float:
    return sum(1 for ln in lines if pred(ln)) / len(lines)


def drop_captions(lines: list[Line]) -> None:
    """News sites render a photo credit, then its caption: drop the caption line too."""
    for i, line in enumerate(lines[:-1]):
        nxt = lines[i + 1]
        if (
            line.kind == "photo"
            and nxt.kind == "text"
            and len(words_of(nxt.text)) <= 60
            and SENTENCE_END_RE.search(nxt.text)
            and nxt.text[0] not in "\"“„«'‘-–—"
        ):
            nxt.keep = False


def trim_edges(lines: list[Line]) -> None:
    """Drop chrome-ish lines at the start and non-sentence lines at the end."""
    kept = [ln for ln in lines if ln.keep]
    for ln in kept:  # leading: chrome, labels, counters, single-word labels
        if ln.kind in EDGE_KINDS or (len(words_of(ln.text)) <= 1 and not is_prose(ln.text)):
            ln.keep = False
        else:
            break
    kept = [ln for ln in kept if ln.keep]
    for n, ln in enumerate(reversed(kept)):  # trailing: also headline-like lines without a stop
        titleish = (
            len(words_of(ln.text)) <= 20
            and not SENTENCE_END_RE.search(ln.text)
            and not _LIST_ITEM_RE.match(ln.text)
            and n < len(kept) - 1  # a lone title stays
        )
        if ln.kind in EDGE_KINDS or titleish:
            ln.keep = False
        else:
            break
