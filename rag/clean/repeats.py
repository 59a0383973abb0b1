"""Repeated blocks: later exact or near copies of a line, and pull quotes, are dropped.

`drop_repeats` compares standalone lines (a whole paragraph or a complete sentence) in their
matching form: an exact copy of an earlier one goes; one of eight words or more also goes when
its word bigrams have a Jaccard similarity of 0.8 or more with an earlier line's (bigram counts
within a factor of 1.25). Then a standalone sentence of six words or more whose text stands
inside another kept line is a pull quote and goes. The first occurrence of a repeat stays.

Left out on purpose: lines of a hard-wrapped paragraph that are not complete sentences (PDF
text) are never compared, nor lines with fewer than three letters or digits; bigrams shared by
more than 64 lines are not used to find candidates, which keeps long documents fast.
"""

from __future__ import annotations

import re

from .lines import Line
from .words import SENTENCE_END_RE, normalize_for_match, words_of


def _standalone(line: Line, para_size: dict[int, int]) -> bool:
    """Whole-paragraph or complete-sentence lines; skips hard-wrapped fragments of PDFs."""
    complete = bool(SENTENCE_END_RE.search(line.text)) and not line.text[0].islower()
    return para_size[line.para] == 1 or complete


def _shingles(key: str) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", key)
    return {tuple(words[i : i + 2]) for i in range(max(len(words) - 1, 1))}


_THREE_ALNUM_RE = re.compile(r"[^\W_](?:\W*[^\W_]){2}")


def _jaccard(a: set[tuple[str, ...]], b: set[tuple[str, ...]]) -> float:
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


def drop_repeats(lines: list[Line]) -> None:
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
        if len(words_of(key)) < 8:
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


def _drop_pull_quotes(kept: list[Line], para_size: dict[int, int]) -> None:
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
        if len(words) < 6 or not SENTENCE_END_RE.search(ln.text) or not _standalone(ln, para_size):
            continue
        # interior words are whole words wherever `core` occurs, so their trigram is indexed
        hosts = trigrams.get(tuple(words[1:4]), set()) - {i}
        if any(core in keys[j] for j in hosts):
            ln.keep = False
