"""Words and sentence ends as the cleaning rules count them, and the matching form of text.

`words_of` finds words (letters and digits, joined by an apostrophe, period or hyphen);
`SENTENCE_END_RE` and `PERIOD_END_RE` find a sentence-final stop, closing quotes and
brackets allowed after it. `is_prose` (a line with a sentence in it) and `normalize_for_match`
(the matching form of CONTRACT.md) are public: answering, grounding and evaluation use them too.

Left out on purpose: no sentence splitting (`rag.sentences` does that) and no language-specific
word rules; a "word" is a run of Unicode letters or digits in any script.
"""

from __future__ import annotations

import re
import unicodedata

_WORD_RE = re.compile(r"[^\W_]+(?:['’.\-][^\W_]+)*")
_CLOSERS = "\"'”’»)\\]*"
SENTENCE_END_RE = re.compile(f"[.!?…。！？][{_CLOSERS}]*$")
PERIOD_END_RE = re.compile(f"[.!…。！][{_CLOSERS}]*$")  # a statement, not a question

_MATCH_TABLE = str.maketrans(
    {
        **dict.fromkeys("‘’‚‛′`´", "'"),
        **dict.fromkeys("“”„‟″«»", '"'),
        **dict.fromkeys("‐‑‒–—―−⁃", "-"),
    }
)


def words_of(text: str) -> list[str]:
    return _WORD_RE.findall(text)


def is_prose(line: str) -> bool:
    """True for a sentence-bearing line: at least four words and sentence-final punctuation."""
    text = line.strip()
    return len(words_of(text)) >= 4 and bool(SENTENCE_END_RE.search(text))


def normalize_for_match(s: str) -> str:
    """CONTRACT.md matching form: NFKC, lower case, plain quotes and dashes, single spaces."""
    s = unicodedata.normalize("NFKC", s).lower().translate(_MATCH_TABLE)
    return " ".join(s.split())
