"""Remove publisher chrome from raw article text, keeping an exact map back to the raw text.

`clean(raw)` returns a `CleanText` built only from slices of `raw` joined by "\\n" (lines of one
paragraph) and "\\n\\n" (paragraphs), so every `Span` copies raw characters verbatim. It:

* makes the text safe: drops invisible characters and replaces exotic spaces by " " one for
  one, so the map stays exact; no NFKC (`safe`);
* strips each line and drops, by general rules rather than per-site strings: chrome phrases
  (subscribe/share/follow prompts, comment and reaction widgets, pagination, ads, copyright),
  bylines, date-only lines, counters, photo credits and the caption that follows a credit,
  "Read also"/"Latest news"-style link lists, trailing runs of headlines and timestamps,
  section labels and other non-sentence lines at the very start or end, and repeated blocks
  (exact or near-duplicate paragraphs, pull quotes repeated inside a paragraph).

`clean(raw, drop_chrome=False)` does the first step only and keeps every line: for text an
extractor already cut down to the article body (web pages read by trafilatura), where the
chrome rules measured worse (BENCHMARKS.md, "Saved pages").

One small module per concern, each a pure function of its input:

* `safe`: invisible characters, exotic spaces and line breaks; `sanitize` one raw line;
* `words`: words and sentence ends as the rules see them, `is_prose`, `normalize_for_match`;
* `rules`: the chrome phrase and pattern rules as constants (`CHROME_PHRASES`,
  `LINK_LIST_HEADINGS`, `SECTION_LABELS`, dates, photo credits, bylines, share bars);
* `classify`: the kind of one line on its own (chrome, time, credit, photo, label, text);
* `lines`: `Line`, raw text split into classified lines and kept lines joined back with
  their spans;
* `blocks`: rules that look at neighbouring lines (captions, link lists, the edges);
* `repeats`: exact and near-duplicate blocks and pull quotes;
* `pipeline`: `clean()`, the rules in order.

Left out on purpose: it works on whole lines and never edits inside one, so chrome glued to
article text on the same line stays (e.g. a "MOSCOW (Reuters) -" dateline); it does not undo
hard wraps or hyphenation; titles, subtitles and bare author names are kept.

Everything public is importable from `rag.clean`.
"""

from .pipeline import clean
from .rules import CHROME_PHRASES, LINK_LIST_HEADINGS, SECTION_LABELS
from .words import is_prose, normalize_for_match

__all__ = [
    "CHROME_PHRASES",
    "LINK_LIST_HEADINGS",
    "SECTION_LABELS",
    "clean",
    "is_prose",
    "normalize_for_match",
]
