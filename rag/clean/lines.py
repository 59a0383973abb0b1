"""Lines with their raw map: raw text split into classified lines, kept lines joined back.

`split_lines(raw)` makes one `Line` per non-empty line of `raw` (sanitized and stripped by
`safe`, classified by `classify`), numbering paragraphs across blank lines; the rules then only
set `keep`. `assemble(lines)` joins lines with "\\n" inside a paragraph and "\\n\\n" between
paragraphs into a `CleanText` whose spans map every copied character back to `raw`.

Left out on purpose: lines are never merged or edited, so hard wraps and hyphenation stay as
they are in `raw`; a line's paragraph comes from blank lines only, not from indentation.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..types import CleanText, Span
from .classify import Kind, kind
from .safe import LINE_BREAK_RE, Run, sanitize


@dataclass
class Line:
    text: str  # stripped, sanitized
    runs: list[Run]  # where `text` comes from in raw
    para: int
    kind: Kind = "text"
    keep: bool = True


def split_lines(raw: str) -> list[Line]:
    """Non-empty stripped lines; `para` increases across blank lines."""
    lines: list[Line] = []
    para, start = 0, 0
    bounds = [(m.start(), m.end()) for m in LINE_BREAK_RE.finditer(raw)] + [(len(raw), len(raw))]
    for end, nxt in bounds:
        text, runs = sanitize(raw, start, end)
        if text:
            lines.append(Line(text, runs, para, kind(text)))
        elif lines and lines[-1].para == para:
            para += 1
        start = nxt
    return lines


def assemble(lines: list[Line]) -> CleanText:
    """The lines' texts joined by line and paragraph breaks, with spans back to raw."""
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
