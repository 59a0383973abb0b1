"""Chunking: whole sentences packed into chunks of about `target` tokens.

`chunk_text(doc_id, text, sentences, count_tokens, count_pieces, target, max_pieces)` is
pure: the token counter (tiktoken) and the word-piece counter (the embedder's own
tokenizer, without special tokens) are passed in. Every chunk is a verbatim slice
`text[start:end]` of at most `max_pieces` word pieces, so the embedder never truncates it.
Word-piece counts add up across white space (BERT tokenizers split on it first), so a
chunk's count is the sum of its sentences' counts and each sentence is tokenized once.
A sentence too long for one chunk is cut at word boundaries (or, for a run with no
spaces, at characters) into pieces that fit. Chunks advance strictly: chunk i+1 starts
with at most the last `overlap` units of chunk i (fewer when the overlap would break the
target or the window), and the units outside the overlap cover the text exactly once.
It does not merge across documents or look at meaning.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .types import Chunk

Unit = tuple[int, int]


def chunk_text(
    doc_id: str,
    text: str,
    sentences: list[Unit],
    count_tokens: Callable[[str], int],
    count_pieces: Callable[[str], int],
    target: int,
    max_pieces: int,
    overlap: int = 1,
) -> list[Chunk]:
    """Pack `sentences` (spans into `text`) into chunks; see the module docstring."""
    limit = _Limit(count_tokens, count_pieces, target, max_pieces)
    units: list[Unit] = []
    tokens: list[int] = []
    pieces: list[int] = []
    for start, end in sentences:
        size = limit.size(text[start:end])  # each sentence is tokenized once, here
        fitting = limit.fits(size)
        for a, b in [(start, end)] if fitting else limit.split(text, start, end):
            t, p = size if fitting else limit.size(text[a:b])
            units.append((a, b))
            tokens.append(t)
            pieces.append(p)
    groups: list[list[int]] = []
    i = 0
    while i < len(units):
        # Overlap only with units the previous chunk did not start with, so chunks advance.
        first = max(i - overlap, groups[-1][0] + 1) if groups and overlap else i
        # Overlap may not push a chunk past the window or the target: drop it until it fits.
        while first < i and (
            sum(pieces[first : i + 1]) > max_pieces or sum(tokens[first : i + 1]) > target
        ):
            first += 1
        group = list(range(first, i + 1))
        j = i + 1
        while (
            j < len(units)
            and sum(tokens[u] for u in group) + tokens[j] <= target
            and sum(pieces[u] for u in group) + pieces[j] <= max_pieces
        ):
            group.append(j)
            j += 1
        groups.append(group)
        i = j
    return [
        Chunk(
            doc_id=doc_id,
            ordinal=n,
            start=units[g[0]][0],
            end=units[g[-1]][1],
            text=text[units[g[0]][0] : units[g[-1]][1]],
            sentences=[units[u] for u in g],
        )
        for n, g in enumerate(groups)
    ]


class _Limit:
    """Cuts a span that is over the token target or the window into pieces that are not."""

    def __init__(
        self,
        count_tokens: Callable[[str], int],
        count_pieces: Callable[[str], int],
        target: int,
        max_pieces: int,
    ) -> None:
        self.count_tokens, self.count_pieces = count_tokens, count_pieces
        self.target, self.max_pieces = target, max_pieces

    def size(self, piece: str) -> tuple[int, int]:
        """(tiktoken tokens, word pieces) of `piece`."""
        return self.count_tokens(piece), self.count_pieces(piece)

    def fits(self, size: tuple[int, int]) -> bool:
        return size[0] <= self.target and size[1] <= self.max_pieces

    def ok(self, piece: str) -> bool:
        return self.fits(self.size(piece))

    def split(self, text: str, start: int, end: int) -> list[Unit]:
        """The span itself when it fits, else word-boundary pieces that each fit."""
        if self.ok(text[start:end]):
            return [(start, end)]
        out: list[Unit] = []
        piece: Unit | None = None
        for word in re.finditer(r"\S+", text[start:end]):
            w = (start + word.start(), start + word.end())
            if piece is not None and self.ok(text[piece[0] : w[1]]):
                piece = (piece[0], w[1])
            elif self.ok(text[w[0] : w[1]]):
                out += [piece] if piece else []
                piece = w
            else:  # one enormous "word": cut it by characters
                out += ([piece] if piece else []) + self._split_chars(text, *w)
                piece = None
        return out + ([piece] if piece else [])

    def _split_chars(self, text: str, start: int, end: int) -> list[Unit]:
        out: list[Unit] = []
        while start < end:
            lo, hi = start + 1, end  # binary search for the longest prefix that fits
            while lo < hi:
                mid = (lo + hi + 1) // 2
                lo, hi = (mid, hi) if self.ok(text[start:mid]) else (lo, mid - 1)
            out.append((start, lo))
            start = lo
        return out
