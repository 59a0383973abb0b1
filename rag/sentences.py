"""Sentence splitting: `split_sentences(text)` -> `[(start, end), ...]` character spans.

A pure, rule-based splitter for news prose in any script. Line breaks always end a
sentence (headings, list items and paragraphs stand alone). Inside a line a sentence
ends at `.`, `!`, `?` or `…` (plus closing quotes/brackets) when whitespace and a
plausible sentence opener follow, unless the word before is a known abbreviation or an
initial ("Mr.", "U.S.", "J. Smith"). Spans are trimmed of surrounding white space,
sorted, non-overlapping, and together cover every non-space character exactly once.
It does not detect sentence ends without punctuation inside a line; it does not split
on semicolons or colons.
"""

from __future__ import annotations

import re

# Lower-cased, without the final period. Titles, months, and common news abbreviations.
ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof sr jr st mt ft gen col lt sgt capt cmdr adm gov sen rep rev hon
    pres sec al etc vs e.g i.e approx dept est inc ltd co corp jan feb mar apr jun jul
    aug sep sept oct nov dec u.s u.k u.n e.u a.m p.m""".split()
)
# Abbreviations only when a number follows ("No. 5", "vol. 2"); otherwise ordinary words.
NUMBER_ABBREVIATIONS = frozenset({"no", "nos", "vol", "fig", "art", "p", "pp"})

# End punctuation, then any closing quotes/brackets, then white space, then an opener.
_BOUNDARY = re.compile(r"""[.!?…]+["'”’»)\]]*(?=\s+["'“‘«(\[]*[^\s\w]*[\w])""")
_WORD_BEFORE = re.compile(r"([\w.]+)\.$")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Split `text` into sentence spans; see the module docstring for the rules."""
    spans: list[tuple[int, int]] = []
    for line in re.finditer(r"[^\n]+", text):
        start = line.start()
        for match in _BOUNDARY.finditer(line.group()):
            end = line.start() + match.end()
            if _is_boundary(text[: line.end()], start, end, match.group()):
                _add_trimmed(spans, text, start, end)
                start = end
        _add_trimmed(spans, text, start, line.end())
    return spans


def _is_boundary(text: str, start: int, end: int, punct: str) -> bool:
    """False when a period belongs to an abbreviation or initial, or the next word is lower.

    `text` ends where the current line ends, so the next line cannot sway the decision.
    """
    rest = text[end:].lstrip()
    nxt = rest[:1]
    opener = next((c for c in rest[:4] if c.isalnum()), "")
    if opener.islower():
        return False
    if not punct.startswith(".") or "." not in punct.rstrip("\"'”’»)]"):
        return True
    before = _WORD_BEFORE.search(text[start:end].rstrip("\"'”’»)]"))
    if before is None:
        return True
    word = before.group(1).lower()
    if word in ABBREVIATIONS or (word in NUMBER_ABBREVIATIONS and rest[:1].isdigit()):
        return False
    if word.isdigit():  # "won 3. Fans" ends a sentence; "1. Item" opens a list item
        return text[start:end].strip() != f"{before.group(1)}."
    # A single letter ("J.") or dotted initials ("U.S.") before a capital: an initial,
    # unless a quote opens next.
    return not (
        re.fullmatch(r"(?:\w\.)*\w", word) and len(word.replace(".", "")) <= 3 and nxt not in '"“‘«'
    )


def _add_trimmed(spans: list[tuple[int, int]], text: str, start: int, end: int) -> None:
    piece = text[start:end]
    stripped = piece.strip()
    if stripped:
        lead = len(piece) - len(piece.lstrip())
        spans.append((start + lead, start + lead + len(stripped)))
