"""Safe characters: one raw line without invisible characters, with its map back to raw.

`sanitize(raw, a, b)` returns the stripped text of `raw[a:b]` and the runs of raw characters it
copies. It drops invisible characters (zero-width U+200B-U+200D, U+2060, U+FEFF; bidi controls;
Unicode tag characters; C0/C1 controls other than tab and newline) and replaces exotic spaces
(NBSP, U+1680, U+2000-U+200A, U+202F, U+205F, U+3000) by " " one for one. Those spaces are the
only characters where the text and the raw slice differ; since the replacement is 1:1, the map
stays exact for them. `LINE_BREAK_RE` says where lines end: "\\r\\n", "\\r", U+2028 and the like.
A ZWJ between two emoji is kept so emoji sequences survive.

Left out on purpose: no NFKC or any other rewriting, so quotes, dashes, emoji, variation
selectors and non-Latin scripts pass through untouched; deciding which lines to keep is
`classify`'s and the block rules' business.
"""

from __future__ import annotations

import re
import unicodedata

# (offset in the line's text, raw start, length): a stretch the text copies from raw verbatim
Run = tuple[int, int, int]

LINE_BREAK_RE = re.compile("\r\n|[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
_INVISIBLE = (
    "\u200b-\u200d\u2060\ufeff"  # zero-width
    "\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c"  # bidi controls
    "\U000e0000-\U000e007f"  # tag characters
    "\x00-\x08\x0e-\x1b\x1f\x7f-\x84\x86-\x9f"  # C0/C1 controls (line breaks handled above)
)
_INVISIBLE_RE = re.compile(f"[{_INVISIBLE}]")
_SPACE_RE = re.compile("[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")
_SPECIAL_RE = re.compile(f"[{_INVISIBLE}\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")


def _runs(raw_idx: list[int]) -> list[Run]:
    """Group consecutive raw indices into (text offset, raw start, length) runs."""
    out: list[Run] = []
    for pos, r in enumerate(raw_idx):
        if out and out[-1][1] + out[-1][2] == r:
            off, start, length = out[-1]
            out[-1] = (off, start, length + 1)
        else:
            out.append((pos, r, 1))
    return out


def _is_emojiish(ch: str) -> bool:
    return ord(ch) > 0x2000 and (ch == "\ufe0f" or unicodedata.category(ch) in ("So", "Sk"))


def sanitize(raw: str, a: int, b: int) -> tuple[str, list[Run]]:
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
