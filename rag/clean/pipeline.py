"""The cleaning pipeline: `clean()` runs the rules in order and assembles the `CleanText`.

Lines are split and classified (`lines`, `classify`); lines of a kind dropped everywhere go;
then captions after photo credits and link lists (`blocks`); then the edges are trimmed and
repeats dropped (`blocks`, `repeats`) in turn until a round drops nothing (six rounds at most),
since what one drops changes what the other sees (a new last line, a paragraph's size).

Left out on purpose: the rules themselves (the modules above); `drop_chrome=False` skips every
rule and keeps each line, only made safe.
"""

from __future__ import annotations

from ..types import CleanText
from .blocks import drop_captions, drop_link_lists, trim_edges
from .classify import DROP_KINDS
from .lines import assemble, split_lines
from .repeats import drop_repeats


def clean(text: str, drop_chrome: bool = True) -> CleanText:
    """Cleaned article text of `text` with spans mapping it back to `text`.

    With `drop_chrome` False the text is only made safe (line by line, see `safe`) and every
    line is kept: for text an extractor already cut down to the article body.
    """
    lines = split_lines(text)
    if not drop_chrome:
        return assemble(lines)
    for ln in lines:
        ln.keep = ln.kind not in DROP_KINDS
    drop_captions(lines)
    drop_link_lists(lines)
    for _ in range(6):  # repeats and edges can expose each other; settle to a fixed point
        trim_edges(lines)
        kept = sum(ln.keep for ln in lines)
        drop_repeats(lines)
        if sum(ln.keep for ln in lines) == kept:  # rules only ever drop lines
            break
    return assemble([ln for ln in lines if ln.keep])
